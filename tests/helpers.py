"""Small stores and runs that many tests build (the fixtures of tests/conftest.py hand these out;
a module that needs one at import time imports it from here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from bharnet.core.sequence import Sequence
from bharnet.engine.config import make_config
from bharnet.store.packed import SkeletonStore, StoreWriter

#: a 2-epoch CPU run of a narrow body expert
TINY = {
    "data": {"window": 16, "batch_size": 4, "eval_batch_size": 8, "num_workers": 0, "val_split": "test"},
    "model": {"name": "body-expert", "backbone": "degcn", "base_channels": 8},
    "optim": {"lr": 0.05, "warmup_epochs": 1},
    "trainer": {"max_epochs": 2, "accelerator": "cpu", "devices": 1, "enable_progress_bar": False},
}


def make_sequence(i: int, frames: int = 10, hands: bool = True) -> Sequence:
    """A random ntu25 sample: 3 classes, train or test by the parity of ``i``."""
    rng = np.random.default_rng(i)
    return Sequence(
        name=f"s{i:03d}", label=i % 3,
        body=rng.normal(size=(frames, 2, 25, 3)).astype(np.float32),
        hands=rng.normal(size=(frames, 2, 21, 3)).astype(np.float32) if hands else None,
        hand_conf=np.ones((frames, 2, 21), np.float32) if hands else None,
        splits=frozenset({"train" if i % 2 else "test"}),
    )


def write_store(path: str | Path, sequences, **kwargs) -> SkeletonStore:
    """The sequences in a store (ntu25, 2 persons, hands, classes a b c); returns it opened."""
    with StoreWriter(path, body_layout="ntu25", num_persons=2, arrays=("hands",), classes=["a", "b", "c"],
                     **kwargs) as w:
        for seq in sequences:
            w.add(seq)
            w.source_done(seq.name)
    return SkeletonStore(path)


def tiny_config(store: str | Path, out: str | Path, name: str = "run", **layers) -> DictConfig:
    """:data:`TINY` on ``store``, writing to ``out``; ``layers`` are more config layers."""
    return make_config(TINY, {"name": name, "out_dir": str(out), "data": {"store": str(store)}}, layers)
