"""Your own data: a folder of NumPy files and a ``labels.csv``.

Layout of the folder::

    labels.csv          name,label[,split]     one row per sample; label = a class index or name;
                                               split = one or more names separated by ";"
    classes.txt         optional: one class name per line (fixes the order of named labels)
    <name>.npy          body (T, M, V, C) in the named layout (--layout coco17, ntu25, pose33, ...)
    <name>.npz          or: body (T, M, V, C), optional body_conf (T, M, V), hands (T, 2, 21, 3),
                        hand_conf (T, 2, 21); 2D hands (T, 2, 21, 2) get z = 0

With ``holistic=True`` each sample is instead MediaPipe Holistic per-frame vectors, a ``(T, 1662)``
array (pose 33 x (x, y, z, visibility), face 468 x 3, left hand 21 x 3, right hand 21 x 3) or a
``(T, 258)`` one (no face), zeros where nothing was detected; either a ``<name>.npy`` or a folder
``<name>/`` of per-frame ``0.npy, 1.npy, ...``. It becomes a pose33 body (visibility as confidence)
and the two hands.

With ``videos=True`` each sample is an RGB video ``<name>.mp4`` (or .avi, .mov, ...): its body and
hands come from MediaPipe as for ``bharnet predict`` (:mod:`bharnet.video.skeleton`), in the ``pose33``
layout (image landmarks) or ``ntu25`` (world landmarks on Kinect's joints and axes). A video where
the pose landmarker finds nobody but the hand landmarker finds hands keeps a zero body with zero
confidence (a close-up of a hand still feeds a hand expert).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from bharnet.core.sequence import Sequence
from bharnet.io import check_keypoints, load_numpy

__all__ = ["read_labels_csv", "read_custom_sample", "read_holistic"]

_OPTIONAL = ("body_conf", "hands", "hand_conf")
_HOLISTIC_SIZES = {1662: True, 258: False}  # vector length -> has the face block


def read_labels_csv(folder: Path) -> tuple[dict[str, tuple[str, frozenset[str]]], list[str] | None]:
    """``labels.csv`` -> ({name: (label text, splits)}, class names from classes.txt or None)."""
    path = folder / "labels.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path}: missing (one row per sample: name,label[,split])")
    rows: dict[str, tuple[str, frozenset[str]]] = {}
    first_line: dict[str, int] = {}
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            lines = list(enumerate(csv.reader(f), 1))
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text (byte {err.start}); save it as UTF-8") from None
    for number, row in lines:
        if not row or not "".join(row).strip() or row[0].startswith("#"):
            continue
        if number == 1 and [c.strip().lower() for c in row[:2]] == ["name", "label"]:
            continue  # a header
        if len(row) < 2:
            raise ValueError(f"{path}, line {number}: expected name,label[,split], got {','.join(row)!r}")
        name = row[0].strip()
        if name in first_line:
            raise ValueError(f"{path}, line {number}: {name} again (first on line {first_line[name]}); "
                             "each sample is listed once")
        first_line[name] = number
        splits = frozenset(s.strip() for s in row[2].split(";") if s.strip()) if len(row) > 2 else frozenset()
        rows[name] = (row[1].strip(), splits)
    classes_path = folder / "classes.txt"
    classes = None
    if classes_path.exists():
        try:
            classes = [c.strip() for c in classes_path.read_text(encoding="utf-8").splitlines() if c.strip()]
        except UnicodeDecodeError as err:
            raise ValueError(f"{classes_path}: not UTF-8 text (byte {err.start}); save it as UTF-8") from None
    return rows, classes


def class_names(rows: dict[str, tuple[str, frozenset[str]]], classes: list[str] | None) -> list[str] | None:
    if classes is not None:
        return classes
    labels = [label for label, _ in rows.values()]
    if all(label.lstrip("-").isdigit() for label in labels):
        return None  # class indices: the store numbers the classes
    return sorted({label for label in labels if not label.lstrip("-").isdigit()})


def label_index(text: str, classes: list[str] | None) -> int:
    if classes is not None and text in classes:
        return classes.index(text)
    if text.lstrip("-").isdigit():
        index = int(text)
        if index < 0 or (classes is not None and index >= len(classes)):
            raise ValueError(f"unknown label {text!r}")
        return index
    raise ValueError(f"unknown label {text!r}" + (f" (classes: {', '.join(classes[:8])}...)" if classes else ""))


def find_sample_file(folder: Path, name: str) -> Path:
    for candidate in (folder / f"{name}.npz", folder / f"{name}.npy", folder / name):
        if candidate.exists():
            return candidate
    raise ValueError(f"no file {name}.npy / {name}.npz for this labels.csv row")






def _load_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a sample file; ``ValueError`` naming the file when it is not readable."""
    arrays = load_numpy(path, ("body", *_OPTIONAL))
    if not isinstance(arrays, dict):
        arrays = {"body": arrays}
    elif "body" not in arrays:
        raise ValueError(f"{path.name} has no 'body' array")
    try:
        return {k: np.asarray(v, np.float32) for k, v in arrays.items()}
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path.name}: arrays of numbers expected ({err})") from None


