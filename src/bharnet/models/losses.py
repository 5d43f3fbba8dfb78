"""Classification losses of the BHaRNet family: label-smoothed CE, individual and complementary terms.

For branch logits ``z_1 .. z_k`` (e.g. ``z_B`` and ``z_H``) and label ``y``::

    L = sum_i CE(z_i, y)  +  lambda_cpl * CE(mean_j z_j, y)

The first sum is the *individual* loss (over the branches named in ``individual``); the second is
the *complementary* loss: the mean of the branches named in ``complementary`` is a classifier of
its own, so that a stream stops being pushed on a class once the fused prediction is right.
All CE terms use the same label smoothing (0.1, as DeGCN).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["smoothed_cross_entropy", "BranchLoss"]


def smoothed_cross_entropy(logits: Tensor, labels: Tensor, smoothing: float = 0.1) -> Tensor:
    """Mean label-smoothed cross-entropy of ``logits (N, K)`` against integer ``labels (N,)``."""
    return F.cross_entropy(logits, labels, label_smoothing=smoothing)


@dataclass(frozen=True)
class BranchLoss:
    """Individual CE on each branch of ``individual`` plus ``lambda_cpl`` x CE on the mean of ``complementary``.

    Calling it with a model's outputs and the labels returns ``{"loss": total, "ce_<branch>": ...,
    "cpl": ...}`` (``cpl`` only when ``lambda_cpl > 0`` and ``complementary`` is not empty).
    """

    individual: Sequence[str]
    complementary: Sequence[str] = ()
    lambda_cpl: float = 1.0
    label_smoothing: float = 0.1

    def __call__(self, outputs: Mapping[str, Tensor], labels: Tensor) -> dict[str, Tensor]:
        terms: dict[str, Tensor] = {}
        total = None
        for name in self.individual:
            terms[f"ce_{name}"] = smoothed_cross_entropy(outputs[name], labels, self.label_smoothing)
            total = terms[f"ce_{name}"] if total is None else total + terms[f"ce_{name}"]
        if self.lambda_cpl > 0 and self.complementary:
            fused = torch.stack([outputs[name] for name in self.complementary]).mean(0)
            terms["cpl"] = smoothed_cross_entropy(fused, labels, self.label_smoothing)
            weighted = self.lambda_cpl * terms["cpl"]
            total = weighted if total is None else total + weighted
        if total is None:
            raise ValueError("BranchLoss has no term: name individual branches or a complementary set")
        return {"loss": total, **terms}
