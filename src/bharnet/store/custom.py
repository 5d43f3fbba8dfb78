"""Your own data into a store: a folder of keypoint arrays, MediaPipe Holistic vectors or RGB
videos with a ``labels.csv`` (the folder's layout: :mod:`bharnet.io.custom`). Videos get their
body and hands from MediaPipe as for ``bharnet predict`` (:mod:`bharnet.video.skeleton`)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from bharnet.core.errors import UserError
from bharnet.core.layouts import get_layout
from bharnet.core.sequence import Sequence
from bharnet.core.words import plural
from bharnet.io.custom import (
    class_names,
    find_sample_file,
    label_index,
    read_custom_sample,
    read_holistic_sample,
    read_labels_csv,
)
from bharnet.store.convert import run_conversion
from bharnet.store.packed import StoreWriter
from bharnet.video.decode import VIDEO_SUFFIXES
from bharnet.video.models import resolve_model
from bharnet.video.skeleton import VIDEO_BODY_LAYOUTS, read_video_skeleton

__all__ = ["prepare_custom", "read_video_sample"]


def _find_video(folder: Path, name: str) -> Path:
    for suffix in VIDEO_SUFFIXES:
        for candidate in (folder / f"{name}{suffix}", folder / f"{name}{suffix.upper()}"):
            if candidate.is_file():
                return candidate
    raise ValueError(f"no video file {name}.* ({' '.join(VIDEO_SUFFIXES)}) for this labels.csv row")


def read_video_sample(folder: str, name: str, label: str, splits: frozenset[str], *, classes: list[str] | None,
                      layout: str, persons: int, pose_model: str, hand_model: str) -> list[Sequence]:
    """One sample of a folder of videos."""
    try:
        skeleton = read_video_skeleton(_find_video(Path(folder), name), pose_model, hand_model, body_layout=layout,
                                       num_persons=persons, require_body=False)
    except UserError as err:
        raise ValueError(str(err)) from None
    return [skeleton.sequence(name, label_index(label, classes), splits)]


@functools.cache
def _rows(folder: str) -> dict[str, tuple[str, frozenset[str]]]:
    return read_labels_csv(Path(folder))[0]  # read once per worker process, not sent with every task


def _call(read, folder: str, name: str) -> list[Sequence]:
    label, splits = _rows(folder)[name]
    return read(name=name, label=label, splits=splits)


def prepare_custom(folder: str | os.PathLike, out: str | os.PathLike, *, layout: str | None = None,
                   holistic: bool = False, videos: bool = False, persons: int = 1,
                   pose_model: str | os.PathLike | None = None, hand_model: str | os.PathLike | None = None,
                   workers: int = 1, strict: bool = False, progress: bool | None = None):
    """Convert a custom folder (see the module docstring) into a store. ``persons``, ``pose_model``
    and ``hand_model`` concern videos (the model files as :func:`bharnet.video.models.resolve_model`
    finds them)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: no such folder")
    try:
        rows, classes = read_labels_csv(folder)
    except (OSError, ValueError) as err:
        raise UserError(str(err)) from None
    if not rows:
        raise UserError(f"{folder / 'labels.csv'}: no samples")
    classes = class_names(rows, classes)
    names = list(rows)
    if holistic and videos:
        raise UserError("choose one of --holistic and --videos")
    if videos:
        read, writer_args = _video_reader(folder, classes, layout or "pose33", persons, pose_model, hand_model)
    elif holistic:
        if layout not in (None, "pose33", "pose", "mediapipe_pose"):
            raise UserError(f"Holistic vectors hold a pose33 body, not {layout}")
        read = functools.partial(read_holistic_sample, str(folder), classes=classes)
        writer_args = {"body_layout": "pose33", "num_persons": 1, "channels": 3, "arrays": ("body_conf", "hands")}
    else:
        if layout is None:
            raise UserError("give --layout (the joint layout of your arrays, e.g. coco17, ntu25, pose33)")
        try:
            lay = get_layout(layout)
        except KeyError as err:
            raise UserError(str(err.args[0])) from None
        probes = [probe for n in names for probe in [_probe(folder, n)] if probe is not None]
        if not probes:
            raise UserError(f"{folder}: none of the samples in labels.csv has a readable .npy / .npz file with a "
                            "(T, M, V, C) body")
        shape = probes[0][0]  # unreadable files are rejected one by one later
        arrays = set().union(*(names_ for _, names_ in probes))
        read = functools.partial(read_custom_sample, str(folder), classes=classes, persons=shape[1],
                                 joints=lay.num_joints, channels=shape[3])
        writer_args = {"body_layout": lay.name, "num_persons": shape[1], "channels": shape[3],
                       "arrays": tuple(a for a in ("body_conf", "hands") if a in arrays)}
    source = {"custom": str(folder.resolve()), "holistic": holistic, "videos": videos}
    with StoreWriter(out, classes=classes, source=source, **writer_args) as writer:
        summary = run_conversion(names, functools.partial(_call, read, str(folder)), writer, workers=workers,
                                 strict=strict, title=folder.name, progress=progress)
    listed = set(names)
    kinds = VIDEO_SUFFIXES if videos else (".npy", ".npz")
    unlisted = [p.name for p in folder.iterdir() if p.suffix.lower() in kinds and p.stem not in listed]
    if unlisted:
        summary.notes.append(f"{plural(len(unlisted), 'file')} not in labels.csv left out, e.g. {unlisted[0]}")
    summary.store = Path(out)
    return summary


def _video_reader(folder: Path, classes: list[str] | None, layout: str, persons: int,
                  pose_model: str | os.PathLike | None, hand_model: str | os.PathLike | None):
    try:
        layout = get_layout(layout).name
    except KeyError as err:
        raise UserError(str(err.args[0])) from None
    if layout not in VIDEO_BODY_LAYOUTS:
        raise UserError(f"--layout {layout}: videos give a {' or '.join(VIDEO_BODY_LAYOUTS)} body")
    if persons < 1:
        raise UserError(f"--persons {persons}: at least 1")
    read = functools.partial(read_video_sample, str(folder), classes=classes, layout=layout, persons=persons,
                             pose_model=str(resolve_model("pose", pose_model)),
                             hand_model=str(resolve_model("hand", hand_model)))
    return read, {"body_layout": layout, "num_persons": persons, "channels": 3, "arrays": ("body_conf", "hands")}


def _probe(folder: Path, name: str) -> tuple[tuple[int, ...], set[str]] | None:
    """The body shape and array names of a sample's file without loading it; None when there is
    no such file or it cannot be read (it is then rejected as a sample, with the reason)."""
    try:
        path = find_sample_file(folder, name)
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                shape = archive["body"].shape if "body" in archive else ()
                arrays = {n.removesuffix(".npy") for n in archive.files}
        else:
            shape, arrays = np.load(path, mmap_mode="r", allow_pickle=False).shape, {"body"}
    except Exception:  # noqa: BLE001 - any damage: the sample is rejected with the reason when read
        return None
    return (shape, arrays) if len(shape) == 4 else None
