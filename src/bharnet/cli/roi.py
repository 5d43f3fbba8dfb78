"""Subcommands: ``extract-roi`` (ST-ROI images of RGB videos) and ``attach-roi`` (give them to a store)."""

from __future__ import annotations

import argparse
import json
import sys


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
    p.add_argument("--pose-model", help="MediaPipe pose_landmarker_full.task (default: $BHARNET_POSE_MODEL, cache, "
                                        "download)")
    p.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    p.add_argument("--shard", default="0/1", metavar="I/N", help="process only shard I of N (0-based; default 0/1)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=_extract_roi)

    p = subparsers.add_parser("attach-roi", help="give a store the ST-ROI images of a folder (by sample name)")
    p.add_argument("store", help="the store folder")
    p.add_argument("rois", help="folder of <sample>.png ST-ROI images (from extract-roi)")
    p.set_defaults(func=_attach_roi)


def _extract_roi(args: argparse.Namespace) -> int:
    from ..hands.extract import parse_shard
    from ..video.roi_files import run_roi_extraction

    summary = run_roi_extraction(args.inputs, args.out, skeletons=args.skeletons, workers=args.workers,
                                 shard=parse_shard(args.shard), pose_model=args.pose_model)
    print_roi_summary(summary, as_json=args.json)
    return 1 if summary.failed and not summary.done and not summary.skipped else 0


def print_roi_summary(summary, as_json: bool = False) -> None:  # noqa: ANN001 (a RoiSummary)
    if as_json:
        print(json.dumps(summary.as_dict()))
        return
    print(f"ST-ROI: {summary.done} of {summary.videos} videos done, {summary.skipped} existed, "
          f"{len(summary.failed)} failed, {summary.seconds:.1f} s ({summary.seconds_per_video:.2f} s per video)",
          file=sys.stderr)
    for video, reason in summary.failed.items():
        print(f"failed: {reason if video in reason else f'{video}: {reason}'}", file=sys.stderr)


def _attach_roi(args: argparse.Namespace) -> int:
    from ..rgb_store import attach_rois

    meta = attach_rois(args.store, args.rois)
    print(f"{meta['found']} samples got an ST-ROI image ({meta['size']}x{meta['size']}), "
          f"{len(meta['missing'])} have none", file=sys.stderr)
    return 0
