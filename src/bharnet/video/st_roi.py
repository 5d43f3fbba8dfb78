"""ST-ROI images: the RGB input of BHaRNet-M (after MMNet's spatio-temporal region of interest).

From a video and the per-frame pixel positions of a body's joints, one image per clip:

- ``segments`` frames (default 5), the middle frame of each of as many equal temporal segments;
- from each, a square patch around each body part of :data:`ROI_PARTS` (head, left hand, right
  hand, left foot, right foot: MMNet's choice), centred on the part's joints (their mean);
- laid out as MMNet does: **rows = body parts** (top to bottom in :data:`ROI_PARTS` order),
  **columns = frames** (left to right in time), one ``cell`` x ``cell`` square per patch;
- with two persons, each cell is split in two halves side by side: the left half is a patch
  half as wide around person 1's part, the right half person 2's (MMNet's two-person layout);
- the mosaic is resized to ``size`` x ``size`` (MMNet: 480 -> 225) and kept as ``uint8``.

The patch side is ``scale_factor`` times the body's scale in pixels (the median over frames of
the larger of the shoulder width and the upper-arm lengths), so that a patch covers the same part
of a body whatever the resolution and distance (a fixed 96 px means a hand at 1920 x 1080 and
half a person at 340 x 256). Where a part is unknown in a chosen frame (joint not tracked, person
not in view) the nearest frame in time where it is known gives its position; a part never seen
gives a black patch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bharnet.core.errors import UserError
from bharnet.core.layouts import get_layout

__all__ = ["ROI_PARTS", "RoiConfig", "DEFAULT_ROI", "StRoi", "part_joints", "part_centres", "body_scale_px",
           "segment_frames", "build_st_roi", "plan_st_roi", "cell_centre", "read_frames_at", "st_roi_from_video"]

#: body parts of the rows of an ST-ROI image, top to bottom
ROI_PARTS = ("head", "left_hand", "right_hand", "left_foot", "right_foot")

# joints whose mean is a part's centre, per layout that gives pixel positions
_PART_JOINTS: dict[str, dict[str, tuple[str, ...]]] = {
    "ntu25": {"head": ("head",), "left_hand": ("left_wrist", "left_hand"), "right_hand": ("right_wrist", "right_hand"),
              "left_foot": ("left_ankle", "left_foot"), "right_foot": ("right_ankle", "right_foot")},
    # N-UCLA's Kinect v1 names its joints as NTU does (no colour positions: for guidance)
    "ucla20": {"head": ("head",), "left_hand": ("left_wrist", "left_hand"), "right_hand": ("right_wrist", "right_hand"),
               "left_foot": ("left_ankle", "left_foot"), "right_foot": ("right_ankle", "right_foot")},
    "pose33": {"head": ("nose", "left_ear", "right_ear"),
               "left_hand": ("left_wrist", "left_pinky", "left_index", "left_thumb"),
               "right_hand": ("right_wrist", "right_pinky", "right_index", "right_thumb"),
               "left_foot": ("left_ankle", "left_heel", "left_foot_index"),
               "right_foot": ("right_ankle", "right_heel", "right_foot_index")},
}


@dataclass(frozen=True)
class RoiConfig:
    """How an ST-ROI image is made; the defaults are MMNet's (5 frames, 96 px cells, 225 px image)."""

    segments: int = 5
    cell: int = 96
    size: int = 225
    #: patch side = this x the body scale (shoulder width / upper arm, in pixels); 1.4 gives about
    #: MMNet's 96 px on NTU's 1920 x 1080 videos
    scale_factor: float = 1.4
    #: the patch side never falls below this fraction of the frame height
    min_side_frac: float = 0.04

    def __post_init__(self) -> None:
        if self.segments < 1 or self.cell < 2 or self.size < 2:
            raise ValueError(f"bad RoiConfig: {self}")


#: MMNet's settings
DEFAULT_ROI = RoiConfig()


@dataclass
class StRoi:
    """One clip's ST-ROI: ``image`` (size, size, 3) uint8; the video ``frames`` it used (K,); the part
    ``centres`` (K, M, P, 2) pixels in those frames (NaN: never seen); the patch ``side`` in pixels."""

    image: np.ndarray
    frames: np.ndarray
    centres: np.ndarray
    side: float

    @property
    def persons(self) -> int:
        return int(self.centres.shape[1])


