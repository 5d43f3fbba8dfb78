"""``bharnet record``: your own gestures as labelled clips of the custom format."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bharnet.cli.flags import non_negative_float, positive_float, positive_int
from bharnet.core.interrupts import ctrl_c_deferred
from bharnet.core.words import plural


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = subparsers.add_parser(
        "record", help="record labelled clips of your own gestures",
        description="A countdown, then --count clips of --seconds each, written as the custom format's videos "
                    "(DIR/<label>_NNN.mp4 and DIR/labels.csv), ready for bharnet prepare custom DIR --videos.")
    p.add_argument("--label", required=True, help="the class of the clips")
    p.add_argument("--out", type=Path, required=True, help="the custom folder (created; labels.csv kept up to date)")
    p.add_argument("--source", default="0", help="camera index, stream URL or video file (default 0)")
    p.add_argument("--seconds", type=positive_float, default=3.0, help="length of a clip (default 3)")
    p.add_argument("--count", type=positive_int, default=10, help="clips to record (default 10)")
    p.add_argument("--countdown", type=non_negative_float, default=3.0, help="seconds before each clip (default 3)")
    p.add_argument("--split", help="split of every clip (default: every fifth clip test, the others train)")
    p.add_argument("--no-display", action="store_true", help="no preview window even where a display exists")
    p.set_defaults(func=_record)


def _record(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.workflows.record import record_clips
    clips = record_clips(args.source, args.label, args.out, seconds=args.seconds, count=args.count,
                         countdown=args.countdown, split=args.split, display=not args.no_display,
                         log=lambda msg: print(msg, file=sys.stderr, flush=True))
    if not clips:
        print(f"no clip of {args.label!r} recorded (the source ended or was interrupted)", file=sys.stderr)
        return 1
    print(f"{plural(len(clips), 'clip')} of {args.label!r} in {args.out} (labels.csv updated)")
    return 0 if len(clips) == args.count else 1
