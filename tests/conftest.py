"""Shared fixtures. Real data lives in ``../shared`` beside the checkout (absent on a user's
machine): tests that need it take the ``shared`` fixture and skip with the reason."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import torch

from bharnet.video.decode import iter_frames, write_video
from tests import helpers

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
#: the fixtures of MediaPipe's models: a test that takes one runs MediaPipe
_MEDIAPIPE = {"hand_model", "pose_model", "cup_clip"}


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C as in a terminal: the tests of interruptions (and the commands they start) expect
    Python's handler, which a shell's background job lacks (it starts with Ctrl-C ignored, and so
    would every process the tests start)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that runs MediaPipe belongs to the integration tier, marked or not."""
    for item in items:
        if _MEDIAPIPE & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


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


@pytest.fixture(scope="session")
def make_sequence():
    """``make_sequence(i, frames=10, hands=True)``: a random ntu25 sample (3 classes, split by parity)."""
    return helpers.make_sequence


@pytest.fixture(scope="session")
def write_store():
    """``write_store(path, sequences, **writer_args)``: the sequences in a store; returns it opened."""
    return helpers.write_store


@pytest.fixture(scope="session")
def tiny_config():
    """``tiny_config(store, out, name="run", **layers)``: a 2-epoch CPU run of a narrow body expert."""
    return helpers.tiny_config
