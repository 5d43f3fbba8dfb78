"""Clips of the hand development set that are built, not kept: two people crossing, made from the
shared NTU sample (S001C001P001R001A001) composited with a second copy of herself.

The canvas is a 1000x680 window of the sample's 1920x1080 frames (people at their NTU size in
pixels). Person A stays where she is; person B, the same frames cut out of the plain wall around
her, slides from right to left across A (in front of A, or behind A), so that the two approach,
overlap and part. B moves, so B is the most active person: the one whose hands are searched.
The clips are encoded with one encoder thread: the encoded pixels follow the thread count, and the
pose model's detections with them, so this is the same clip on any machine.

    python benchmarks/dev_clips.py OUT_DIR        # writes crossing_front.avi, crossing_behind.avi
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from bharnet.video.decode import iter_frames, write_video

SAMPLE = "S001C001P001R001A001"
#: the window of the NTU frame kept (x0, y0, x1, y1)
WINDOW = (560, 200, 1560, 880)
#: the strip cut around her (x0, x1) and where the plain wall beside her is (a shift of that strip)
STRIP, WALL_SHIFT = (930, 1150), 260
#: B's shift (pixels) in the first and the last frame
START, END = 380, -340


def shift_at(t: int, frames: int) -> int:
    """B's horizontal shift from A in frame ``t``."""
    return round(START + (END - START) * t / max(frames - 1, 1))


def _mask(frame: np.ndarray) -> np.ndarray:
    """Where the strip around her differs from the wall beside her: her, as a soft (H, W, 1) mask."""
    import cv2

    x0, x1 = STRIP
    strip = frame[:, x0:x1].astype(np.int16)
    wall = frame[:, x0 + WALL_SHIFT:x1 + WALL_SHIFT].astype(np.int16)
    hard = (np.abs(strip - wall).max(axis=-1) > 45).astype(np.uint8)
    hard = cv2.morphologyEx(hard, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    hard = cv2.dilate(hard, np.ones((9, 9), np.uint8))
    return cv2.GaussianBlur(hard.astype(np.float32), (7, 7), 0)[..., None]


def crossing_frame(frame: np.ndarray, shift: int, behind: bool) -> np.ndarray:
    """One composite frame: ``frame`` (the sample's, RGB) with her copy ``shift`` pixels across."""
    x0, x1 = STRIP
    out = frame.astype(np.float32)
    mask = _mask(frame)
    if behind:  # B shows only where A is not
        mask = mask * (1 - _mask_at(frame, 0, out.shape))[:, x0 + shift:x1 + shift]
    dest = out[:, x0 + shift:x1 + shift]
    out[:, x0 + shift:x1 + shift] = mask * frame[:, x0:x1] + (1 - mask) * dest
    wx0, wy0, wx1, wy1 = WINDOW
    return np.ascontiguousarray(out[wy0:wy1, wx0:wx1].round().astype(np.uint8))


def _mask_at(frame: np.ndarray, shift: int, shape: tuple[int, ...]) -> np.ndarray:
    full = np.zeros((*shape[:2], 1), np.float32)
    full[:, STRIP[0] + shift:STRIP[1] + shift] = _mask(frame)
    return full


def build_crossing(ntu_dir: Path, out: Path, behind: bool = False) -> Path:
    """Write the crossing composite to ``out`` (an .avi) and return it."""
    frames = list(iter_frames(ntu_dir / f"{SAMPLE}_rgb.avi"))
    clip = [crossing_frame(f, shift_at(t, len(frames)), behind) for t, f in enumerate(frames)]
    return write_video(out, clip, fps=30, threads=1)  # the same clip on any machine


def person_a_b(ntu_dir: Path, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """The skeleton's (T, 25, 2) colour positions of A and of B in the composite's pixels."""
    from bharnet.video.hand_files import read_ntu_color

    body = next(iter(read_ntu_color(ntu_dir / f"{SAMPLE}.skeleton").values())).astype(float)
    body[(body == 0).all(axis=-1)] = np.nan
    a = body - np.array(WINDOW[:2], float)
    shifts = np.array([shift_at(t, frames) for t in range(len(a))], float)
    b = a.copy()
    b[..., 0] += shifts[:, None]
    return a, b


if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    shared = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ntu-sample"
    for name, behind in (("crossing_front", False), ("crossing_behind", True)):
        print(build_crossing(shared, target / f"{name}.avi", behind))
