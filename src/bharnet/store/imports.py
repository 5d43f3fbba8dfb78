"""Data sets prepared by other toolboxes into a store: a CTR-GCN ``.npz`` or a pyskl ``.pkl``."""

from __future__ import annotations

import functools
import os
import pickle
from pathlib import Path

import numpy as np

from bharnet.core.errors import UserError
from bharnet.core.sequence import Sequence
from bharnet.io.imports import layout_for, npz_sample, pyskl_sample, read_npz_import, read_pyskl
from bharnet.io.ntu import NTU_CLASSES
from bharnet.store.convert import PrepareSummary, run_conversion
from bharnet.store.packed import StoreWriter

__all__ = ["prepare_import"]


def _classes_for(layout: str, num_classes: int) -> list[str] | None:
    if layout == "ntu25" and num_classes in (60, 120):
        return NTU_CLASSES[:num_classes]
    return None


def prepare_import(file: str | os.PathLike, out: str | os.PathLike, *, layout: str | None = None,
                   strict: bool = False, progress: bool | None = None):
    """Convert a CTR-GCN ``.npz`` or a pyskl ``.pkl`` into a store."""
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
    return [npz_sample(member, labels, part, num_classes, int(source.split("/")[1]))]


def _prepare_pyskl(file: Path, out, *, layout, strict, progress):
    data = read_pyskl(file)
    annotations = data["annotations"]
    if not annotations:
        raise ValueError("no annotations")
    first = np.asarray(annotations[0]["keypoint"])
    v, c = first.shape[-2:]
    name = layout_for(v, c, layout)
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
            return [pyskl_sample(annotations[int(source)], persons=persons, joints=int(v), channels=int(c),
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
