"""``bharnet live``: actions from a camera, stream or file, in real time."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bharnet.cli.flags import add_mirror_flags, add_model_flags, positive_float, positive_int
from bharnet.core.interrupts import ctrl_c_deferred
from bharnet.core.jsontext import json_text
from bharnet.core.words import plural
from bharnet.video.search import HAND_SEARCHES


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = subparsers.add_parser(
        "live", help="recognise actions from a camera in real time",
        description="Pose and hands per frame (MediaPipe, as bharnet predict), the checkpoint on a sliding window "
                    "every stride; an overlay window where a display exists (see docs/live.md).")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--source", default="0", help="camera index, stream URL or video file (played at its frame "
                                                 "rate); default 0, the first camera")
    p.add_argument("--window", type=positive_float, default=3.0, help="seconds the model sees (default 3)")
    p.add_argument("--stride", type=positive_float, default=0.5, help="seconds between decisions (default 0.5)")
    p.add_argument("--top", type=positive_int, default=3, help="classes shown and reported (default 3)")
    p.add_argument("--render", type=Path, metavar="OUT.mp4", help="write the overlay to this video")
    p.add_argument("--json", action="store_true", help="one JSON line per decision on stdout, a summary at the end")
    p.add_argument("--no-display", action="store_true", help="no overlay window even where a display exists")
    p.add_argument("--seconds", type=positive_float,
                   help="stop after this many seconds (default: when the source ends)")
    p.add_argument("--people", type=positive_int, help="people the pose landmarker follows (default: as many as "
                                                        "the checkpoint's samples hold); with one person in front "
                                                        "of the camera, --people 1 halves the pose landmarker's "
                                                        "time on a two-person checkpoint")
    p.add_argument("--hand-search", default="live", choices=tuple(HAND_SEARCHES),
                   help="live (default): a bounded search per frame; full: bharnet predict's search, which also "
                        "follows a hand found again back into the frames it was missed (more hands, about twice "
                        "the CPU)")
    add_model_flags(p, pose_sizes=True)
    add_mirror_flags(p)
    p.add_argument("--backend", default="auto", choices=("auto", "onnx", "eager"),
                   help="how the network runs: ONNX Runtime (auto where installed) or PyTorch")
    p.add_argument("--device", help="for --backend eager: cpu, cuda, ... (default: the GPU when there is one)")
    p.set_defaults(func=_live)


def _live(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.video.live_loop import no_decision
        from bharnet.workflows.live import live

    def report(decision) -> None:
        if args.json:
            print(json_text(decision.as_dict()), flush=True)
        else:
            names = ", ".join(f"{name} {p:.2f}" for name, p in decision.top)
            print(f"{decision.time:7.2f}s  {names}  ({decision.latency_ms:.0f} ms)", flush=True)

    stats = live(args.checkpoint, args.source, window_seconds=args.window, stride_seconds=args.stride,
                 top=args.top, render=args.render, display=not args.no_display, max_seconds=args.seconds,
                 on_decision=report, log=lambda message: print(message, file=sys.stderr), pose_model=args.pose_model,
                 hand_model=args.hand_model, backend=args.backend, device=args.device, mirrored=args.mirrored,
                 people=args.people, hand_search=args.hand_search)
    summary = stats.summary()
    if args.json:
        print(json_text({"summary": summary}), flush=True)
    else:
        latency = (f"latency p50 {summary['latency_ms_p50']} ms / p95 {summary['latency_ms_p95']} ms"
                   if stats.decisions else "no latency")
        print(f"{plural(summary['frames_processed'], 'frame')} at {summary['fps']} fps "
              f"({summary['frames_dropped']} dropped), {plural(summary['decisions'], 'decision')}, {latency}",
              file=sys.stderr)
    reason = no_decision(stats, str(args.source))
    if reason:
        print(f"bharnet live: {reason}", file=sys.stderr)
        return 1
    return 0
