"""Robustness perturbations of a batch of model inputs, for ``bharnet test --perturb SPEC``.

A batch is a dict with ``body`` (N, C, T, V, M), ``hand`` (N, C, T, 25, 2) and optionally
``hand_mask`` (N, 1, T, 25, 2) (1 = a hand keypoint is present); other keys pass through. Apply
the perturbations to joint coordinates, before bones or motion are derived from them.

SPEC is a comma-separated list of ``kind=strength``:

* ``noise=SIGMA``: Gaussian noise of standard deviation SIGMA (in the data's units: metres
  for NTU bodies, image-normalised units for MediaPipe hands) on every present keypoint; absent
  ones (all coordinates zero, or ``hand_mask`` 0) stay as they are.
* ``drop-frames=P``: each frame of each sample is dropped with probability P (the same frames
  for body and hands) and replaced by the last kept frame before it, as a sensor that misses
  frames and a tracker that holds the last pose would do; dropped frames before the first kept
  one take the first kept frame. A sample always keeps at least one frame. (``fill="zero"``
  in :func:`drop_frames` zeroes them instead, with ``hand_mask`` 0.)
* ``drop-hands=P``: each hand in each frame of each sample goes missing with probability P:
  its keypoints become 0 and its ``hand_mask`` 0 (a mask of ones is added when the batch has none).

All functions are pure (they return a new dict) and deterministic given the generator's seed;
strength 0 returns the inputs unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from bharnet.core.errors import UserError

__all__ = ["Perturbation", "parse_perturbations", "format_perturbations", "add_noise", "drop_frames", "drop_hands",
           "apply_perturbations", "Perturber", "KINDS"]

KINDS = ("noise", "drop-frames", "drop-hands")


@dataclass(frozen=True)
class Perturbation:
    """One perturbation: its kind (one of :data:`KINDS`) and strength (sigma or probability)."""

    kind: str
    strength: float

    def __str__(self) -> str:
        return f"{self.kind}={self.strength:g}"


def parse_perturbations(spec: str) -> list[Perturbation]:
    """``"noise=0.01,drop-frames=0.2"`` -> perturbations; ``""`` or ``"none"`` -> none.
    A ``UserError`` names a bad part (unknown kind, not a number, probability outside [0, 1])."""
    spec = (spec or "").strip()
    if spec.lower() in ("", "none"):
        return []
    out = []
    for part in spec.split(","):
        m = re.fullmatch(r"\s*([a-z-]+)\s*=\s*([0-9.eE+-]+)\s*", part)
        if not m:
            raise UserError(f"perturbation {part!r}: expected KIND=STRENGTH with KIND one of {', '.join(KINDS)}")
        kind, value = m.group(1), m.group(2)
        if kind not in KINDS:
            raise UserError(f"perturbation {part!r}: unknown kind {kind!r}; use one of {', '.join(KINDS)}")
        try:
            strength = float(value)
        except ValueError:
            raise UserError(f"perturbation {part!r}: {value!r} is not a number") from None
        if strength < 0 or (kind != "noise" and strength > 1):
            rule = "sigma must be >= 0" if kind == "noise" else "a probability lies in [0, 1]"
            raise UserError(f"perturbation {part!r}: {rule}")
        out.append(Perturbation(kind, strength))
    return out


def format_perturbations(perturbations: list[Perturbation]) -> str:
    """The inverse of :func:`parse_perturbations` (``"none"`` for no perturbation)."""
    return ",".join(str(p) for p in perturbations) or "none"


def _rand(shape, generator: torch.Generator, like: torch.Tensor, normal: bool = False) -> torch.Tensor:
    """Random numbers drawn on the CPU (so that a seed gives the same numbers on every device)."""
    draw = torch.randn if normal else torch.rand
    return draw(tuple(shape), generator=generator, dtype=torch.float32).to(device=like.device, dtype=like.dtype)


def _present(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """(N, 1, T, V, M) 1.0 where a keypoint carries data."""
    present = (x != 0).any(dim=1, keepdim=True)
    if mask is not None:
        present = present & (mask > 0)
    return present.to(x.dtype)


def add_noise(batch: Mapping, sigma: float, generator: torch.Generator) -> dict:
    """Gaussian noise of std ``sigma`` on the present keypoints of ``body`` and ``hand``."""
    out = dict(batch)
    if sigma == 0:
        return out
    for key, mask_key in (("body", None), ("hand", "hand_mask")):
        if key in batch:
            x = batch[key]
            mask = batch.get(mask_key) if mask_key else None
            out[key] = x + sigma * _rand(x.shape, generator, x, normal=True) * _present(x, mask)
    return out


def _kept_frames(n: int, t: int, p: float, generator: torch.Generator) -> torch.Tensor:
    kept = torch.rand((n, t), generator=generator) >= p
    kept[~kept.any(dim=1), 0] = True  # a sample keeps at least one frame
    return kept


def _hold_index(kept: torch.Tensor) -> torch.Tensor:
    """(N, T) index of the frame shown at each time: the last kept frame at or before t, else the first kept one."""
    t = kept.shape[1]
    steps = torch.arange(t).expand_as(kept)
    last = torch.where(kept, steps, torch.full_like(steps, -1)).cummax(dim=1).values
    first = kept.to(torch.int64).argmax(dim=1, keepdim=True).expand_as(last)
    return torch.where(last >= 0, last, first)


def _gather_time(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Pick frames ``index`` (N, T) along the time axis (dim 2) of an (N, C, T, V, M) tensor."""
    n, c, t, v, m = x.shape
    idx = index.to(x.device).view(n, 1, t, 1, 1).expand(n, c, t, v, m)
    return torch.gather(x, 2, idx)


