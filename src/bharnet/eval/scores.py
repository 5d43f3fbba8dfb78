"""Scores files: the per-sample outputs of one model on one split, per branch.

Format (``bharnet-scores`` version 1), a NumPy ``.npz`` archive readable without pickle:

========================  =====================  ================================================
key                       array                  meaning
========================  =====================  ================================================
``names``                 (N,) unicode           sample names, unique (samples are matched by name)
``labels``                (N,) int64             true class index, 0 <= label < K
``logits/<branch>``       (N, K) float32         raw scores of one branch; ``logits/logits`` is
                                                 the model's prediction, others e.g. ``body``,
                                                 ``hand``, ``body_expert``, ``hand_inter``
``meta``                  () unicode             a JSON object (below)
========================  =====================  ================================================

``meta`` holds ``format`` and ``version`` (added on save) and whatever the writer knows:
``classes`` (K names), ``variant``, ``backbone``, ``modality`` ("joint", "bone",
"joint_motion", "bone_motion", "rgb"), ``dataset``, ``split``, ``checkpoint``, ``params``,
``macs``, ``class_groups`` ({"body": [ids], ...}), ``perturbation`` ("noise=0.01"), ...
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bharnet.core.atomic import atomic_file
from bharnet.core.errors import UserError
from bharnet.core.jsontext import json_text

__all__ = ["Scores", "ScoresCollector", "save_scores", "load_scores", "is_scores_file", "FORMAT", "VERSION",
           "LOGITS_PREFIX"]

FORMAT = "bharnet-scores"
VERSION = 1
LOGITS_PREFIX = "logits/"


@dataclass
class Scores:
    """The content of one scores file. ``logits`` maps a branch name to its (N, K) scores."""

    names: np.ndarray
    labels: np.ndarray
    logits: dict[str, np.ndarray]
    meta: dict = field(default_factory=dict)
    path: Path | None = None

    @property
    def num_samples(self) -> int:
        return len(self.names)

    @property
    def num_classes(self) -> int:
        return next(iter(self.logits.values())).shape[1]

    @property
    def classes(self) -> list[str]:
        """Class names from the meta, else the class indices as strings."""
        classes = self.meta.get("classes")
        return list(classes) if classes else [str(i) for i in range(self.num_classes)]

    @property
    def split(self) -> str | None:
        return self.meta.get("split")

    @property
    def source(self) -> str:
        """How to name this file in messages."""
        return str(self.path) if self.path is not None else "<scores in memory>"

    def branch(self, name: str = "logits") -> np.ndarray:
        """The (N, K) scores of one branch; a ``UserError`` lists the branches when it is absent."""
        if name not in self.logits:
            raise UserError(f"{self.source}: no branch {name!r}; it has {', '.join(sorted(self.logits))}")
        return self.logits[name]

    def sorted_by_name(self) -> Scores:
        """The same scores with samples sorted by name."""
        order = np.argsort(self.names, kind="stable")
        return Scores(self.names[order], self.labels[order], {k: v[order] for k, v in self.logits.items()},
                      dict(self.meta), self.path)


def _validate(names: np.ndarray, labels: np.ndarray, logits: dict[str, np.ndarray], where: str) -> None:
    """Raise ``ValueError`` naming the first inconsistency."""
    n = len(names)
    if names.ndim != 1:
        raise ValueError(f"{where}: names must be 1-D, got shape {names.shape}")
    if labels.shape != (n,):
        raise ValueError(f"{where}: labels have shape {labels.shape}, expected ({n},)")
    if not logits:
        raise ValueError(f"{where}: no logits branch")
    if len(set(names.tolist())) != n:
        seen: set[str] = set()
        dup = next(x for x in names.tolist() if x in seen or seen.add(x))
        raise ValueError(f"{where}: sample name {dup!r} occurs more than once")
    num_classes = None
    for branch, arr in logits.items():
        if arr.ndim != 2 or arr.shape[0] != n or arr.shape[1] != (num_classes or arr.shape[1]):
            raise ValueError(f"{where}: branch {branch!r} has shape {arr.shape}, expected ({n}, {num_classes or 'K'})")
        num_classes = arr.shape[1]
    if n and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{where}: labels must lie in [0, {num_classes}), found {labels.min()}..{labels.max()}")


def save_scores(path: str | os.PathLike, names, labels, logits: dict[str, np.ndarray],
                meta: dict | None = None) -> Path:
    """Write a scores file atomically (a temporary file in the same folder, then a rename).

    ``names`` are the sample names (unique), ``labels`` the true classes, ``logits`` one (N, K)
    array per branch (it should include ``"logits"``, the prediction), ``meta`` a JSON-able dict.
    Returns the path written; raises ``ValueError`` for inconsistent arrays.
    """
    path = Path(path)
    names_arr = np.asarray([str(x) for x in names], dtype=str)
    labels_arr = np.asarray(labels, dtype=np.int64)
    arrays = {branch: np.asarray(_to_numpy(v), dtype=np.float32) for branch, v in logits.items()}
    _validate(names_arr, labels_arr, arrays, str(path))
    full_meta = {**(meta or {}), "format": FORMAT, "version": VERSION}
    meta_json = json_text(full_meta, default=_json_default)
    payload = {"names": names_arr, "labels": labels_arr, "meta": np.asarray(meta_json)}
    payload.update({LOGITS_PREFIX + branch: arr for branch, arr in arrays.items()})
    with atomic_file(path) as f:
        np.savez(f, **payload)  # a file object: numpy adds no ".npz" to the name
    return path


def is_scores_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a readable bharnet scores file (one a later run may replace)."""
    try:
        load_scores(path)
    except UserError:
        return False
    return True


