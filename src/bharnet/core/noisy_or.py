"""The Noisy-OR of class probabilities, written once for both array libraries that use it.

``p_k = 1 - prod_i (1 - p_ik)^w_i``: class k is present when any member detects it; a weight is
how much a member's detection counts. :mod:`bharnet.models.fusion` applies it to torch tensors (a
fused model's branches, which must stay exportable), :mod:`bharnet.eval.ensemble` to NumPy arrays
(scores files). ``ops`` is the array module, ``torch`` or ``numpy``: both name the functions used
here alike, so the formula needs neither library.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["detections", "noisy_or_log"]


def detections(probs: Sequence[Any], ops: Any, max_prob: float) -> list[Any]:
    """``-log(1 - p)`` of each member's probabilities: what a Noisy-OR adds up. ``p`` is clipped
    to ``max_prob`` (below 1 at the array's precision) so that a certain class stays finite."""
    return [-ops.log1p(-ops.clip(p, None, max_prob)) for p in probs]


def noisy_or_log(terms: Sequence[Any], ops: Any, weights: Sequence[float] | None = None) -> Any:
    """``log p`` of the Noisy-OR of the members' :func:`detections` (``weights``: all 1 when None)."""
    weighted = terms if weights is None else [float(w) * t for w, t in zip(weights, terms, strict=True)]
    log_miss = -sum(weighted)
    return ops.log(ops.clip(-ops.expm1(log_miss), 1e-30, None))
