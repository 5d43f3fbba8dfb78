"""NTU RGB+D 60 / 120 into a store: the cleaned skeletons with the official splits, and the hands
extracted from the RGB videos (``bharnet extract-hands``) joined at the frames cleaning kept."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from bharnet.core.errors import UserError
from bharnet.core.sequence import Sequence
from bharnet.io.ntu import BENCHMARKS, NTU_CLASSES, list_ntu, read_ntu_sample
from bharnet.store.convert import run_conversion
from bharnet.store.packed import StoreWriter
from bharnet.video.hand_files import load_hands

__all__ = ["prepare_ntu", "read_ntu_with_hands"]


def read_ntu_with_hands(path: str, *, benchmark: str, center: bool, hands_dir: str | None) -> list[Sequence]:
    """One ``.skeleton`` file as :func:`~bharnet.io.ntu.read_ntu_sample` reads it, with the hands
    of its RGB video (a hands file in ``hands_dir``) joined at the frames cleaning kept."""
    sequences = read_ntu_sample(path, benchmark=benchmark, center=center)
    if hands_dir is not None:
        for seq in sequences:
            seq.hands, seq.hand_conf = _hands_for(hands_dir, seq.name, seq.source_frames)
    return sequences


def _hands_for(hands_dir: str, name: str, frames: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Hand keypoints of a sample at the kept frames (frames beyond the hand track count as missing)."""
    found = load_hands(hands_dir, name)
    if found is None:
        return None, None
    hands, conf = (np.asarray(a, np.float32) for a in found)
    inside = frames < len(hands)
    out = np.zeros((len(frames), 2, 21, 3), np.float32)
    out_conf = np.zeros((len(frames), 2, 21), np.float32)
    out[inside] = hands[frames[inside]]
    out_conf[inside] = conf[frames[inside]]
    return out, out_conf


def prepare_ntu(skeletons: str | os.PathLike, out: str | os.PathLike, *, benchmark: str = "ntu60",
                workers: int = 1, strict: bool = False, center: bool = True, hands: str | os.PathLike | None = None,
                progress: bool | None = None):
    """Convert a folder of NTU ``.skeleton`` files into a store; returns a :class:`PrepareSummary`."""
    if benchmark not in BENCHMARKS:
        raise UserError(f"unknown benchmark {benchmark!r}: ntu60 or ntu120")
    if hands is not None and not Path(hands).is_dir():
        raise UserError(f"--hands {hands}: no such folder")
    try:
        files, n_missing, n_outside = list_ntu(skeletons, benchmark)
    except FileNotFoundError as err:
        raise UserError(str(err)) from None
    arrays = ("color_xy", "hands") if hands is not None else ("color_xy",)
    convert = functools.partial(read_ntu_with_hands, benchmark=benchmark, center=center,
                                hands_dir=None if hands is None else str(hands))
    source = {"dataset": benchmark, "raw": str(Path(skeletons).resolve()), "center": center,
              "hands": None if hands is None else str(Path(hands).resolve())}
    with StoreWriter(out, body_layout="ntu25", num_persons=2, arrays=arrays,
                     classes=NTU_CLASSES[:BENCHMARKS[benchmark][1]], source=source) as writer:
        summary = run_conversion([str(f) for f in files], convert, writer, key=lambda s: Path(s).name,
                                 workers=workers, strict=strict, title=benchmark.upper(), progress=progress)
    summary.inputs += n_missing
    if n_missing:
        summary.skipped["on the official list of samples with missing skeletons"] = n_missing
    if n_outside:
        summary.skipped[f"not part of {benchmark}"] = n_outside
    summary.store = Path(out)
    return summary
