"""Subcommands: ``extract-hands`` (hand keypoints from RGB videos)."""

from __future__ import annotations

import argparse

from bharnet.cli.flags import add_batch_flags, add_mirror_flags, add_model_flags, non_negative_int, positive_int
from bharnet.core.console import console
from bharnet.core.interrupts import ctrl_c_deferred
from bharnet.core.jsontext import json_text


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = subparsers.add_parser(
        "extract-hands", help="extract the two hands of the most active person from RGB videos",
        description="Per video, write <OUT>/<video stem>.npz with (T, 2, 21, 3) hand keypoints (see docs/hands.md).")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="video files or folders of videos")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--skeletons", help="folder of NTU .skeleton files (SxxxCxxxPxxxRxxxAxxx.skeleton) that locate "
                                       "the bodies; videos without one use the pose landmarker")
    add_batch_flags(p)
    add_model_flags(p)
    p.add_argument("--max-gap", type=non_negative_int, default=5,
                   help="fill gaps of at most this many frames (default 5)")
    p.add_argument("--people", type=positive_int, default=1, help="hands of this many people, the most active "
                   "first (default 1, the paper's; the k-th goes to <stem>.person<k>.npz)")
    p.add_argument("--frame-step", type=positive_int, default=1,
                   help="look for hands in every N-th frame and interpolate between (default 1: every frame; "
                        "2 is 1.3-1.7x faster, see docs/hands.md)")
    p.add_argument("--preview", metavar="DIR", help="also write a contact sheet per video, DIR/<video stem>.png: "
                                                    "sampled frames with the landmarks drawn, per-hand timelines")
    add_mirror_flags(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_extract_hands)


def _extract_hands(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.video.batch import parse_shard
        from bharnet.video.extract_config import ExtractConfig
        from bharnet.video.hands_batch import run_extraction
    summary = run_extraction(args.inputs, args.out, skeletons=args.skeletons, workers=args.workers,
                             shard=parse_shard(args.shard), hand_model=args.hand_model, pose_model=args.pose_model,
                             config=ExtractConfig(max_gap=args.max_gap, mirrored=args.mirrored, people=args.people,
                                                 frame_step=args.frame_step),
                             progress=not (args.no_progress or args.json), preview=args.preview)
    if args.json:
        print(json_text(summary.as_dict()))
    else:
        _print_summary(summary)
    return 1 if summary.failed else 0  # any input without a result


def _print_summary(summary) -> None:
    from rich.table import Table

    table = Table(title="extract-hands", show_header=False)
    rate = summary.frames_with_hand / summary.frames if summary.frames else 0.0
    for key, value in (("videos", summary.videos), ("done", summary.done), ("skipped (existing)", summary.skipped),
                       ("failed", len(summary.failed)), ("frames", summary.frames),
                       ("frames with a hand", f"{summary.frames_with_hand} ({rate:.1%})"),
                       *((f"{side} hand found / interpolated / missing",
                          " / ".join(str(n) for n in counts.values())) for side, counts in summary.hands.items()),
                       ("seconds", f"{summary.seconds:.1f}")):
        table.add_row(key, str(value))
    screen = console()
    screen.print(table)
    for video, reason in summary.failed.items():
        text = reason if video in reason else f"{video}: {reason}"  # reasons usually name the file already
        screen.print(f"[red]failed[/red] {text}", highlight=False)
    for reason in summary.warnings.values():
        screen.print(f"[yellow]warning[/yellow] {reason}", highlight=False)