def part_joints(layout: str) -> list[list[int]]:
    """For each part of :data:`ROI_PARTS`, the indices of the layout's joints that locate it."""
    lay = get_layout(layout)
    if lay.name not in _PART_JOINTS:
        raise UserError(f"ST-ROI images need joint pixel positions in {' or '.join(_PART_JOINTS)}, not {layout}")
    return [[lay.index(j) for j in _PART_JOINTS[lay.name][part]] for part in ROI_PARTS]


def part_centres(xy: np.ndarray, layout: str) -> np.ndarray:
    """Part centres ``(T, M, P, 2)`` from joint pixels ``(T, M, V, 2)`` (NaN = unknown): the mean of each
    part's known joints; NaN where none is known."""
    out = np.full((*xy.shape[:2], len(ROI_PARTS), 2), np.nan)
    for p, joints in enumerate(part_joints(layout)):
        pts = xy[:, :, joints]
        known = np.isfinite(pts).all(-1)
        count = known.sum(-1)
        total = np.where(known[..., None], pts, 0.0).sum(-2)
        out[:, :, p] = np.where(count[..., None] > 0, total / np.maximum(count, 1)[..., None], np.nan)
    return out


def body_scale_px(xy: np.ndarray, layout: str) -> float:
    """Median over frames and persons of max(shoulder width, left / right upper arm) in pixels; NaN when
    never seen."""
    lay = get_layout(layout)
    ix = lay.index

    def dist(a: str, b: str) -> np.ndarray:
        return np.linalg.norm(xy[..., ix(a), :] - xy[..., ix(b), :], axis=-1)

    lengths = np.stack([dist("left_shoulder", "right_shoulder"), dist("left_shoulder", "left_elbow"),
                        dist("right_shoulder", "right_elbow")], -1)
    lengths = np.where(np.isfinite(lengths), lengths, -np.inf).max(-1)
    lengths = lengths[np.isfinite(lengths) & (lengths > 0)]
    return float(np.median(lengths)) if lengths.size else float("nan")


def segment_frames(num_frames: int, segments: int) -> np.ndarray:
    """The middle frame of each of ``segments`` equal parts of ``num_frames`` frames."""
    if num_frames < 1:
        raise ValueError("no frame")
    return np.minimum(((np.arange(segments) + 0.5) * num_frames / segments).astype(int), num_frames - 1)


