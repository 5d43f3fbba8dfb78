"""Curves over the action phase (rise, hold and fall; bumps) and the random per-sample draws that
vary them (slow wander, uniform scalars)."""

from __future__ import annotations

import numpy as np

__all__ = ["smoothstep", "envelope", "bump", "drift", "per_sample"]


def smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def envelope(u: np.ndarray, rise: float = 0.22, fall: float = 0.78) -> np.ndarray:
    """0 -> 1 (over ``[0, rise]``), hold, 1 -> 0 (over ``[fall, 1]``) of the action phase."""
    return smoothstep(u / rise) * (1 - smoothstep((u - fall) / (1 - fall)))


def bump(u: np.ndarray, centre: float | np.ndarray, width: float) -> np.ndarray:
    return np.exp(-(((u - centre) / width) ** 2))


def drift(rng: np.random.Generator, n: int, t: np.ndarray, amplitude: float, size: int = 1) -> np.ndarray:
    """Slow smooth random wander ``(n, T)`` (or ``(n, T, size)``): two random sinusoids per channel."""
    shape = (n, 1, size)
    freq = rng.uniform(0.3, 1.6, (2, *shape))
    phase = rng.uniform(0, 2 * np.pi, (2, *shape))
    amp = rng.normal(0, amplitude, (2, *shape))
    out = (amp * np.sin(2 * np.pi * freq * t[None, :, :, None] + phase)).sum(0)
    return out[..., 0] if size == 1 else out


def per_sample(rng: np.random.Generator, n: int, low: float, high: float) -> np.ndarray:
    """Per-sample uniform scalars ``(n, 1)`` that broadcast over frames."""
    return rng.uniform(low, high, (n, 1))
