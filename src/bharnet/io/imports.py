"""Data sets already converted by other toolkits.

- CTR-GCN / SGN ``.npz`` (``NTU60_CS.npz``): ``x_train`` (N, T, 150) = two NTU bodies of 25 joints x
  3 per frame, zero-padded at the end; ``y_train`` one-hot (N, classes) or class indices; ``x_test``,
  ``y_test``. Samples are read one at a time straight from the archive (memory stays flat however
  large it is), trailing all-zero frames are cut. Splits ``train`` / ``test``.
- pyskl annotation pickles: ``{"split": {name: [frame_dir, ...]}, "annotations": [{"frame_dir",
  "label", "keypoint" (M, T, V, C), "total_frames", optional "keypoint_score" (M, T, V)}]}``. The
  layout follows from (V, C) (25 x 3: ntu25, 17: coco17) unless given.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import numpy as np

from bharnet.core.layouts import get_layout
from bharnet.core.sequence import Sequence
from bharnet.io import check_keypoints

__all__ = ["NpzMember", "read_npz_import", "read_pyskl"]


class NpzMember:
    """One array of an ``.npz`` archive, read row by row from the archive stream (stored or deflated)."""

    def __init__(self, path: str | os.PathLike, key: str) -> None:
        self.path, self.key = Path(path), key
        self._stream = None
        self._next = 0
        with zipfile.ZipFile(self.path) as zf:
            if f"{key}.npy" not in zf.namelist():
                raise KeyError(f"{self.path.name} has no array {key!r} (it has "
                               f"{', '.join(n.removesuffix('.npy') for n in zf.namelist())})")
        self.shape, self.dtype = self._open()
        self.row_bytes = int(np.prod(self.shape[1:])) * self.dtype.itemsize

    def _open(self):
        self.close()
        self._zip = zipfile.ZipFile(self.path)
        self._stream = self._zip.open(f"{self.key}.npy")
        version = np.lib.format.read_magic(self._stream)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
            np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(self._stream)
        if fortran:
            raise ValueError(f"{self.path.name}: {self.key} is stored in Fortran order; save it in C order")
        self._next = 0
        return shape, dtype

    def row(self, i: int) -> np.ndarray:
        """Row ``i``; reading forward is cheap, going back reopens the archive."""
        if i < self._next:
            self._open()
        while self._next < i:  # skip rows an earlier run already converted
            self._stream.read(self.row_bytes)
            self._next += 1
        data = self._stream.read(self.row_bytes)
        if len(data) != self.row_bytes:
            raise ValueError(f"{self.path.name}: {self.key} ends inside row {i} (truncated archive)")
        self._next += 1
        return np.frombuffer(data, self.dtype).reshape(self.shape[1:])

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._zip.close()
            self._stream = None


def _labels(path: Path, key: str, n: int) -> tuple[np.ndarray, int]:
    """Class indices and the number of classes (the one-hot width, else the largest index + 1)."""
    with np.load(path) as archive:
        if key not in archive:
            raise KeyError(f"{path.name} has no array {key!r}")
        y = np.asarray(archive[key])
    width = y.shape[1] if y.ndim == 2 else int(y.max(initial=-1)) + 1
    if y.ndim == 2:  # one-hot
        y = y.argmax(1)
    if y.shape != (n,):
        raise ValueError(f"{path.name}: {key} holds {len(y)} labels for {n} samples")
    return y.astype(np.int64), width


def read_npz_import(path: str | os.PathLike) -> list[tuple[str, NpzMember, np.ndarray, int]]:
    """The parts of a CTR-GCN ``.npz``: ``[(part, x rows, labels, number of classes)]`` for train and test."""
    path = Path(path)
    parts = []
    for part in ("train", "test"):
        member = NpzMember(path, f"x_{part}")
        if len(member.shape) != 3 or member.shape[2] != 150:
            raise ValueError(f"{path.name}: x_{part} has shape {member.shape}, expected (N, T, 150)")
        labels, width = _labels(path, f"y_{part}", member.shape[0])
        parts.append((part, member, labels, width))
    return parts


def npz_sample(member: NpzMember, labels: np.ndarray, part: str, num_classes: int, index: int) -> Sequence:
    x = member.row(index).reshape(-1, 2, 25, 3)
    nonzero = np.flatnonzero(np.any(x != 0, axis=(1, 2, 3)))
    if len(nonzero) == 0:
        raise ValueError("zero frames (all padding)")
    label = int(labels[index])
    if not 0 <= label < num_classes:
        raise ValueError(f"unknown label {label}")
    return Sequence(name=f"{part}_{index:06d}", label=label, body=x[: nonzero[-1] + 1].astype(np.float32),
                    splits=frozenset({part}))


def pyskl_sample(annotation: dict, *, persons: int, joints: int, channels: int, splits: dict[str, set],
                  num_classes: int | None) -> Sequence:
    name = str(annotation.get("frame_dir", "?"))
    keypoint = np.asarray(annotation["keypoint"], np.float32)
    check_keypoints(keypoint.shape, persons_axis=0, persons=persons, joints=joints, channels=channels,
                    what="keypoint")
    m, t, v, c = keypoint.shape
    label = int(annotation["label"])
    if label < 0 or (num_classes is not None and label >= num_classes):
        raise ValueError(f"unknown label {label}")
    body = np.zeros((t, persons, v, c), np.float32)
    body[:, :m] = keypoint.transpose(1, 0, 2, 3)
    conf = None
    if "keypoint_score" in annotation:
        conf = np.zeros((t, persons, v), np.float32)
        conf[:, :m] = np.asarray(annotation["keypoint_score"], np.float32).transpose(1, 0, 2)
    return Sequence(name=name, label=label, body=body, body_conf=conf,
                    splits=frozenset(s for s, members in splits.items() if name in members))


def layout_for(v: int, c: int, layout: str | None) -> str:
    if layout:
        return get_layout(layout).name
    guess = {25: "ntu25", 17: "coco17", 20: "ucla20", 33: "pose33"}.get(v)
    if guess is None:
        raise ValueError(f"cannot tell the layout of {v} joints: give --layout")
    return guess


class _PlainData(pickle._Unpickler):
    """Unpickles containers, numbers, strings and NumPy arrays only: a pickle that names any other
    callable (which plain ``pickle.load`` would run) is refused, so importing a file from elsewhere
    never runs code from it.

    Built on the pure-Python unpickler: the C one keeps its memo as an array, so one damaged
    ``LONG_BINPUT`` index (say 1.5e9) makes it allocate and zero gigabytes before it fails; this one
    keeps a dict. On pyskl files, whose bulk is array bytes, it is about 1.5x slower (1.7 s vs 1.2 s
    for 1.6 GB)."""

    _ALLOWED = {
        *((f"numpy.{core}.multiarray", name) for core in ("core", "_core") for name in ("_reconstruct", "scalar")),
        *((f"numpy.{core}.numeric", "_frombuffer") for core in ("core", "_core")),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"), ("collections", "OrderedDict"),
        ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "complex"), ("builtins", "slice"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self._ALLOWED or (module == "numpy.dtypes" and name.endswith("DType")):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refused: the pickle would call {module}.{name}; only plain data and NumPy "
                                     "arrays are read from a .pkl (nothing in the file is run)")


def read_pyskl(path: str | os.PathLike) -> dict:
    """A pyskl annotation pickle as plain data and NumPy arrays; ``pickle.UnpicklingError`` when it
    would run code, ``ValueError`` when it is not a pyskl annotation file."""
    with open(path, "rb") as f:
        data = _PlainData(f).load()
    if not isinstance(data, dict) or "annotations" not in data:
        raise ValueError("not a pyskl annotation file (a dict with 'split' and 'annotations')")
    return data