def _nearest_known(centres: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``centres[rows]`` with each unknown part / person taken from the nearest row where it is known."""
    known = np.isfinite(centres).all(-1)  # (T, M, P)
    out = centres[rows].copy()
    for k, row in enumerate(rows):
        for m, p in zip(*np.nonzero(~known[row]), strict=True):
            seen = np.flatnonzero(known[:, m, p])
            if seen.size:
                out[k, m, p] = centres[seen[np.abs(seen - row).argmin()], m, p]
    return out


def _crop(frame: np.ndarray, cx: float, cy: float, width: float, height: float) -> np.ndarray:
    """Pixels of the box of ``width`` x ``height`` centred on (cx, cy); black outside the frame."""
    h, w = frame.shape[:2]
    bw, bh = max(1, int(round(width))), max(1, int(round(height)))
    x0, y0 = int(round(cx - bw / 2)), int(round(cy - bh / 2))
    out = np.zeros((bh, bw, 3), np.uint8)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + bw, w), min(y0 + bh, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = frame[sy0:sy1, sx0:sx1, :3]
    return out


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    from PIL import Image  # Pillow comes with matplotlib; imported only where images are made

    if image.shape[1] == width and image.shape[0] == height:
        return image
    return np.asarray(Image.fromarray(image).resize((width, height), Image.BILINEAR))


def cell_centre(part: int, segment: int, person: int = 0, persons: int = 1,
                config: RoiConfig = RoiConfig()) -> tuple[float, float]:
    """Where the centre of a patch lands in the final image: ``(x, y)`` pixels."""
    scale = config.size / (config.cell * len(ROI_PARTS)), config.size / (config.cell * config.segments)
    x = (segment + (person + 0.5) / persons) * config.cell
    y = (part + 0.5) * config.cell
    return x * scale[1], y * scale[0]


def build_st_roi(frames: Sequence[np.ndarray], centres: np.ndarray, side: float,
                 config: RoiConfig = RoiConfig()) -> np.ndarray:
    """The ST-ROI image from the chosen frames (``(H, W, 3)`` uint8, in time order) and the part
    centres ``(K, M, P, 2)`` in them (NaN: a black patch); ``side`` is the patch side in pixels."""
    k_frames, persons = centres.shape[:2]
    if k_frames != config.segments or len(frames) != k_frames:
        raise ValueError(f"need {config.segments} frames and centres, got {len(frames)} and {k_frames}")
    cell = config.cell
    mosaic = np.zeros((cell * len(ROI_PARTS), cell * config.segments, 3), np.uint8)
    half = cell // persons
    for k, frame in enumerate(frames):
        for m in range(persons):
            for p in range(len(ROI_PARTS)):
                cx, cy = centres[k, m, p]
                if not (np.isfinite(cx) and np.isfinite(cy)):
                    continue
                patch = _crop(frame, cx, cy, side / persons, side)
                x0 = k * cell + m * half
                mosaic[p * cell:(p + 1) * cell, x0:x0 + half] = _resize(patch, half, cell)
    return _resize(mosaic, config.size, config.size)


def read_frames_at(video: str | Path, indices: np.ndarray) -> dict[int, np.ndarray]:
    """The frames ``indices`` of ``video`` as RGB ``uint8``; decoding stops after the last one and
    only those are converted. An index past the end gives the last frame."""
    import av  # lazy: only video work needs PyAV

    wanted = {int(i) for i in indices}
    got: dict[int, np.ndarray] = {}
    last = None
    try:
        container = av.open(str(video))
    except (av.error.FFmpegError, OSError) as err:
        raise UserError(f"{video}: cannot open as a video ({err})") from err
    with container:
        if not container.streams.video:
            raise UserError(f"{video}: has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for count, frame in enumerate(container.decode(stream)):
                last = frame
                if count in wanted:
                    got[count] = frame.to_ndarray(format="rgb24")
                if count >= max(wanted):
                    break
        except av.error.FFmpegError as err:
            if last is None:
                raise UserError(f"{video}: cannot decode video ({err})") from err
        if last is None:
            raise UserError(f"{video}: no decodable frame")
        missing = wanted - set(got)
        if missing:  # the video is shorter than its skeleton: repeat the last decoded frame
            tail = last.to_ndarray(format="rgb24")
            got.update({i: tail for i in missing})
    return got


def plan_st_roi(xy: np.ndarray, layout: str, frame_height: int,
                config: RoiConfig = RoiConfig()) -> tuple[np.ndarray, np.ndarray, float]:
    """What an ST-ROI shows, before any pixel: the rows of ``xy`` ``(T, M, V, 2)`` it takes (K,), the
    part centres there ``(K, M', P, 2)`` (persons never seen left out) and the patch side in pixels."""
    xy = np.asarray(xy, np.float64)
    seen = np.isfinite(xy).all(-1).any(axis=(0, 2))
    if not seen.any():
        raise ValueError("no joint position in any frame")
    xy = xy[:, seen]
    rows = segment_frames(len(xy), config.segments)
    centres = _nearest_known(part_centres(xy, layout), rows)
    scale = body_scale_px(xy, layout)
    side = max(config.scale_factor * scale if np.isfinite(scale) else 0.0, config.min_side_frac * frame_height)
    return rows, centres, side


def st_roi_from_video(video: str | Path, xy: np.ndarray, layout: str, config: RoiConfig = RoiConfig(),
                      frame_index: np.ndarray | None = None, frame_height: int | None = None) -> StRoi:
    """The ST-ROI of ``video`` from joint pixels ``xy`` ``(T, M, V, 2)`` (NaN = unknown) in ``layout``.

    ``frame_index`` (T,) maps each row of ``xy`` to its video frame (default: row t = frame t, as for
    a pose track or an uncleaned NTU file). Persons that are never seen are left out; none seen at
    all raises :class:`UserError`. Only the chosen frames are decoded.
    """
    if not np.isfinite(np.asarray(xy, np.float64)).all(-1).any():
        raise UserError(f"{video}: no joint position in any frame, so no ST-ROI")
    frame_index = np.arange(len(xy)) if frame_index is None else np.asarray(frame_index)
    rows = segment_frames(len(xy), config.segments)
    frames = read_frames_at(video, frame_index[rows])
    height = frame_height or next(iter(frames.values())).shape[0]
    rows, centres, side = plan_st_roi(xy, layout, height, config)
    image = build_st_roi([frames[int(i)] for i in frame_index[rows]], centres, side, config)
    return StRoi(image=image, frames=frame_index[rows], centres=centres, side=side)
