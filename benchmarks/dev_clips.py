"""Clips of the hand development set that are built, not kept: two people meeting, made from the
shared NTU sample (S001C001P001R001A001) composited with a second copy of herself.

The canvas is a 1000x680 window of the sample's 1920x1080 frames (people at their NTU size in
pixels). Person A stays where she is; person B, the same frames cut out of the plain wall around
her, moves across the window:

- ``crossing_front`` / ``crossing_behind``: B slides from right to left across A, in front of A or
  behind A, so that the two approach, overlap and part;
- ``walk_in``: B is out of the window at first, walks in from the right and stops against A, in
  front of her, where she stays to the end (a second person arriving and staying in contact);
- ``crossing_front_reversed``, ``crossing_behind_reversed``, ``walk_in_reversed``: the same, B's
  frames played backwards, so that the two do different things at each moment (B starts at her
  mouth and lowers the mug while A raises hers) rather than the same thing in step.

B moves, so B is the most active person: the one whose hands are searched. The clips are encoded
with one encoder thread: the encoded pixels follow the thread count, and the pose model's
detections with them, so this is the same clip on any machine.

    python benchmarks/dev_clips.py OUT_DIR [--shared ../shared] [--force]

writes those clips (``<name>.avi``) into OUT_DIR; a file of those names
already there is left alone (and the run refused) unless ``--force``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bharnet.core.atomic import atomic_path
from bharnet.video.decode import iter_frames, write_video

SAMPLE = "S001C001P001R001A001"
#: the window of the NTU frame kept (x0, y0, x1, y1)
WINDOW = (560, 200, 1560, 880)
#: the strip cut around her (x0, x1) and where the plain wall beside her is (a shift of that strip)
STRIP, WALL_SHIFT = (930, 1150), 260


class Clip(NamedTuple):
    """B's horizontal shift (pixels) from A in the first frame, where B stops, the fraction of the clip
    B takes to get there, whether B passes behind A, and whether B's frames play backwards."""

    start: int
    stop: int
    until: float
    behind: bool
    b_reversed: bool = False


CLIPS = {"crossing_front": Clip(380, -340, 1.0, False), "crossing_behind": Clip(380, -340, 1.0, True),
         "walk_in": Clip(640, 70, 0.45, False),
         "crossing_front_reversed": Clip(380, -340, 1.0, False, b_reversed=True),
         "crossing_behind_reversed": Clip(380, -340, 1.0, True, b_reversed=True),
         "walk_in_reversed": Clip(640, 70, 0.45, False, b_reversed=True)}


def shift_at(t: int, frames: int, clip: str = "crossing_front") -> int:
    """B's horizontal shift from A in frame ``t`` of ``clip``."""
    c = CLIPS[clip]
    return round(c.start + (c.stop - c.start) * min(t / max(c.until * (frames - 1), 1), 1.0))


def b_frame(t: int, frames: int, clip: str) -> int:
    """Which frame of the sample B shows in frame ``t`` of ``clip`` (A shows frame ``t``)."""
    return frames - 1 - t if CLIPS[clip].b_reversed else t


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


def crossing_frame(frame: np.ndarray, shift: int, behind: bool, b: np.ndarray | None = None) -> np.ndarray:
    """One composite frame: ``frame`` (the sample's, RGB) with her copy from frame ``b`` (default the
    same frame) ``shift`` pixels across."""
    x0, x1 = STRIP
    b = frame if b is None else b
    out = frame.astype(np.float32)
    mask = _mask(b)
    if behind:  # B shows only where A is not
        mask = mask * (1 - _mask_at(frame, 0, out.shape))[:, x0 + shift:x1 + shift]
    dest = out[:, x0 + shift:x1 + shift]
    out[:, x0 + shift:x1 + shift] = mask * b[:, x0:x1] + (1 - mask) * dest
    wx0, wy0, wx1, wy1 = WINDOW
    return np.ascontiguousarray(out[wy0:wy1, wx0:wx1].round().astype(np.uint8))


def _mask_at(frame: np.ndarray, shift: int, shape: tuple[int, ...]) -> np.ndarray:
    full = np.zeros((*shape[:2], 1), np.float32)
    full[:, STRIP[0] + shift:STRIP[1] + shift] = _mask(frame)
    return full


