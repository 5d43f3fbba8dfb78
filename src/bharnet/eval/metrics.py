"""Accuracy measures on (N, K) scores and (N,) labels. Pure NumPy; classes are 0-based."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["topk_accuracy", "per_class_accuracy", "confusion_matrix", "most_confused_pairs", "subset_accuracy",
           "group_accuracy", "branch_agreement", "softmax", "AGREEMENT_KINDS"]

#: the four outcomes of a (body, hand) pair of predictions on one sample
AGREEMENT_KINDS = ("both", "body_only", "hand_only", "neither")


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large scores."""
    z = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def topk_accuracy(scores: np.ndarray, labels: np.ndarray, k: int = 1) -> float:
    """Fraction of samples whose label is among the k highest scores (nan when there are none)."""
    if len(labels) == 0:
        return float("nan")
    k = min(k, scores.shape[1])
    if k == 1:
        return float(np.mean(scores.argmax(axis=1) == labels))
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return float(np.mean((top == labels[:, None]).any(axis=1)))


def confusion_matrix(pred: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, K) int64 counts; row = true class, column = predicted class."""
    flat = labels.astype(np.int64) * num_classes + pred.astype(np.int64)
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def per_class_accuracy(pred: np.ndarray, labels: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(accuracy per class, samples per class); accuracy is nan for classes without samples."""
    counts = np.bincount(labels, minlength=num_classes)
    correct = np.bincount(labels[pred == labels], minlength=num_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.where(counts > 0, correct / np.maximum(counts, 1), np.nan)
    return acc, counts


def most_confused_pairs(cm: np.ndarray, n: int = 10) -> list[tuple[int, int, int, float]]:
    """The ``n`` largest off-diagonal cells as (true, predicted, count, share of the true class),
    largest count first; cells with zero count are left out."""
    off = cm.copy()
    np.fill_diagonal(off, 0)
    flat = np.argsort(-off, axis=None, kind="stable")[:n]
    rows = cm.sum(axis=1)
    out = []
    for idx in flat:
        t, p = divmod(int(idx), cm.shape[1])
        if off[t, p] == 0:
            break
        out.append((t, p, int(off[t, p]), float(off[t, p] / rows[t])))
    return out


def subset_accuracy(scores: np.ndarray, labels: np.ndarray, class_ids: Sequence[int], k: int = 1) -> tuple[float, int]:
    """Top-k accuracy on the samples whose true class is in ``class_ids`` (the prediction still
    ranges over all classes), and how many samples that is."""
    keep = np.isin(labels, np.asarray(class_ids))
    return topk_accuracy(scores[keep], labels[keep], k), int(keep.sum())


def group_accuracy(scores: np.ndarray, labels: np.ndarray, groups: Mapping[str, Sequence[int]]) -> dict[str, float]:
    """Top-1 over all samples (``top1``) and on the samples of each class group
    (``top1_<group>_classes``, e.g. a store's ``class_groups``); a group without samples is left out."""
    out = {"top1": topk_accuracy(scores, labels)}
    for group, class_ids in groups.items():
        accuracy, samples = subset_accuracy(scores, labels, class_ids)
        if samples:
            out[f"top1_{group}_classes"] = accuracy
    return out


def branch_agreement(body_scores: np.ndarray, hand_scores: np.ndarray, labels: np.ndarray,
                     num_classes: int) -> np.ndarray:
    """(K, 4) counts per true class of samples that both branches get right, only the body
    branch, only the hand branch, neither (columns in :data:`AGREEMENT_KINDS` order)."""
    body_ok = body_scores.argmax(axis=1) == labels
    hand_ok = hand_scores.argmax(axis=1) == labels
    masks = (body_ok & hand_ok, body_ok & ~hand_ok, ~body_ok & hand_ok, ~body_ok & ~hand_ok)
    return np.stack([np.bincount(labels[m], minlength=num_classes) for m in masks], axis=1)
