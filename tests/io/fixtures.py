"""Writers of small data sets in each real format, for tests (here and elsewhere): each writes a
folder and returns what it wrote so that a test can compare a prepared store with it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

UCLA_ACTIONS = ["a01", "a02", "a03", "a04", "a05", "a06", "a08", "a09", "a11", "a12"]


def write_ucla(folder: Path, num_clips: int = 6, frames: int = 12, seed: int = 0) -> dict[str, dict]:
    """N-UCLA JSON clips (``aNN_sNN_eNN_vNN.json``), views cycling 1, 2, 3; returns ``{name: record}``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    written = {}
    for i in range(num_clips):
        label = i % len(UCLA_ACTIONS) + 1
        name = f"{UCLA_ACTIONS[label - 1]}_s{i // 3 + 1:02d}_e00_v{i % 3 + 1:02d}"
        skeleton = np.round(rng.normal(size=(frames + i, 20, 3)), 6)
        record = {"file_name": name, "skeletons": skeleton.tolist(), "label": label}
        (folder / f"{name}.json").write_text(json.dumps(record))
        written[name] = record
    return written
