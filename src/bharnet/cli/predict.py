"""``bharnet predict``: the actions of videos with a trained checkpoint."""

from __future__ import annotations

import argparse
from pathlib import Path

from bharnet.cli.flags import add_mirror_flags, add_model_flags, positive_float, positive_int
from bharnet.core.console import console
from bharnet.core.errors import UserError
from bharnet.core.interrupts import ctrl_c_deferred
from bharnet.core.jsontext import json_text
from bharnet.core.words import plural


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = subparsers.add_parser(
        "predict", help="classify the actions of videos with a trained checkpoint",
        description="Body (MediaPipe pose) and hands (MediaPipe hands on crops around the wrists) from each video, "
                    "then the checkpoint on windows of --clip seconds every --stride seconds (see docs/predict.md).")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("videos", nargs="+", metavar="VIDEO", help="video files or folders of videos")
    p.add_argument("--out", type=Path, help="folder for one <video>.json per video (needed for several videos; "
                                            "existing files are kept: a rerun resumes)")
    p.add_argument("--clip", type=positive_float, default=3.0, help="window length in seconds (default 3)")
    p.add_argument("--stride", type=positive_float, default=1.0, help="seconds between windows (default 1)")
    p.add_argument("--top", type=positive_int, default=5, help="classes listed per window (default 5)")
    p.add_argument("--json", action="store_true", help="print the prediction (or the batch summary) as JSON")
    p.add_argument("--render", type=Path, metavar="OUT.mp4",
                   help="one video: also write it with the overlay of bharnet live (body, hands, top classes)")
    p.add_argument("--device", help="where the network runs: cpu, cuda, ... (default: the GPU when there is one)")
    add_model_flags(p, pose_sizes=True)
    add_mirror_flags(p)
    p.set_defaults(func=_predict)


def _predict(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.workflows.predict import predict_video, predict_videos
    options = {"clip_seconds": args.clip, "stride_seconds": args.stride, "top": args.top,
               "pose_model": args.pose_model, "hand_model": args.hand_model, "device": args.device,
               "mirrored": args.mirrored}
    if args.out is None:
        if len(args.videos) != 1 or Path(args.videos[0]).is_dir():
            raise UserError("several videos: give --out DIR (one JSON file per video)")
        result = predict_video(args.checkpoint, args.videos[0], render=args.render, **options)
        if args.json:
            print(json_text(result.as_dict(), indent=1))
        else:
            _print_prediction(result)
        _print_warnings([result])
        return 0
    if args.render is not None:
        raise UserError("--render takes one video, without --out")
    summary = predict_videos(args.checkpoint, args.videos, args.out, **options)
    if args.json:
        print(json_text({"done": len(summary.done), "skipped": summary.skipped, "failed": summary.failed,
                         "top1": {r.video: r.top[0] for r in summary.done}}, indent=1))
    elif len(summary.done) == 1 and not summary.failed:
        _print_prediction(summary.done[0])
    else:
        _print_batch(summary, args.out)
    _print_warnings(summary.done)
    return 1 if summary.failed else 0  # any input without a result


def _print_prediction(result) -> None:
    from rich.table import Table

    hands = ("hands not used by this model" if result.frames_with_hand is None
             else f"a hand in {plural(result.frames_with_hand, 'frame')}")
    table = Table(title=f"{result.video}: {plural(result.frames, 'frame')} at {result.fps:g} fps, "
                        f"person {result.person or 'none'}, {hands}")
    table.add_column("seconds")
    table.add_column("top classes (probability)")
    for window in result.windows:
        table.add_row(f"{window.start:.1f}-{window.end:.1f}",
                      ", ".join(f"{name} ({p:.2f})" for name, p in window.top))
    table.add_row("whole video", ", ".join(f"{name} ({p:.2f})" for name, p in result.top), style="bold")
    console().print(table)


def _print_warnings(results) -> None:
    """On stderr, so that --json output stays one document."""
    errors = console(stderr=True)
    for warning in (w for result in results for w in result.warnings):
        errors.print(f"[yellow]warning[/yellow] {warning}", highlight=False)


def _print_batch(summary, out: Path) -> None:
    from rich.table import Table

    table = Table(title=f"{plural(len(summary.done), 'video')} predicted, {summary.skipped} already in {out}, "
                        f"{len(summary.failed)} failed")
    for column in ("video", "frames", "top class", "probability"):
        table.add_column(column)
    for result in summary.done:
        name, p = result.top[0]
        table.add_row(Path(result.video).name, str(result.frames), name, f"{p:.2f}")
    screen = console()
    screen.print(table)
    for video, reason in summary.failed.items():
        screen.print(f"[red]failed[/red] {reason if video in reason else f'{video}: {reason}'}", highlight=False)