def load_scores(path: str | os.PathLike) -> Scores:
    """Read a scores file; a ``UserError`` names the file and the problem when it is missing,
    not an ``.npz``, or not a bharnet scores file."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such scores file")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":  # every .npz is a zip archive
            raise UserError(f"{path}: not a scores file (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = set(data.files)
            if "meta" not in keys or "names" not in keys or "labels" not in keys:
                raise UserError(f"{path}: not a bharnet scores file (it holds {', '.join(sorted(keys)) or 'nothing'})")
            meta = json.loads(str(data["meta"]))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise UserError(f"{path}: not a bharnet scores file (format {meta.get('format')!r})")
            if meta.get("version") != VERSION:
                raise UserError(f"{path}: scores format version {meta.get('version')}, this bharnet reads {VERSION}")
            names = data["names"].astype(str)
            labels = data["labels"].astype(np.int64)
            logits = {k[len(LOGITS_PREFIX):]: data[k].astype(np.float32) for k in data.files
                      if k.startswith(LOGITS_PREFIX)}
    except (zipfile.BadZipFile, OSError, ValueError, json.JSONDecodeError) as err:
        raise UserError(f"{path}: not a readable scores file ({err})") from err
    try:
        _validate(names, labels, logits, str(path))
    except ValueError as err:
        raise UserError(str(err)) from err
    return Scores(names, labels, logits, meta, path)


class ScoresCollector:
    """Accumulate a model's outputs batch by batch, then write one scores file.

    >>> collector = ScoresCollector()
    >>> for batch in loader:
    ...     collector.add(batch["name"], batch["label"], model(batch))  # {"logits": ..., "body": ...}
    >>> collector.save("j.npz", {"split": "test", ...})
    """

    def __init__(self) -> None:
        self.names: list[str] = []
        self.labels: list[np.ndarray] = []
        self.logits: dict[str, list[np.ndarray]] = {}

    def add(self, names, labels, outputs: dict) -> None:
        """One batch: sample names, labels and a dict of (B, K) outputs per branch (tensors or arrays)."""
        if self.logits and set(outputs) != set(self.logits):
            raise ValueError(f"batch has branches {sorted(outputs)}, earlier batches {sorted(self.logits)}")
        self.names.extend(str(n) for n in names)
        self.labels.append(np.asarray(_to_numpy(labels), dtype=np.int64).reshape(-1))
        for branch, value in outputs.items():
            self.logits.setdefault(branch, []).append(np.asarray(_to_numpy(value), dtype=np.float32))

    def __len__(self) -> int:
        return len(self.names)

    def save(self, path: str | os.PathLike, meta: dict | None = None) -> Path:
        labels = np.concatenate(self.labels) if self.labels else np.zeros(0, np.int64)
        return save_scores(path, self.names, labels, {k: np.concatenate(v) for k, v in self.logits.items()}, meta)


def _to_numpy(value) -> np.ndarray:
    """Accept NumPy arrays and (CPU or GPU) torch tensors."""
    if hasattr(value, "detach"):
        return value.detach().float().cpu().numpy()
    return np.asarray(value)


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"meta value {obj!r} of type {type(obj).__name__} is not JSON-serialisable")
