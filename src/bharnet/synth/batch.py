"""What generating one class yields: a :class:`Batch` of samples, and the runs of frames where the
hand detector misses a hand."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bharnet.synth.variation import Variation

__all__ = ["Batch", "dropouts"]


@dataclass
class Batch:
    """``B`` samples of one class, padded to the longest (``Tmax`` frames)."""

    body: np.ndarray  # (B, Tmax, 2, 25, 3)
    hands: np.ndarray  # (B, Tmax, 2, 21, 3)
    hand_conf: np.ndarray  # (B, Tmax, 2, 21)
    frames: np.ndarray  # (B,)
    actors: np.ndarray  # (B,)


def dropouts(rng: np.random.Generator, frames: np.ndarray, tmax: int, var: Variation) -> np.ndarray:
    """Detector hits ``(B, Tmax, 2)``: False in runs of missed frames and for hands never found."""
    n = len(frames)
    hit = np.ones((n, tmax, 2), bool)
    runs = rng.poisson(var.dropout, (n, 2))
    for i, h in zip(*np.nonzero(runs), strict=True):
        for _ in range(runs[i, h]):
            length = rng.integers(2, max(3, frames[i] // 4))
            start = rng.integers(0, frames[i])
            hit[i, start:start + length, h] = False
    hit &= (rng.random((n, 2)) >= var.hand_missing)[:, None, :]
    return hit
