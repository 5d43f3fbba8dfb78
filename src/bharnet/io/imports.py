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

from ..layouts import get_layout
from ..sequence import Sequence
from . import check_keypoints

__all__ = ["NpzMember", "read_npz_import", "prepare_import"]


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


def _npz_sample(member: NpzMember, labels: np.ndarray, part: str, num_classes: int, index: int) -> Sequence:
    x = member.row(index).reshape(-1, 2, 25, 3)
    nonzero = np.flatnonzero(np.any(x != 0, axis=(1, 2, 3)))
    if len(nonzero) == 0:
        raise ValueError("zero frames (all padding)")
    label = int(labels[index])
    if not 0 <= label < num_classes:
        raise ValueError(f"unknown label {label}")
    return Sequence(name=f"{part}_{index:06d}", label=label, body=x[: nonzero[-1] + 1].astype(np.float32),
                    splits=frozenset({part}))


def _pyskl_sample(annotation: dict, *, persons: int, joints: int, channels: int, splits: dict[str, set],
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


def _layout_for(v: int, c: int, layout: str | None) -> str:
    if layout:
        return get_layout(layout).name
    guess = {25: "ntu25", 17: "coco17", 20: "ucla20", 33: "pose33"}.get(v)
    if guess is None:
        raise ValueError(f"cannot tell the layout of {v} joints: give --layout")
    return guess


def _classes_for(layout: str, num_classes: int) -> list[str] | None:
    from .ntu import NTU_CLASSES

    if layout == "ntu25" and num_classes in (60, 120):
        return NTU_CLASSES[:num_classes]
    return None


def prepare_import(file: str | os.PathLike, out: str | os.PathLike, *, layout: str | None = None,
                   strict: bool = False, progress: bool | None = None):
    """Convert a CTR-GCN ``.npz`` or a pyskl ``.pkl`` into a store."""
    from ..errors import UserError

    file = Path(file)
    if not file.is_file():
        raise UserError(f"{file}: no such file")
    try:
        if file.suffix == ".npz":
            return _prepare_npz(file, out, layout=layout, strict=strict, progress=progress)
        if file.suffix in (".pkl", ".pickle"):
            return _prepare_pyskl(file, out, layout=layout, strict=strict, progress=progress)
    except UserError:
        raise
    except Exception as err:  # noqa: BLE001 - a damaged archive fails in many ways (zipfile, zlib, numpy, pickle)
        detail = str(err) if isinstance(err, (ValueError, KeyError, pickle.UnpicklingError)) and str(err) \
            else f"{type(err).__name__}: {err}"
        raise UserError(f"{file}: not a readable import file ({detail})") from None
    raise UserError(f"{file}: expected a CTR-GCN .npz or a pyskl .pkl")


def _prepare_npz(file: Path, out, *, layout, strict, progress):
    import functools

    from ..prepare import PrepareSummary, run_conversion
    from ..store import StoreWriter

    if layout not in (None, "ntu25", "ntu"):
        raise ValueError(f"a CTR-GCN .npz holds ntu25 skeletons, not {layout}")
    parts = read_npz_import(file)
    num_classes = max(width for *_, width in parts)
    total = PrepareSummary(store=Path(out))
    with StoreWriter(out, body_layout="ntu25", num_persons=2, classes=_classes_for("ntu25", num_classes),
                     source={"import": str(file.resolve()), "format": "ctr-gcn npz"}) as writer:
        for part, member, labels, _ in parts:
            convert = functools.partial(_convert_npz, member, labels, part, num_classes)
            summary = run_conversion((f"{part}/{i}" for i in range(member.shape[0])), convert, writer,
                                     strict=strict, title=f"{file.name} {part}", progress=progress,
                                     total=member.shape[0])
            member.close()
            _merge(total, summary)
    return total


def _convert_npz(member, labels, part, num_classes, source: str) -> list[Sequence]:
    return [_npz_sample(member, labels, part, num_classes, int(source.split("/")[1]))]


class _PlainData(pickle.Unpickler):
    """Unpickles containers, numbers, strings and NumPy arrays only: a pickle that names any other
    callable (which plain ``pickle.load`` would run) is refused, so importing a file from elsewhere
    never runs code from it."""

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


def _prepare_pyskl(file: Path, out, *, layout, strict, progress):
    from ..prepare import run_conversion
    from ..store import StoreWriter

    with open(file, "rb") as f:
        data = _PlainData(f).load()
    if not isinstance(data, dict) or "annotations" not in data:
        raise ValueError("not a pyskl annotation file (a dict with 'split' and 'annotations')")
    annotations = data["annotations"]
    if not annotations:
        raise ValueError("no annotations")
    first = np.asarray(annotations[0]["keypoint"])
    v, c = first.shape[-2:]
    name = _layout_for(v, c, layout)
    persons = max(np.asarray(a["keypoint"]).shape[0] for a in annotations)
    labels = [int(a["label"]) for a in annotations]
    num_classes = max(labels) + 1
    classes = _classes_for(name, 120 if num_classes > 60 else 60) if name == "ntu25" else None
    splits = {k: set(map(str, members)) for k, members in data.get("split", {}).items()}
    has_score = any("keypoint_score" in a for a in annotations)
    with StoreWriter(out, body_layout=name, num_persons=persons, channels=int(c),
                     arrays=("body_conf",) if has_score else (), classes=classes,
                     source={"import": str(file.resolve()), "format": "pyskl"}) as writer:

        def convert(source: str) -> list[Sequence]:
            return [_pyskl_sample(annotations[int(source)], persons=persons, joints=int(v), channels=int(c),
                                  splits=splits, num_classes=len(classes) if classes else None)]

        summary = run_conversion([str(i) for i in range(len(annotations))], convert, writer,
                                 key=lambda s: str(annotations[int(s)].get("frame_dir", s)), strict=strict,
                                 title=file.name, progress=progress)
    summary.store = Path(out)
    return summary


def _merge(total, summary) -> None:
    total.inputs += summary.inputs
    total.converted += summary.converted
    total.samples += summary.samples
    total.resumed += summary.resumed
    total.rejected += summary.rejected
    total.seconds += summary.seconds
