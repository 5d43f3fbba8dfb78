"""Fixtures of the hand tests: the real hand photo and small generated videos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def hand_image(shared: Path) -> np.ndarray:
    """The real hand photo, RGB (480, 640, 3)."""
    cv2 = pytest.importorskip("cv2")
    return cv2.cvtColor(cv2.imread(str(shared / "data" / "media" / "handSrc.jpg")), cv2.COLOR_BGR2RGB)

