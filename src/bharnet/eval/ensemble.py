"""Score-level ensembles of any number of scores files (J, B, JM, BM streams, variants, RGB).

Rules:

* Samples are matched by name (each file is sorted by name), never by position. Files whose
  sample sets differ are refused, naming the first missing sample and the file; labels must
  agree sample by sample, and so must the class count (and class names when both files have them).
* ``fuse="logits"`` (default, what the field's ensemble scripts do): the weighted sum of raw
  scores, ``sum_i w_i * z_i``. ``fuse="softmax"``: the weighted mean of softmax probabilities;
  the fused file then stores ``log`` of that mixture so that it reads like logits again.
  ``fuse="noisy-or"``: ``p_k = 1 - prod_i (1 - p_ik)^w_i`` over the softmax probabilities (class k
  is present when any member detects it; a weight is how much a member's detection counts); the
  fused file stores ``log p``.
* Which branch of a file to use: ``FILE`` takes ``logits`` (the model's prediction), ``FILE:body``
  the named branch.
* Weights are given, or searched on validation scores files by coordinate ascent over a grid
  (start all 1, try each grid value for one weight at a time, keep strict improvements of top-1,
  repeat until nothing improves). Files whose meta says they are a test split are refused for the
  search, as are files that share any sample with the files being ensembled.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bharnet.core.errors import UserError
from bharnet.core.noisy_or import detections, noisy_or_log
from bharnet.eval.metrics import softmax, topk_accuracy
from bharnet.eval.scores import Scores, load_scores

__all__ = ["Member", "EnsembleResult", "parse_member_spec", "member_spec", "load_members", "align", "fuse",
           "search_weights", "check_search_split", "ensemble", "FUSE_MODES", "DEFAULT_GRID"]

FUSE_MODES = ("logits", "softmax", "noisy-or")
#: weight values tried per file by the search (all-1 start; weights are relative, so [0, 1] spans every ratio)
DEFAULT_GRID = tuple(np.round(np.linspace(0.0, 1.0, 21), 3))


@dataclass
class Member:
    """One input of an ensemble: a scores file (sorted by name) and the branch taken from it."""

    scores: Scores
    branch: str = "logits"

    @property
    def label(self) -> str:
        return f"{self.scores.source}:{self.branch}"

    @property
    def values(self) -> np.ndarray:
        return self.scores.branch(self.branch)


@dataclass
class EnsembleResult:
    """Fused scores with what produced them."""

    names: np.ndarray
    labels: np.ndarray
    fused: np.ndarray
    weights: list[float]
    fuse: str
    members: list[Member]
    classes: list[str]
    search: dict | None = None
    member_top1: list[float] = field(default_factory=list)
    #: "given", "searched on validation files" or "equal (default)"
    weights_from: str = "equal (default)"


def parse_member_spec(spec: str) -> tuple[Path, str | None]:
    """``FILE`` or ``FILE:branch`` -> (path, branch or None). A spec that names an existing file
    as a whole is a file (so ``C:\\scores.npz`` works)."""
    if Path(spec).is_file() or ":" not in spec:
        return Path(spec), None
    head, branch = spec.rsplit(":", 1)
    if not branch or re.search(r"[\\/]", branch):
        return Path(spec), None
    return Path(head), branch


def member_spec(path: str | Path, branch: str = "logits") -> str:
    """The ``FILE[:branch]`` spec of one branch of a scores file (``FILE`` alone for ``logits``)."""
    return str(path) if branch == "logits" else f"{path}:{branch}"


def load_members(specs: Sequence[str], default_branches: Sequence[str | None] | None = None) -> list[Member]:
    """Load ``FILE[:branch]`` specs; a spec without a branch takes ``default_branches[i]`` or ``logits``."""
    members = []
    for i, spec in enumerate(specs):
        path, branch = parse_member_spec(spec)
        scores = load_scores(path).sorted_by_name()
        branch = branch or (default_branches[i] if default_branches else None) or "logits"
        scores.branch(branch)  # fail early, listing the branches the file has
        members.append(Member(scores, branch))
    return members


def align(members: Sequence[Member]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Check that all members hold the same samples, labels and classes; return (names, labels,
    classes) in name order. Members must be sorted by name (``load_members`` does that)."""
    if not members:
        raise UserError("an ensemble needs at least one scores file")
    ref = members[0].scores
    ref_names = set(ref.names.tolist())
    for m in members[1:]:
        s = m.scores
        names = set(s.names.tolist())
        if names != ref_names:
            missing = sorted(ref_names - names)
            if missing:
                raise UserError(f"{s.source} lacks sample {missing[0]!r} (and {len(missing) - 1} more) "
                                f"that {ref.source} has; ensembled files must hold the same samples")
            extra = sorted(names - ref_names)
            raise UserError(f"{ref.source} lacks sample {extra[0]!r} (and {len(extra) - 1} more) "
                            f"that {s.source} has; ensembled files must hold the same samples")
        if s.num_classes != ref.num_classes:
            raise UserError(f"{s.source} has {s.num_classes} classes, {ref.source} has {ref.num_classes}")
        if s.meta.get("classes") and ref.meta.get("classes") and s.meta["classes"] != ref.meta["classes"]:
            raise UserError(f"{s.source} and {ref.source} name their classes differently")
        bad = np.flatnonzero(s.labels != ref.labels)
        if bad.size:
            i = bad[0]
            raise UserError(f"{s.source} labels sample {str(s.names[i])!r} as {s.labels[i]}, {ref.source} as "
                            f"{ref.labels[i]} ({bad.size} samples disagree)")
    classes = next((m.scores.classes for m in members if m.scores.meta.get("classes")), ref.classes)
    return ref.names, ref.labels, classes


