"""Files of the hand extraction: NTU colour positions in, per-video ``.npz`` hand tracks out.

A hands file ``<video stem>.npz`` holds:

- ``keypoints`` (T, 2, 21, 3) float32: hand 0 = left, 1 = right; x, y normalised by the frame's
  width and height (0..1 inside the frame), z MediaPipe's depth relative to the wrist in units of
  the frame width (the paper's 2.5D). Zeros where ``missing``.
- ``hand_conf`` (T, 2) and ``landmark_conf`` (T, 2, 21) float32: 0 where missing.
- ``missing`` (T, 2) bool, ``interpolated`` (T, 2) bool (filled short gaps).
- ``hand_counts`` (2, 3) int32: per hand (left, right), the frames where it was found,
  interpolated, missing.
- ``width``, ``height``, ``fps``, ``source`` ("skeleton", "pose" or "frame"), ``person`` (the body kept).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bharnet.core.atomic import atomic_file
from bharnet.core.errors import UserError
from bharnet.io import load_numpy
from bharnet.io.ntu import read_skeleton

FORMAT_VERSION = 1


@dataclass
class HandTrack:
    """The hands of one video (see the module docstring for the meaning of each array)."""

    keypoints: np.ndarray
    hand_conf: np.ndarray
    landmark_conf: np.ndarray
    missing: np.ndarray
    interpolated: np.ndarray
    width: int
    height: int
    fps: float
    source: str
    person: str = ""
    #: not saved: what the extraction knows beside the hands, e.g. ``regions`` (T, 2, 3), the square
    #: searched for each hand in each frame (x0, y0, side in pixels; NaN where none was)
    extra: dict = field(default_factory=dict)

    @property
    def frames(self) -> int:
        return int(self.keypoints.shape[0])

    @property
    def frames_with_hand(self) -> int:
        """Frames where at least one hand is present (detected or interpolated)."""
        return int((~self.missing).any(axis=1).sum())

    def hand_counts(self) -> dict[str, dict[str, int]]:
        """Per hand (``left``, ``right``), the frames where it was found, interpolated, missing."""
        found = ~self.missing & ~self.interpolated
        return {name: {"found": int(found[:, s].sum()), "interpolated": int(self.interpolated[:, s].sum()),
                       "missing": int(self.missing[:, s].sum())} for s, name in enumerate(("left", "right"))}


def sample_name(video: str | Path) -> str:
    """The NTU sample name of a video: its stem without the ``_rgb`` ending."""
    stem = Path(video).stem
    return stem[:-4] if stem.endswith("_rgb") else stem


def save_hands(track: HandTrack, path: str | Path) -> Path:
    """Write ``track`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    with atomic_file(path) as f:
        np.savez_compressed(
            f, keypoints=track.keypoints.astype(np.float32), hand_conf=track.hand_conf.astype(np.float32),
            landmark_conf=track.landmark_conf.astype(np.float32), missing=track.missing.astype(bool),
            interpolated=track.interpolated.astype(bool), width=np.int32(track.width),
            height=np.int32(track.height), fps=np.float32(track.fps), source=np.str_(track.source),
            person=np.str_(track.person), version=np.int32(FORMAT_VERSION),
            hand_counts=np.array([list(c.values()) for c in track.hand_counts().values()], np.int32))
    return Path(path)


def read_hands(path: str | Path) -> HandTrack:
    """Read a hands file written by :func:`save_hands`; :class:`UserError` naming the file when it
    is not one."""
    try:
        z = load_numpy(path)
        if not isinstance(z, dict):
            raise ValueError(f"{Path(path).name}: not an .npz archive")
        track = HandTrack(z["keypoints"], z["hand_conf"], z["landmark_conf"], z["missing"], z["interpolated"],
                          int(z["width"]), int(z["height"]), float(z["fps"]), str(z["source"]), str(z["person"]))
        frames = track.keypoints.shape[0] if track.keypoints.ndim == 4 else -1
        if track.keypoints.shape[1:] != (2, 21, 3) or track.hand_conf.shape != (frames, 2):
            raise ValueError(f"keypoints {track.keypoints.shape}, hand_conf {track.hand_conf.shape}: expected "
                             "(T, 2, 21, 3) and (T, 2)")
        return track
    except (KeyError, ValueError, TypeError) as err:
        raise UserError(f"{path}: not a readable hands file ({err})") from None


def load_hands(hands_dir: str | Path, sample: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Hands of NTU sample ``sample`` (e.g. ``S001C001P001R001A001``) from ``hands_dir``:
    ``(keypoints (T, 2, 21, 3), landmark confidence (T, 2, 21))`` float32, zeros where missing,
    or None when the folder has no file for it."""
    for name in (f"{sample}_rgb.npz", f"{sample}.npz"):
        path = Path(hands_dir) / name
        if path.is_file():
            track = read_hands(path)
            return track.keypoints, track.landmark_conf
    return None


def read_ntu_color(path: str | Path) -> dict[str, np.ndarray]:
    """The RGB pixel positions (colorX, colorY) of every body of an NTU ``.skeleton`` file:
    ``{bodyID: (T, 25, 2)}`` float64, NaN in frames where that body is absent."""
    try:
        skeleton = read_skeleton(path)
    except (OSError, ValueError) as err:
        raise UserError(f"{path}: not a readable NTU .skeleton file ({err})") from err
    return {body_id: body.color_xy.astype(np.float64) for body_id, body in skeleton.bodies.items()}