def read_custom_sample(folder: str, name: str, label: str, splits: frozenset[str], *, classes: list[str] | None,
                       persons: int, joints: int, channels: int) -> list[Sequence]:
    """One sample of the generic format."""
    path = find_sample_file(Path(folder), name)
    arrays = _load_arrays(path)
    body = arrays.pop("body")
    check_keypoints(body.shape, persons_axis=1, persons=persons, joints=joints, channels=channels,
                    what=f"{path.name}: body")
    seq = Sequence(name=name, label=label_index(label, classes), body=_pad_persons(body, persons), splits=splits)
    if "body_conf" in arrays:
        seq.body_conf = _pad_persons(arrays["body_conf"], persons)
    if "hands" in arrays:
        seq.hands = _with_depth(arrays["hands"])
        seq.hand_conf = arrays.get("hand_conf", np.ones(seq.hands.shape[:3], np.float32))
    return [seq]


def _with_depth(hands: np.ndarray) -> np.ndarray:
    """2D hands ``(T, 2, 21, 2)`` (a 2D estimator's) as the stored ``(T, 2, 21, 3)``, with z = 0."""
    if hands.ndim == 4 and hands.shape[-1] == 2:
        return np.concatenate([hands, np.zeros((*hands.shape[:-1], 1), hands.dtype)], axis=-1)
    return hands


def _pad_persons(x: np.ndarray, persons: int) -> np.ndarray:
    if x.shape[1] == persons:
        return x
    out = np.zeros((x.shape[0], persons, *x.shape[2:]), np.float32)
    out[:, : x.shape[1]] = x
    return out


def read_holistic(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe Holistic vectors -> body (T, 1, 33, 3), body_conf (T, 1, 33), hands (T, 2, 21, 3),
    hand_conf (T, 2, 21). ``path`` is a ``(T, 1662)`` / ``(T, 258)`` ``.npy`` or a folder of per-frame
    ``.npy`` vectors."""
    path = Path(path)
    if path.is_dir():
        frames = sorted(path.glob("*.npy"), key=lambda p: (len(p.stem), p.stem))
        if not frames:
            raise ValueError(f"{path.name}/: no per-frame .npy files")
        vectors = [np.asarray(load_numpy(f)).ravel() for f in frames]
        if len({len(v) for v in vectors}) != 1:
            raise ValueError(f"{path.name}/: per-frame vectors of different lengths")
        x = np.stack(vectors)
    else:
        x = np.asarray(load_numpy(path))
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"{path.name}: {x.dtype} values, expected numbers")
    x = x.astype(np.float32)
    if x.ndim != 2 or x.shape[1] not in _HOLISTIC_SIZES:
        raise ValueError(f"{path.name}: shape {x.shape}, expected (T, 1662) or (T, 258) Holistic vectors")
    if len(x) == 0:
        raise ValueError(f"{path.name}: zero frames")
    pose = x[:, :132].reshape(-1, 33, 4)
    offset = 132 + (1404 if _HOLISTIC_SIZES[x.shape[1]] else 0)  # the face block is not used
    hands = x[:, offset:offset + 126].reshape(-1, 2, 21, 3)
    detected = np.any(hands != 0, axis=-1).any(-1)  # (T, 2): a hand all zeros was not detected
    hand_conf = np.repeat(detected[..., None], 21, axis=-1).astype(np.float32)
    return pose[:, None, :, :3].copy(), pose[:, None, :, 3].copy(), hands.copy(), hand_conf


def read_holistic_sample(folder: str, name: str, label: str, splits: frozenset[str], *,
                         classes: list[str] | None) -> list[Sequence]:
    body, body_conf, hands, hand_conf = read_holistic(find_sample_file(Path(folder), name))
    return [Sequence(name=name, label=label_index(label, classes), body=body, body_conf=body_conf, hands=hands,
                     hand_conf=hand_conf, splits=splits)]