def fuse(arrays: Sequence[np.ndarray], weights: Sequence[float], mode: str = "logits") -> np.ndarray:
    """Weighted fusion of (N, K) scores: the sum of raw scores, log of the weighted mean of softmax,
    or log of the weighted Noisy-OR of softmax."""
    if len(arrays) != len(weights):
        raise UserError(f"{len(weights)} weights for {len(arrays)} scores files")
    if mode not in FUSE_MODES:
        raise UserError(f"unknown fusion {mode!r}; choose one of {', '.join(FUSE_MODES)}")
    w = np.asarray(weights, dtype=np.float64)
    if mode == "logits":
        return sum(float(wi) * a.astype(np.float64) for wi, a in zip(w, arrays, strict=True)).astype(np.float32)
    if mode == "noisy-or":
        return noisy_or_log(_detections(arrays), np, weights=w).astype(np.float32)
    if w.sum() <= 0:
        raise UserError("softmax fusion needs weights with a positive sum")
    probs = sum(float(wi) * softmax(a.astype(np.float64)) for wi, a in zip(w, arrays, strict=True)) / w.sum()
    return np.log(np.maximum(probs, 1e-30)).astype(np.float32)


def _detections(arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Each member's Noisy-OR detections (:mod:`bharnet.core.noisy_or`) of its softmax, in float64."""
    return detections([softmax(a.astype(np.float64)) for a in arrays], np, max_prob=1 - 1e-12)


def search_weights(arrays: Sequence[np.ndarray], labels: np.ndarray, mode: str = "logits",
                   grid: Sequence[float] = DEFAULT_GRID, max_rounds: int = 10) -> tuple[list[float], float, list[dict]]:
    """Coordinate ascent on top-1 accuracy: start with all weights 1; for each file in turn try
    every grid value with the others fixed and keep the best if it strictly improves; stop when
    a round changes nothing. Returns (weights, accuracy, the accepted steps)."""
    if mode == "noisy-or":  # the Noisy-OR ranks classes as the sum of these terms does
        terms = _detections(arrays)
    else:
        terms = [softmax(a.astype(np.float64)) if mode == "softmax" else a.astype(np.float64) for a in arrays]
    weights = [1.0] * len(terms)
    total = sum(terms)
    best = topk_accuracy(total, labels)
    steps = [{"round": 0, "weights": list(weights), "top1": best}]
    for rnd in range(1, max_rounds + 1):
        changed = False
        for i, term in enumerate(terms):
            rest = total - weights[i] * term
            accs = [topk_accuracy(rest + g * term, labels) for g in grid]
            j = int(np.argmax(accs))
            if accs[j] > best:
                weights[i], best, changed = float(grid[j]), accs[j], True
                total = rest + weights[i] * term
                steps.append({"round": rnd, "weights": list(weights), "top1": best})
        if not changed:
            break
    return weights, best, steps


def _looks_like_test(split: str | None) -> bool:
    return split is not None and "test" in re.split(r"[^a-z0-9]+", split.lower())


def check_search_split(members: Sequence[Member], targets: Sequence[Member] = ()) -> None:
    """Refuse search files that are a test split, or that share samples with the ensembled files."""
    for m in members:
        if _looks_like_test(m.scores.split):
            raise UserError(f"{m.scores.source} holds split {m.scores.split!r}: weights are never searched on a "
                            "test split; give validation scores (e.g. from `bharnet test --split val`)")
    if targets and members:
        shared = set(members[0].scores.names.tolist()) & set(targets[0].scores.names.tolist())
        if shared:
            raise UserError(f"{members[0].scores.source} shares {len(shared)} samples (e.g. {sorted(shared)[0]!r}) "
                            f"with {targets[0].scores.source}: search weights on a separate validation split")


def ensemble(specs: Sequence[str], weights: Sequence[float] | None = None, search: Sequence[str] | None = None,
             mode: str = "logits", grid: Sequence[float] = DEFAULT_GRID) -> EnsembleResult:
    """Fuse ``FILE[:branch]`` scores files with given weights, weights searched on the validation
    files ``search`` (one per file, same order), or equal weights."""
    if mode not in FUSE_MODES:
        raise UserError(f"unknown fusion {mode!r}; choose one of {', '.join(FUSE_MODES)}")
    if weights is not None and search:
        raise UserError("give either weights or validation files to search them on, not both")
    members = load_members(specs)
    names, labels, classes = align(members)
    search_info = None
    weights_from = "given" if weights is not None else "equal (default)"
    if search:
        weights_from = "searched on validation files"
        if len(search) != len(members):
            raise UserError(f"{len(search)} validation files for {len(members)} scores files; give one per file, "
                            "in the same order")
        val = load_members(search, default_branches=[m.branch for m in members])
        check_search_split(val, members)
        _, val_labels, _ = align(val)
        weights, val_top1, steps = search_weights([m.values for m in val], val_labels, mode, grid)
        search_info = {"files": [m.label for m in val], "splits": [m.scores.split for m in val],
                       "top1": val_top1, "steps": steps, "grid": [float(g) for g in grid],
                       "method": "coordinate ascent"}
    elif weights is None:
        weights = [1.0] * len(members)
    fused = fuse([m.values for m in members], list(weights), mode)
    return EnsembleResult(names, labels, fused, [float(w) for w in weights], mode, members, classes, search_info,
                          [topk_accuracy(m.values, labels) for m in members], weights_from)