def build_clip(ntu_dir: Path, out: Path, clip: str, threads: int = 1) -> Path:
    """Write the composite ``clip`` (a name of :data:`CLIPS`) to ``out`` (an .avi) and return it.
    ``threads``: the encoder's; the encoded pixels follow it, so another count gives another
    encoding of the same clip (the default, 1, the same clip on any machine)."""
    frames = list(iter_frames(ntu_dir / f"{SAMPLE}_rgb.avi"))
    n, behind = len(frames), CLIPS[clip].behind
    composite = [crossing_frame(f, shift_at(t, n, clip), behind, frames[b_frame(t, n, clip)])
                 for t, f in enumerate(frames)]
    # written whole or not at all: the recall benchmark reuses a clip that is there
    with atomic_path(out) as part:
        write_video(part, composite, fps=30, threads=threads, container_format=out.suffix.lstrip("."))
    return out


def a_and_b(points: np.ndarray, clip: str = "crossing_front") -> tuple[np.ndarray, np.ndarray]:
    """(T, ..., 2) pixels of the sample (person ``points``) as A's and B's in the composite's
    pixels; B's are NaN where outside the window."""
    a = points - np.array(WINDOW[:2], float)
    shifts = np.array([shift_at(t, len(a), clip) for t in range(len(a))], float)
    b = a[[b_frame(t, len(a), clip) for t in range(len(a))]]
    b[..., 0] += shifts.reshape(-1, *([1] * (a.ndim - 2)))
    width = WINDOW[2] - WINDOW[0]
    b[(b[..., 0] < 0) | (b[..., 0] >= width)] = np.nan
    return a, b


def person_a_b(ntu_dir: Path, frames: int, clip: str = "crossing_front") -> tuple[np.ndarray, np.ndarray]:
    """The skeleton's (T, 25, 2) colour positions of A and of B in the composite's pixels."""
    from bharnet.video.hand_files import read_ntu_color

    body = next(iter(read_ntu_color(ntu_dir / f"{SAMPLE}.skeleton").values())).astype(float)
    body[(body == 0).all(axis=-1)] = np.nan
    return a_and_b(body[:frames], clip)


def sample_wrists(ntu_dir: Path, pose_model: Path) -> tuple[np.ndarray, float]:
    """(T, 2, 2) pixels of her wrists (her left, her right) in the sample's frames, as the pose
    landmarker sees them on the sample alone, and her median shoulder width in pixels (74). Kinect's
    wrists are no truth: from frame 20 on both sit at the mug while her left hand hangs at her side.
    These agree with the hands found on the sample within about 15 px."""
    from bharnet.video.crops import BODY_ANCHORS
    from bharnet.video.decode import probe_video
    from bharnet.video.people import pose_tracks

    video = ntu_dir / f"{SAMPLE}_rgb.avi"
    info = probe_video(video)
    (track,) = pose_tracks(video, pose_model, info)
    anchors = BODY_ANCHORS["pose33"]
    xy = track.image[..., :2] * np.array([info.width, info.height])
    shoulders = np.linalg.norm(xy[:, anchors.shoulders[0]] - xy[:, anchors.shoulders[1]], axis=-1)
    return xy[:, list(anchors.wrist)], float(np.nanmedian(shoulders))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder for the clips (crossing_front.avi, ...)")
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared",
                        help="the folder with data/ntu-sample")
    parser.add_argument("--force", action="store_true", help="replace clips of those names already in OUT_DIR")
    args = parser.parse_args()
    sample = args.shared / "data" / "ntu-sample"
    if not sample.is_dir():
        print(f"{sample}: not found (give --shared, the folder with data/ntu-sample)", file=sys.stderr)
        return 2
    outputs = [args.out_dir / f"{name}.avi" for name in CLIPS]
    present = [str(p) for p in outputs if p.exists()]
    if present and not args.force:
        print(f"{', '.join(present)}: already there, left alone (--force replaces them)", file=sys.stderr)
        return 2
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name in CLIPS:
        print(build_clip(sample, args.out_dir / f"{name}.avi", name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
