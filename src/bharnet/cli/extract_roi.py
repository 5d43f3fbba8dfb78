"""Subcommands: ``extract-roi`` (the ST-ROI image of each RGB video: the RGB stream's input)."""

from __future__ import annotations

import argparse
import sys

from bharnet.cli.flags import add_batch_flags, add_model_flags
from bharnet.core.interrupts import ctrl_c_deferred
from bharnet.core.jsontext import json_text


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = subparsers.add_parser(
        "extract-roi", help="build the ST-ROI image (the RGB stream's input) of each video",
        description="Per video, write <OUT>/<sample>.png: 5 frames x (head, hands, feet) patches around the "
                    "body's joints (see docs/rgb.md). Resumable (existing PNGs are kept) and shardable.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="video files or folders of videos")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--skeletons", help="folder of NTU .skeleton files whose colour positions locate the joints; "
                                       "videos without one use the pose landmarker")
    add_model_flags(p, hands=False)
    add_batch_flags(p)
    p.set_defaults(func=_extract_roi)


def _extract_roi(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.video.batch import parse_shard
        from bharnet.video.roi_files import run_roi_extraction
    summary = run_roi_extraction(args.inputs, args.out, skeletons=args.skeletons, workers=args.workers,
                                 shard=parse_shard(args.shard), pose_model=args.pose_model)
    if args.json:
        print(json_text(summary.as_dict()))
    else:
        for line in summary.lines():
            print(line, file=sys.stderr)
    return 1 if summary.failed else 0  # any input without a result