def drop_frames(batch: Mapping, p: float, generator: torch.Generator, fill: str = "previous") -> dict:
    """Drop each frame with probability ``p``; fill it with the last kept frame (``"previous"``)
    or zeros (``"zero"``, with ``hand_mask`` 0). Body and hands lose the same frames."""
    if fill not in ("previous", "zero"):
        raise ValueError(f"fill must be 'previous' or 'zero', not {fill!r}")
    out = dict(batch)
    if p == 0:
        return out
    keys = [k for k in ("body", "hand", "hand_mask") if k in batch]
    masks: dict[tuple[int, int], torch.Tensor] = {}
    for key in keys:
        x = batch[key]
        n, t = x.shape[0], x.shape[2]
        if (n, t) not in masks:
            masks[(n, t)] = _kept_frames(n, t, p, generator)
        kept = masks[(n, t)]
        if fill == "previous":
            out[key] = _gather_time(x, _hold_index(kept))
        else:
            out[key] = x * kept.to(device=x.device, dtype=x.dtype).view(n, 1, t, 1, 1)
    return out


def drop_hands(batch: Mapping, p: float, generator: torch.Generator) -> dict:
    """Each hand in each frame goes missing with probability ``p``: keypoints 0, ``hand_mask`` 0."""
    out = dict(batch)
    if p == 0 or "hand" not in batch:
        return out
    hand = batch["hand"]
    n, _, t, _, m = hand.shape
    keep = (_rand((n, 1, t, 1, m), generator, hand) >= p).to(hand.dtype)
    out["hand"] = hand * keep
    mask = batch.get("hand_mask")
    if mask is None:
        mask = torch.ones((n, 1, t, hand.shape[3], m), dtype=hand.dtype, device=hand.device)
    out["hand_mask"] = mask * keep.to(mask.dtype)
    return out


_APPLY = {"noise": add_noise, "drop-frames": drop_frames, "drop-hands": drop_hands}


def apply_perturbations(batch: Mapping, perturbations: list[Perturbation] | str,
                        generator: torch.Generator | int = 0) -> dict:
    """Apply perturbations in the order given. NumPy arrays in the batch come back as NumPy arrays."""
    if isinstance(perturbations, str):
        perturbations = parse_perturbations(perturbations)
    if isinstance(generator, int):
        generator = torch.Generator().manual_seed(generator)
    numpy_keys = {k for k, v in batch.items() if isinstance(v, np.ndarray)}
    out = {k: torch.from_numpy(v) if k in numpy_keys else v for k, v in batch.items()}
    for pert in perturbations:
        out = _APPLY[pert.kind](out, pert.strength, generator)
    # keys that came as NumPy, and keys added here (hand_mask) to a NumPy batch, go back as NumPy
    back = numpy_keys | (set(out) - set(batch) if numpy_keys else set())
    return {k: v.numpy() if k in back else v for k, v in out.items()}


class Perturber:
    """A perturbation spec with its own seeded generator, applied batch after batch:
    the same seed and batch order give the same perturbed inputs.

    >>> perturb = Perturber("noise=0.01", seed=0)
    >>> batch = perturb(batch)
    """

    def __init__(self, spec: str | list[Perturbation], seed: int = 0) -> None:
        self.perturbations = parse_perturbations(spec) if isinstance(spec, str) else list(spec)
        self.generator = torch.Generator().manual_seed(seed)

    def __bool__(self) -> bool:
        return any(p.strength > 0 for p in self.perturbations)

    def __str__(self) -> str:
        return format_perturbations(self.perturbations)

    def __call__(self, batch: Mapping) -> dict:
        return apply_perturbations(batch, self.perturbations, self.generator)
