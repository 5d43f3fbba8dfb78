"""PNG figures of the reports (matplotlib, Agg backend: no display needed).

Sizes and fonts scale with the number of classes so that 60 and 120 class names stay legible.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import PowerNorm  # noqa: E402

from bharnet.eval.metrics import AGREEMENT_KINDS  # noqa: F401

__all__ = ["plot_confusion", "plot_branch_agreement", "plot_robustness", "class_order", "short_label"]

_AGREEMENT_COLOURS = {"both": "#4c9a2a", "body_only": "#1f77b4", "hand_only": "#ff7f0e", "neither": "#d9d9d9"}
_STRENGTH_NAMES = {"noise": "noise sigma (data units)", "drop-frames": "probability of dropping a frame",
                   "drop-hands": "probability of losing a hand per frame"}
_AGREEMENT_NAMES = {"both": "both right", "body_only": "body only", "hand_only": "hand only", "neither": "neither"}


def short_label(index: int, name: str, width: int = 24) -> str:
    """``"12 writing"``, cut to ``width`` characters so that long class names do not eat the plot."""
    text = f"{index} {name}" if name != str(index) else str(index)
    return text if len(text) <= width else text[: width - 1] + "…"


def class_order(cm: np.ndarray, order: str = "index") -> np.ndarray:
    """Row/column order: ``index`` (class order) or ``cluster`` (spectral ordering of the
    symmetrised confusion, which puts classes that are confused with each other side by side)."""
    k = cm.shape[0]
    if order == "index" or k < 3:
        return np.arange(k)
    if order != "cluster":
        raise ValueError(f"unknown order {order!r}; use 'index' or 'cluster'")
    rates = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    sim = rates + rates.T
    np.fill_diagonal(sim, 0)
    sim += 1e-6  # keeps the graph connected so that the Fiedler vector is defined
    laplacian = np.diag(sim.sum(axis=1)) - sim
    _, vecs = np.linalg.eigh(laplacian)
    return np.argsort(vecs[:, 1], kind="stable")


def _fontsize(n: int, inches: float) -> float:
    per_item_pt = inches * 72 * 0.72 / max(n, 1)
    return float(np.clip(per_item_pt * 0.7, 5.0, 10.0))


def plot_confusion(cm: np.ndarray, classes: Sequence[str], path: str | os.PathLike, title: str = "",
                   order: str = "index") -> Path:
    """Row-normalised confusion matrix (row = true class) as a PNG; colours on a square-root
    scale so that small confusions show. Cells are annotated when there are at most 20 classes."""
    k = cm.shape[0]
    idx = class_order(cm, order)
    rates = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    rates = rates[np.ix_(idx, idx)]
    side = float(np.clip(3.5 + 0.17 * k, 6.0, 26.0))
    fs = _fontsize(k, side)
    fig, ax = plt.subplots(figsize=(side + 1.5, side + 1.0), layout="compressed")
    im = ax.imshow(rates, cmap="Blues", norm=PowerNorm(0.5, vmin=0, vmax=1), interpolation="nearest")
    labels = [short_label(int(i), classes[i]) for i in idx]
    ax.set_xticks(range(k), labels, rotation=90, fontsize=fs)
    ax.set_yticks(range(k), labels, fontsize=fs)
    ax.set_xlabel("predicted class", fontsize=fs + 3)
    ax.set_ylabel("true class", fontsize=fs + 3)
    if k > 20:  # light grid every 10 classes helps to follow a row across a large matrix
        for pos in np.arange(9.5, k - 1, 10):
            ax.axhline(pos, color="#bbbbbb", lw=0.4)
            ax.axvline(pos, color="#bbbbbb", lw=0.4)
    else:
        for (r, c), v in np.ndenumerate(rates):
            if v >= 0.005:
                ax.text(c, r, f"{100 * v:.0f}", ha="center", va="center", fontsize=fs,
                        color="white" if v > 0.5 else "black")
    ax.set_title(title or "confusion matrix", fontsize=fs + 5)
    bar = fig.colorbar(im, ax=ax, shrink=0.6, pad=0.01)
    bar.set_label("share of the true class", fontsize=fs + 2)
    return _save(fig, path)


def plot_branch_agreement(table: np.ndarray, classes: Sequence[str], path: str | os.PathLike,
                          title: str = "", branch_names: tuple[str, str] = ("body", "hand")) -> Path:
    """Per class, the share of samples that both branches / only the body / only the hand /
    neither get right, as horizontal stacked bars. Classes are sorted from the most hand-expert
    (hand only minus body only) at the top to the most body-expert at the bottom."""
    counts = table.sum(axis=1)
    present = np.flatnonzero(counts > 0)
    shares = table[present] / counts[present, None]
    # hand-expert classes first, then by share of "both" so that ties read as a smooth curve
    order = np.lexsort((-shares[:, 0], -(shares[:, 2] - shares[:, 1])))
    rows, shares = present[order], shares[order]
    n = len(rows)
    height = float(np.clip(1.6 + 0.2 * n, 4.0, 30.0))
    fs = _fontsize(n, height)
    fig, ax = plt.subplots(figsize=(9.5, height), layout="constrained")
    left = np.zeros(n)
    names = dict(_AGREEMENT_NAMES, body_only=f"{branch_names[0]} only", hand_only=f"{branch_names[1]} only")
    for j, kind in enumerate(AGREEMENT_KINDS):
        ax.barh(np.arange(n), shares[:, j], left=left, color=_AGREEMENT_COLOURS[kind], label=names[kind], height=0.8)
        left += shares[:, j]
    ax.set_yticks(np.arange(n), [short_label(int(i), classes[i], 30) for i in rows], fontsize=fs)
    ax.set_ylim(n - 0.5, -0.5)  # first row on top, no empty margin
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the class's samples", fontsize=11)
    ax.xaxis.set_ticks_position("both")
    ax.tick_params(axis="x", labeltop=True)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0 + 0.6 / height), ncol=4, fontsize=10, frameon=False)
    ax.set_title(title or f"which expert is right, per class ({branch_names[0]} vs {branch_names[1]}; "
                          f"top: {branch_names[1]} helps most)",
                 fontsize=12, pad=28)
    return _save(fig, path)


def plot_robustness(curves: Mapping[str, Mapping[str, Sequence[tuple[float, float]]]], path: str | os.PathLike,
                    title: str = "") -> Path:
    """Accuracy vs perturbation strength: one panel per perturbation kind, one line per model.
    ``curves[kind][model]`` is a list of (strength, top-1 in [0, 1])."""
    kinds = sorted(curves)
    fig, axes = plt.subplots(1, max(len(kinds), 1), figsize=(5.0 * max(len(kinds), 1), 4.2), layout="constrained",
                             squeeze=False)
    models = sorted({m for k in kinds for m in curves[k]})
    colours = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(models)}
    for ax, kind in zip(axes[0], kinds, strict=False):
        for model in sorted(curves[kind]):
            pts = sorted(curves[kind][model])
            ax.plot([p[0] for p in pts], [100 * p[1] for p in pts], marker="o", color=colours[model])
        ax.set_xlabel(_STRENGTH_NAMES.get(kind, f"{kind} strength"), fontsize=11)
        ax.set_ylabel("top-1 accuracy (%)", fontsize=11)
        ax.set_title(kind, fontsize=12)
        ax.grid(alpha=0.3)
    # one legend for all panels, below them, so that no curve hides behind it
    handles = [plt.Line2D([], [], color=colours[m], marker="o", label=m) for m in models]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(models), 4), fontsize=10, frameon=False)
    if title:
        fig.suptitle(title, fontsize=13)
    return _save(fig, path)


def _save(fig, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
