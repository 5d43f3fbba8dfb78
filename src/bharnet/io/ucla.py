"""Northwestern-UCLA Multiview Action 3D, as the CTR-GCN code distributes it.

One JSON file per clip: ``{"file_name": "a01_s01_e00_v01", "skeletons": [T][20][3], "label": 1..10}``
(Kinect v1, 20 joints, one person). The standard protocol trains on views 1 and 2 and tests on
view 3 (the ``_vNN`` suffix of the name).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from bharnet.core.sequence import Sequence

__all__ = ["UCLA_CLASSES", "read_ucla", "list_ucla", "ucla_splits"]

#: the ten actions, in label order (the files' labels 1..10 are actions a01-a06, a08, a09, a11, a12)
UCLA_CLASSES = [
    "pick up with one hand", "pick up with two hands", "drop trash", "walk around", "sit down", "stand up",
    "donning", "doffing", "throw", "carry",
]
_NAME = re.compile(r"a(\d+)_s(\d+)_e(\d+)_v(\d+)$")
_JOINTS = 20


def ucla_splits(name: str) -> frozenset[str]:
    """``{"train"}`` for views 1 and 2, ``{"test"}`` for view 3 (from a name like ``a01_s01_e00_v03``)."""
    match = _NAME.match(name)
    if match is None:
        raise ValueError(f"file_name {name!r} is not of the form aNN_sNN_eNN_vNN")
    view = int(match.group(4))
    if view not in (1, 2, 3):
        raise ValueError(f"file_name {name!r}: view {view} is not one of the three N-UCLA views")
    return frozenset({"train" if view in (1, 2) else "test"})


def read_ucla(path: str | os.PathLike) -> Sequence:
    """Read one N-UCLA JSON clip; ``ValueError`` naming the problem when it is malformed."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}); "
                         "is the file truncated?") from None
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object with file_name, skeletons, label")
    missing = [k for k in ("skeletons", "label") if k not in record]
    if missing:
        raise ValueError(f"missing field(s) {', '.join(missing)}")
    name = str(record.get("file_name") or path.stem)
    label = record["label"]
    if isinstance(label, bool) or not isinstance(label, int) or not 1 <= label <= len(UCLA_CLASSES):
        raise ValueError(f"unknown label {label!r} (N-UCLA labels are 1..{len(UCLA_CLASSES)})")
    frames = record["skeletons"]
    if not isinstance(frames, list) or len(frames) == 0:
        raise ValueError("zero frames")
    for t, joints in enumerate(frames):
        if not isinstance(joints, list) or len(joints) != _JOINTS:
            count = len(joints) if isinstance(joints, list) else type(joints).__name__
            raise ValueError(f"frame {t}: {count} joints, expected {_JOINTS}")
        for j, xyz in enumerate(joints):
            if not isinstance(xyz, list) or len(xyz) != 3:
                raise ValueError(f"frame {t}, joint {j}: expected 3 coordinates, got {xyz!r}")
    try:
        body = np.array(frames, dtype=np.float32)
    except (TypeError, ValueError):
        bad = next((t, j, xyz) for t, joints in enumerate(frames) for j, xyz in enumerate(joints)
                   if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in xyz))
        raise ValueError(f"frame {bad[0]}, joint {bad[1]}: non-numeric coordinate in {bad[2]!r}") from None
    if not np.isfinite(body).all():
        t, j, _ = np.argwhere(~np.isfinite(body))[0]
        raise ValueError(f"frame {t}, joint {j}: NaN or infinite coordinate")
    return Sequence(name=name, label=label - 1, body=body[:, None], splits=ucla_splits(name))




def list_ucla(raw: str | os.PathLike) -> list[Path]:
    """The clip files of an N-UCLA folder (``all_sqe``), sorted."""
    raw = Path(raw)
    if not raw.is_dir():
        raise FileNotFoundError(f"{raw}: no such folder (expected the N-UCLA all_sqe folder of JSON files)")
    files = sorted(raw.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"{raw}: no .json files (expected the N-UCLA all_sqe folder)")
    return files


