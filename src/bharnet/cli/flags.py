"""Flags that several commands share: MediaPipe's model files, the mirror convention, batch jobs;
and the types of numeric flags, checked as the command line is parsed (a bad value is a usage
error, exit 2, before any work)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = ["add_model_flags", "add_mirror_flags", "add_batch_flags", "positive_int", "non_negative_int",
           "positive_float", "non_negative_float"]


def _number(kind: type, minimum: float, inclusive: bool) -> Callable[[str], float]:
    bound = f">= {minimum:g}" if inclusive else f"> {minimum:g}"
    noun = "a whole number" if kind is int else "a number"

    def parse(text: str):  # noqa: ANN202 - int or float, as ``kind``
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun} {bound}, not {text!r}") from None
        if not math.isfinite(value) or value < minimum or (value == minimum and not inclusive):
            raise argparse.ArgumentTypeError(f"expected {noun} {bound}, not {text!r}")
        return value

    parse.__name__ = f"{'non_negative' if inclusive else 'positive'}_{kind.__name__}"
    return parse


#: argparse ``type=`` of counts, sizes and durations
positive_int = _number(int, 0, inclusive=False)
non_negative_int = _number(int, 0, inclusive=True)
positive_float = _number(float, 0, inclusive=False)
non_negative_float = _number(float, 0, inclusive=True)


def add_model_flags(p: argparse.ArgumentParser, hands: bool = True, pose_sizes: bool = False) -> None:
    """``--hand-model`` (when ``hands``) and ``--pose-model``; ``pose_sizes``: the pose model may also be
    named by size (full or lite). The command runs MediaPipe: its native log lines are held back
    unless ``--verbose`` (:mod:`bharnet.core.native_logs`)."""
    p.set_defaults(holds_native_logs=True)
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
    p.add_argument("--workers", type=positive_int, default=1, help="processes (default 1)")
    p.add_argument("--shard", default="0/1", metavar="I/N", help="process only shard I of N (0-based; default 0/1)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
