"""Flags that several commands share: MediaPipe's model files, the mirror convention, batch jobs."""

from __future__ import annotations

import argparse

__all__ = ["add_model_flags", "add_mirror_flags", "add_batch_flags"]


def add_model_flags(p: argparse.ArgumentParser, hands: bool = True, pose_sizes: bool = False) -> None:
    """``--hand-model`` (when ``hands``) and ``--pose-model``; ``pose_sizes``: the pose model may also be
    named by size (full or lite)."""
    if hands:
        p.add_argument("--hand-model", help="MediaPipe hand_landmarker.task (default: $BHARNET_HAND_MODEL, cache, "
                                            "download)")
    if pose_sizes:
        p.add_argument("--pose-model", help="full (default: $BHARNET_POSE_MODEL, cache, download), lite "
                                            "($BHARNET_POSE_LITE_MODEL or the cache), or a pose_landmarker .task file")
    else:
        p.add_argument("--pose-model", help="MediaPipe pose_landmarker_full.task (default: $BHARNET_POSE_MODEL, "
                                            "cache, download)")


def add_mirror_flags(p: argparse.ArgumentParser) -> None:
    """``--mirrored`` / ``--not-mirrored``: which side of a mirrored frame is the person's left."""
    mirror = p.add_mutually_exclusive_group()
    mirror.add_argument("--mirrored", dest="mirrored", action="store_true", default=None,
                        help="the frames are mirror images (default: NTU RGB+D videos are, others are not); "
                             "decides which side is the person's left")
    mirror.add_argument("--not-mirrored", dest="mirrored", action="store_false")


def add_batch_flags(p: argparse.ArgumentParser) -> None:
    """``--workers``, ``--shard`` and ``--json`` of a resumable job over many videos."""
    p.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    p.add_argument("--shard", default="0/1", metavar="I/N", help="process only shard I of N (0-based; default 0/1)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
