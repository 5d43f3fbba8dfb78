"""What the model saw, drawn on the frame: the followed person's skeleton, the two hands (also
enlarged in an inset each, since hands are small in a room-sized view), the top classes with
probability bars, and the frame rate. One renderer for ``bharnet live`` and
``bharnet predict --render``; drawing through OpenCV, writing through PyAV (both imported lazily).
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from bharnet.core.atomic import atomic_file
from bharnet.core.layouts import HAND21, POSE33
from bharnet.core.outputs import WRITTEN_BY

__all__ = ["Overlay", "draw_overlay", "OverlayWriter", "Preview", "written_by_overlay"]

_BODY = (235, 235, 235)
_HANDS = ((60, 160, 255), (255, 140, 40))  # left blue, right orange (RGB)
_BAR = (80, 200, 120)
_PANEL = 255 * 3 // 8  # panel darkness
_INSET = 110  # pixels of a hand's inset at 480 lines


@dataclass(frozen=True)
class Overlay:
    """What to draw on one frame (pixels of that frame): ``body`` (33, 2) pose landmarks, NaN where
    unseen; ``hands`` (2, 21, 2) with ``hand_found`` (2,); ``top`` (class, probability) pairs;
    ``fps`` the rate frames are processed at; ``note`` a short status line."""

    body: np.ndarray | None = None
    hands: np.ndarray | None = None
    hand_found: np.ndarray | None = None
    top: tuple[tuple[str, float], ...] = ()
    fps: float | None = None
    note: str = ""


def draw_overlay(image: np.ndarray, overlay: Overlay, top_k: int = 3) -> np.ndarray:
    """A copy of ``image`` (RGB, H x W x 3) with ``overlay`` drawn on it."""
    import cv2

    out = np.ascontiguousarray(image, dtype=np.uint8).copy()
    scale = max(out.shape[0] / 480.0, 0.5)
    thick = max(1, round(2 * scale))
    if overlay.body is not None:
        _bones(cv2, out, overlay.body, POSE33.edges, _BODY, thick, thick + 1)
    if overlay.hands is not None:
        found = overlay.hand_found if overlay.hand_found is not None else np.ones(2, bool)
        insets = [_inset(cv2, image, overlay.hands[side], side, scale) if found[side] else None for side in (0, 1)]
        for side in (0, 1):
            if found[side]:  # thin: a hand is small in the frame and its fingers must stay apart
                _bones(cv2, out, overlay.hands[side], HAND21.edges, _HANDS[side], max(1, thick // 2),
                       max(1, thick // 2))
        _place_insets(out, insets)
    _panel(cv2, out, overlay, top_k, scale)
    return out


def _inset(cv2, image: np.ndarray, hand: np.ndarray, side: int, scale: float) -> np.ndarray | None:
    """The hand enlarged: a square of the frame around its landmarks (1.6 x their extent) at
    ``_INSET`` x ``scale`` pixels, its bones drawn on, framed in its colour and named."""
    if not np.isfinite(hand).all():
        return None
    size = max(32, int(_INSET * scale))
    centre = (hand.min(axis=0) + hand.max(axis=0)) / 2
    extent = max(float(np.ptp(hand, axis=0).max()) * 1.6, 24.0)
    f = size / extent
    matrix = np.array([[f, 0.0, size / 2 - f * centre[0]], [0.0, f, size / 2 - f * centre[1]]])
    view = cv2.warpAffine(np.ascontiguousarray(image, dtype=np.uint8), matrix, (size, size), flags=cv2.INTER_LINEAR)
    _bones(cv2, view, hand * f + matrix[:, 2], HAND21.edges, _HANDS[side], 2, 2)
    cv2.rectangle(view, (0, 0), (size - 1, size - 1), _HANDS[side], 2)
    cv2.putText(view, ("left", "right")[side], (6, size - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45 * max(scale, 1.0),
                _HANDS[side], 1, cv2.LINE_AA)
    return view


def _place_insets(out: np.ndarray, insets: list[np.ndarray | None]) -> None:
    """The left hand's inset at the bottom left of the frame, the right hand's at the bottom right
    (where they fit)."""
    h, w = out.shape[:2]
    for side, view in enumerate(insets):
        if view is None or view.shape[0] > h // 2 or 2 * view.shape[1] > w:
            continue
        n = view.shape[0]
        x0 = 4 if side == 0 else w - 4 - n
        out[h - 4 - n:h - 4, x0:x0 + n] = view


def _bones(cv2, out: np.ndarray, points: np.ndarray, edges: list[tuple[int, int]], colour: tuple[int, int, int],
           thick: int, radius: int) -> None:
    def px(j: int) -> tuple[int, int] | None:
        x, y = points[j]
        return (int(round(x)), int(round(y))) if np.isfinite(x) and np.isfinite(y) else None

    for a, b in edges:
        pa, pb = px(a), px(b)
        if pa is not None and pb is not None:
            cv2.line(out, pa, pb, colour, thick, cv2.LINE_AA)
    for j in range(len(points)):
        p = px(j)
        if p is not None:
            cv2.circle(out, p, radius, colour, -1, cv2.LINE_AA)


def _panel(cv2, out: np.ndarray, overlay: Overlay, top_k: int, scale: float) -> None:
    """Top classes with bars in a darkened box at the top left; fps and note under them."""
    font, size = cv2.FONT_HERSHEY_SIMPLEX, 0.5 * scale
    line = int(22 * scale)
    width = int(min(out.shape[1] - 8, 300 * scale))
    rows = list(overlay.top[:top_k])
    status = "  ".join(s for s in (f"{overlay.fps:.1f} fps" if overlay.fps else "", overlay.note) if s)
    height = line * (len(rows) + (1 if status else 0)) + int(8 * scale)
    box = out[4:4 + height, 4:4 + width]
    box[:] = (box.astype(np.uint16) * _PANEL // 255).astype(np.uint8)
    y = 4 + int(4 * scale)
    for name, p in rows:
        bar = int((width - 8) * float(np.clip(p, 0.0, 1.0)))
        cv2.rectangle(out, (8, y + 2), (8 + bar, y + line - 4), _BAR, -1)
        cv2.putText(out, f"{name} {p:.2f}", (12, y + line - 8), font, size, (255, 255, 255), 1, cv2.LINE_AA)
        y += line
    if status:
        cv2.putText(out, status, (12, y + line - 8), font, size, (255, 255, 0), 1, cv2.LINE_AA)


#: container formats by file suffix (PyAV writes to the atomic file's handle, which has no suffix)
_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".avi": "avi"}


def written_by_overlay(path: str | Path) -> bool:
    """Whether the video at ``path`` was written by :class:`OverlayWriter` (its mark in the container)."""
    import av

    with av.open(str(path)) as container:
        return container.metadata.get("comment") == WRITTEN_BY


class OverlayWriter:
    """Frames into a video (H.264 where PyAV has it, MPEG-4 otherwise; MP4 unless the suffix says
    otherwise), written atomically: ``path`` appears on :meth:`close`; after :meth:`abort` (or an
    error in a ``with`` block) nothing is left."""

    def __init__(self, path: str | Path, fps: float) -> None:
        self.path, self.fps = Path(path), fps
        self._files = contextlib.ExitStack()
        self._container = None
        self._stream = None
        self.frames = 0
        self._last = -1

    def write(self, image: np.ndarray, index: int | None = None) -> None:
        """Add a frame; ``index``: its number in the source (frames dropped before it keep their time)."""
        import av

        if self._container is None:
            self._open(av, image.shape[1] // 2 * 2, image.shape[0] // 2 * 2)
        h, w = self._stream.height, self._stream.width
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:h, :w], dtype=np.uint8), format="rgb24")
        index = self.frames if index is None else index
        if index <= self._last:
            return  # a frame number seen already: its time is taken
        frame.pts, self._last = index, index
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def _open(self, av, width: int, height: int) -> None:
        handle = self._files.enter_context(atomic_file(self.path))
        self._container = av.open(handle, mode="w", format=_FORMATS.get(self.path.suffix.lower(), "mp4"))
        self._container.metadata["comment"] = WRITTEN_BY  # a later run may replace this file
        rate = max(1, int(round(self.fps)))
        try:
            self._stream = self._container.add_stream("libx264", rate=rate, options={"preset": "veryfast"})
        except (av.error.FFmpegError, ValueError):
            self._stream = self._container.add_stream("mpeg4", rate=rate)
            self._stream.bit_rate = 4_000_000
        self._stream.codec_context.time_base = Fraction(1, rate)
        self._stream.width, self._stream.height, self._stream.pix_fmt = width, height, "yuv420p"

    def close(self) -> Path | None:
        """Finish the file; returns its path (None when no frame was written)."""
        if self._container is None:
            return None
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()
        self._container = None
        self._files.close()  # the atomic file becomes ``path``
        return self.path

    def abort(self) -> None:
        """Stop without a file."""
        if self._container is not None:
            self._container.close()
            self._container = None
        self._files.__exit__(RuntimeError, RuntimeError("aborted"), None)  # the atomic file is removed

    def __enter__(self) -> OverlayWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class Preview:
    """An OpenCV window showing frames where a display exists; without one (or with an OpenCV built
    without windows) it shows nothing and says so once in ``reason``."""

    def __init__(self, title: str, enabled: bool = True) -> None:
        self.title = title
        self.reason = "" if enabled else "disabled"
        if enabled and sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                                  or os.environ.get("WAYLAND_DISPLAY")):
            self.reason = "no display"
        self.enabled = not self.reason

    def show(self, image: np.ndarray) -> bool:
        """Show an RGB frame; False when the user asked to stop (q or Esc)."""
        if not self.enabled:
            return True
        import cv2

        try:
            cv2.imshow(self.title, image[..., ::-1])
            key = cv2.waitKey(1) & 0xFF
        except cv2.error as err:  # an OpenCV without a window system
            self.enabled, self.reason = False, f"no window ({str(err).splitlines()[0]})"
            return True
        return key not in (ord("q"), 27)

    def close(self) -> None:
        if self.enabled:
            import cv2

            cv2.destroyWindow(self.title)
