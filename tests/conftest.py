"""Shared fixtures. Real data lives in ``../shared`` beside the checkout (absent on a user's
machine): tests that need it take the ``shared`` fixture and skip with the reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from bharnet.core.sequence import Sequence
from bharnet.engine.config import make_config
from bharnet.store.packed import SkeletonStore, StoreWriter
from bharnet.video.decode import iter_frames, write_video

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    """``../shared`` beside the checkout; skips the test when it is absent."""
    if not (SHARED / "data").is_dir():
        pytest.skip(f"real data folder {SHARED} is absent (it sits beside the checkout in CI)")
    return SHARED


@pytest.fixture(scope="session")
def hand_model(shared: Path) -> Path:
    return shared / "models" / "hand_landmarker.task"


@pytest.fixture(scope="session")
def pose_model(shared: Path) -> Path:
    return shared / "models" / "pose_landmarker_full.task"


@pytest.fixture(scope="session")
def cup_clip(shared: Path, tmp_path_factory) -> Path:
    """The real hand video cup.mp4, every 4th frame (55 frames): MediaPipe on it stays fast."""
    pytest.importorskip("mediapipe")
    pytest.importorskip("av")

    frames = list(iter_frames(shared / "data" / "media" / "cup.mp4"))[::4]
    return write_video(tmp_path_factory.mktemp("cup") / "cup.mp4", frames, fps=27 / 4)


@pytest.fixture(scope="module")
def one_thread():
    """Torch on one thread for a module of tiny models (one thread beats several competing ones)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# small stores and runs that many tests build

def _make_sequence(i: int, frames: int = 10, hands: bool = True) -> Sequence:
    rng = np.random.default_rng(i)
    return Sequence(
        name=f"s{i:03d}", label=i % 3,
        body=rng.normal(size=(frames, 2, 25, 3)).astype(np.float32),
        hands=rng.normal(size=(frames, 2, 21, 3)).astype(np.float32) if hands else None,
        hand_conf=np.ones((frames, 2, 21), np.float32) if hands else None,
        splits=frozenset({"train" if i % 2 else "test"}),
    )


def _write_store(path, sequences, **kwargs):
    with StoreWriter(path, body_layout="ntu25", num_persons=2, arrays=("hands",), classes=["a", "b", "c"],
                     **kwargs) as w:
        for seq in sequences:
            w.add(seq)
            w.source_done(seq.name)
    return SkeletonStore(path)


TINY = {
    "data": {"window": 16, "batch_size": 4, "eval_batch_size": 8, "num_workers": 0, "val_split": "test"},
    "model": {"name": "body-expert", "backbone": "degcn", "base_channels": 8},
    "optim": {"lr": 0.05, "warmup_epochs": 1},
    "trainer": {"max_epochs": 2, "accelerator": "cpu", "devices": 1, "enable_progress_bar": False},
}


def _tiny_config(store, out, name="run", **layers):
    return make_config(TINY, {"name": name, "out_dir": str(out), "data": {"store": str(store)}}, layers)


@pytest.fixture(scope="session")
def make_sequence():
    """``make_sequence(i, frames=10, hands=True)``: a random ntu25 sample (3 classes, split by parity)."""
    return _make_sequence


@pytest.fixture(scope="session")
def write_store():
    """``write_store(path, sequences, **writer_args)``: the sequences in a store; returns it opened."""
    return _write_store


@pytest.fixture(scope="session")
def tiny_config():
    """``tiny_config(store, out, name="run", **layers)``: a 2-epoch CPU run of a narrow body expert."""
    return _tiny_config
