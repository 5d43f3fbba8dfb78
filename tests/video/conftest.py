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


def paste(canvas_hw: tuple[int, int], image: np.ndarray, top_left: tuple[int, int], value: int = 200) -> np.ndarray:
    """A grey canvas with ``image`` pasted at ``top_left`` (x, y)."""
    canvas = np.full((*canvas_hw, 3), value, dtype=np.uint8)
    x, y = top_left
    canvas[y:y + image.shape[0], x:x + image.shape[1]] = image
    return canvas
