"""Shared fixtures. Real data lives in ``../shared`` beside the checkout (absent on a user's
machine): tests that need it take the ``shared`` fixture and skip with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    from bharnet.io.video import iter_frames, write_video

    frames = list(iter_frames(shared / "data" / "media" / "cup.mp4"))[::4]
    return write_video(tmp_path_factory.mktemp("cup") / "cup.mp4", frames, fps=27 / 4)
