"""Frame sources for live work: a camera (its index), a stream URL or a video file, read through
OpenCV (imported lazily). A file is played at its own frame rate, so that it stands in for a camera:
the code after the source cannot tell the difference, and a slow consumer misses frames as it would
with a camera.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np

from bharnet.core.errors import UserError

__all__ = ["CapturedFrame", "FrameSource", "LatestSlot", "open_source"]

#: assumed when a camera or stream does not say its rate
DEFAULT_FPS = 30.0


@dataclass(frozen=True)
class CapturedFrame:
    """One frame: its number in the source, when it was captured (``time.perf_counter()``), RGB pixels."""

    index: int
    captured: float
    image: np.ndarray


class FrameSource:
    """Frames of a camera, URL or file as :class:`CapturedFrame`. ``paced``: deliver a file's
    frame k at ``start + k / fps`` (cameras and streams pace themselves)."""

    def __init__(self, spec: str | int, paced: bool | None = None) -> None:
        import cv2  # lazy: only live work needs OpenCV

        self.spec = str(spec)
        self.kind = _kind(self.spec)
        if self.kind == "file" and not Path(self.spec).is_file():
            raise UserError(f"--source {self.spec}: no such video file (give a camera index, a URL or a file)")
        target = int(self.spec) if self.kind == "camera" else self.spec
        self._capture = cv2.VideoCapture(target)
        if not self._capture.isOpened():
            raise UserError(f"--source {self.spec}: cannot open this {self.kind}")
        rate = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(rate) if rate and 1.0 <= rate <= 240.0 else DEFAULT_FPS
        self.width = int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.paced = self.kind == "file" if paced is None else paced
        self._cv2 = cv2

    def __iter__(self) -> Iterator[CapturedFrame]:
        start = 0.0
        index = 0
        while True:
            ok, bgr = self._capture.read()
            if not ok:
                return
            if index == 0:
                start = time.perf_counter()  # the clock of the file starts with its first frame
            elif self.paced:
                delay = start + index / self.fps - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            yield CapturedFrame(index, time.perf_counter(), self._cv2.cvtColor(bgr, self._cv2.COLOR_BGR2RGB))
            index += 1

    def close(self) -> None:
        self._capture.release()

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _kind(spec: str) -> str:
    if spec.isdigit():
        return "camera"
    return "stream" if "://" in spec else "file"


def open_source(spec: str | int, paced: bool | None = None) -> FrameSource:
    """The source ``spec`` names: a camera index ("0"), a URL (``rtsp://``, ``http://``...) or a file."""
    return FrameSource(spec, paced)


T = TypeVar("T")


class LatestSlot(Generic[T]):
    """A one-place mailbox between two threads: ``put`` replaces an item not yet taken (counted in
    ``dropped``), so a slow reader makes the writer drop work instead of growing a queue."""

    def __init__(self) -> None:
        self._item: T | None = None
        self._has = False
        self._closed = False
        self._cond = threading.Condition()
        self.dropped = 0
        self.taken = 0

    def put(self, item: T, wait: bool = False) -> None:
        """Offer ``item``; ``wait``: until the previous one is taken (nothing dropped) instead."""
        with self._cond:
            while wait and self._has and not self._closed:
                self._cond.wait()
            if self._has:
                self.dropped += 1
            self._item, self._has = item, True
            self._cond.notify_all()

    def get(self) -> T | None:
        """The next item; None once the slot is closed and empty."""
        with self._cond:
            while not self._has and not self._closed:
                self._cond.wait()
            if not self._has:
                return None
            item, self._item, self._has = self._item, None, False
            self.taken += 1
            self._cond.notify_all()
            return item

    def close(self) -> None:
        """No more items: ``get`` returns what is left, then None."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
