"""Small synthetic scores for the evaluation tests."""

from __future__ import annotations

import numpy as np


def make_logits(labels: np.ndarray, num_classes: int, signal: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise plus ``signal`` on the true class: larger signal, higher accuracy."""
    z = rng.normal(size=(len(labels), num_classes)).astype(np.float32)
    z[np.arange(len(labels)), labels] += signal
    return z


def make_set(n: int = 200, num_classes: int = 10, seed: int = 0, prefix: str = "S"):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, n)
    names = np.array([f"{prefix}{i:04d}" for i in range(n)])
    return names, labels, rng
