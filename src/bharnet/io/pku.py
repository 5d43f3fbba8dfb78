"""PKU-MMD (v1): long Kinect v2 recordings cut into labelled clips.

Per video (``0002-L``: sequence 0002 seen from the left, middle or right camera) a skeleton file
``0002-L.txt`` with one line per frame of 150 numbers (two bodies x 25 joints x x, y, z; zeros
where the second body is absent) and a label file ``0002-L.txt`` with one line per action instance
``action_id,start_frame,end_frame,confidence`` (action 1..51). Each labelled segment becomes one
sample, ``frames[start:end]`` (the slicing of the public preprocessing scripts).

Splits: cross-view trains on the middle and right cameras and tests on the left one; cross-subject
follows the official list ``cross-subject.txt`` ("Training videos: ..., Validataion videos: ...")
from the data set's ``Split`` folder, given with ``splits_dir`` or found beside the skeleton folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from bharnet.core.sequence import Sequence
from bharnet.io.textnum import tokenize_numbers

__all__ = ["PKU_CLASSES", "read_pku_video", "read_pku_labels", "read_split_file"]

#: the 51 actions in the order of their ids (Actions.xlsx)
PKU_CLASSES = [
    "bow", "brushing hair", "brushing teeth", "check time (from watch)", "cheer up", "clapping",
    "cross hands in front (say stop)", "drink water", "drop", "eat meal/snack", "falling",
    "giving something to other person", "hand waving", "handshaking", "hopping (one foot jumping)",
    "hugging other person", "jump up", "kicking other person", "kicking something",
    "make a phone call/answer phone", "pat on back of other person", "pickup", "playing with phone/tablet",
    "point finger at the other person", "pointing to something with finger", "punching/slapping other person",
    "pushing other person", "put on a hat/cap", "put something inside pocket", "reading", "rub two hands together",
    "salute", "sitting down", "standing up", "take off a hat/cap", "take off glasses", "take off jacket",
    "take out something from pocket", "taking a selfie", "tear up paper", "throw", "touch back (backache)",
    "touch chest (stomachache/heart pain)", "touch head (headache)", "touch neck (neckache)",
    "typing on a keyboard", "use a fan (with hand or paper)/feeling warm", "wear jacket", "wear on glasses",
    "wipe face", "writing",
]
_VALUES_PER_FRAME = 150
_VIDEO = re.compile(r"(\d{4})-([LMR])$")


def read_pku_video(path: str | os.PathLike) -> np.ndarray:
    """A skeleton file -> ``(T, 2, 25, 3)`` float64; ``ValueError`` naming the line when malformed."""
    path = Path(path)
    buf = path.read_bytes()
    tokens = tokenize_numbers(buf)
    if len(tokens) == 0:
        raise ValueError(f"{path.name}: zero frames")
    per_line = np.diff(tokens.line_first)
    wrong = np.flatnonzero((per_line != 0) & (per_line != _VALUES_PER_FRAME))
    if len(wrong):
        li = int(wrong[0])
        hint = " (truncated file?)" if li == np.flatnonzero(per_line)[-1] else ""
        raise ValueError(f"{path.name}, line {li + 1}: {per_line[li]} values, expected {_VALUES_PER_FRAME} "
                         f"(2 bodies x 25 joints x 3){hint}")
    if len(tokens.bad):
        i = int(tokens.bad[0])
        raise ValueError(f"{path.name}, line {tokens.line_of(i) + 1}: non-numeric value {tokens.text(i)!r}")
    values = tokens.values
    if not np.isfinite(values).all():
        i = int(np.flatnonzero(~np.isfinite(values))[0])
        raise ValueError(f"{path.name}, line {tokens.line_of(i) + 1}: NaN or infinite value")
    return values.reshape(-1, 2, 25, 3)


def read_pku_labels(path: str | os.PathLike, num_frames: int) -> list[tuple[int, int, int]]:
    """A label file -> ``[(label 0..50, start, end)]``; ``ValueError`` naming the line when malformed."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"no label file {path}")
    segments = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split(",")]
        try:
            action, start, end = (int(f) for f in fields[:3])
        except ValueError:
            raise ValueError(f"{path.name}, line {number}: expected action,start,end,confidence; got {line!r}") \
                from None
        if not 1 <= action <= len(PKU_CLASSES):
            raise ValueError(f"{path.name}, line {number}: unknown label {action} (PKU-MMD actions are 1..51)")
        if not 0 <= start < end <= num_frames:
            raise ValueError(f"{path.name}, line {number}: segment {start}..{end} outside the {num_frames} frames "
                             "of the skeleton file")
        segments.append((action - 1, start, end))
    if not segments:
        raise ValueError(f"{path.name}: no labelled segment")
    return segments


def read_split_file(path: str | os.PathLike) -> tuple[set[str], set[str]]:
    """An official split file -> (training videos, test videos)."""
    text = Path(path).read_text()
    match = re.search(r"Training videos:(.*?)Valid\w*ion videos:(.*)", text, re.S | re.I)
    if match is None:
        raise ValueError(f"{path}: expected 'Training videos: ...' and 'Validation videos: ...'")
    train, test = ({v.strip() for v in part.split(",") if v.strip()} for part in match.groups())
    return train, test


def _splits(video: str, xsub: tuple[set[str], set[str]] | None) -> frozenset[str]:
    view = _VIDEO.match(video)
    if view is None:
        raise ValueError(f"{video!r} is not a PKU-MMD video name (NNNN-L, -M or -R)")
    out = {"xview_test" if view.group(2) == "L" else "xview_train"}
    if xsub is not None:
        if video in xsub[0]:
            out.add("xsub_train")
        elif video in xsub[1]:
            out.add("xsub_test")
    return frozenset(out)


def read_pku_sample(path: str, *, labels_dir: str, xsub: tuple[set[str], set[str]] | None = None) -> list[Sequence]:
    """One video -> one :class:`Sequence` per labelled segment (named ``<video>_<k>``)."""
    video = Path(path).stem
    splits = _splits(video, xsub)
    frames = read_pku_video(path)
    segments = read_pku_labels(Path(labels_dir) / Path(path).name, len(frames))
    return [Sequence(name=f"{video}_{k:02d}", label=label, body=frames[start:end].astype(np.float32), splits=splits)
            for k, (label, start, end) in enumerate(segments)]


