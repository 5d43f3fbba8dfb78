"""How far a branch's confidence can be trusted, and what a fusion does to its experts' answers.

``calibration(scores, labels)``: top-1, mean confidence (top softmax probability), expected
calibration error (torchmetrics' ``MulticlassCalibrationError``, 15 equal-width bins, L1),
negative log-likelihood, and the mean confidence of the wrong answers. An overconfident branch
has confidence above its accuracy, and confident mistakes are what outvote a better expert in a
plain sum of logits.

``flips(expert, fused, labels)``: how often the fusion turns the expert's right answer wrong,
and the expert's wrong answer right.
"""

from __future__ import annotations

import numpy as np
import torch
from torchmetrics.functional.classification import multiclass_calibration_error

from bharnet.eval.metrics import softmax

__all__ = ["calibration", "flips"]


def calibration(scores: np.ndarray, labels: np.ndarray, bins: int = 15) -> dict[str, float]:
    """Calibration of (N, K) scores (logits) against (N,) labels."""
    probs = softmax(np.asarray(scores, dtype=np.float64))
    labels = np.asarray(labels, dtype=np.int64)
    confidence = probs.max(1)
    right = probs.argmax(1) == labels
    ece = multiclass_calibration_error(torch.as_tensor(probs), torch.as_tensor(labels), num_classes=probs.shape[1],
                                       n_bins=bins, norm="l1")
    nll = -np.log(np.maximum(probs[np.arange(len(labels)), labels], 1e-30)).mean()
    return {"top1": float(right.mean()), "confidence": float(confidence.mean()), "ece": float(ece),
            "nll": float(nll), "confidence_when_wrong": float(confidence[~right].mean()) if (~right).any() else 0.0}


def flips(expert: np.ndarray, fused: np.ndarray, labels: np.ndarray) -> dict[str, int]:
    """Counts of samples the fusion turns from right to wrong and from wrong to right (vs ``expert``)."""
    expert_ok = np.asarray(expert).argmax(1) == labels
    fused_ok = np.asarray(fused).argmax(1) == labels
    return {"right_to_wrong": int((expert_ok & ~fused_ok).sum()), "wrong_to_right": int((~expert_ok & fused_ok).sum())}
