"""Where to look for hands: square crops around the body's hands, cut from a frame and mapped back.

All positions here are pixels of the full frame. A body is a ``(J, 2)`` array of joint pixel
positions (NaN where unknown) in one of the layouts of :data:`BODY_ANCHORS`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bharnet.core.layouts import NTU25, POSE33, Layout


@dataclass(frozen=True)
class HandAnchors:
    """Joint indices of a body layout that say where its hands are; index 0 = left, 1 = right."""

    wrist: tuple[int, int]
    elbow: tuple[int, int]
    hand: tuple[tuple[int, ...], tuple[int, ...]]  # joints whose mean (with the wrist) is the hand's centre
    shoulders: tuple[int, int]


def _anchors(layout: Layout, hand_joints: tuple[str, ...]) -> HandAnchors:
    ix = layout.index
    return HandAnchors(
        wrist=(ix("left_wrist"), ix("right_wrist")),
        elbow=(ix("left_elbow"), ix("right_elbow")),
        hand=tuple(tuple(ix(f"{side}_{j}") for j in hand_joints) for side in ("left", "right")),  # type: ignore[arg-type]
        shoulders=(ix("left_shoulder"), ix("right_shoulder")),
    )


#: NTU (Kinect v2) colour positions and MediaPipe pose landmarks
BODY_ANCHORS = {
    "ntu25": _anchors(NTU25, ("hand", "hand_tip", "thumb")),
    "pose33": _anchors(POSE33, ("pinky", "index", "thumb")),
}


@dataclass(frozen=True)
class CropConfig:
    """Crop side = ``factor`` x body scale, clamped to [``min_frac``, ``max_frac``] x frame height.

    The body scale is the median over the video of the larger of shoulder width and forearm
    length (a median because a forearm pointing at the camera looks short in one frame).
    Two hands closer than half a crop side share one crop.
    """

    factor: float = 2.5
    min_frac: float = 0.15
    max_frac: float = 0.5


@dataclass(frozen=True)
class Box:
    """A square crop: top-left corner and side, in full-frame pixels (may reach outside the frame)."""

    x0: float
    y0: float
    side: float

    @classmethod
    def around(cls, cx: float, cy: float, side: float) -> Box:
        return cls(cx - side / 2, cy - side / 2, side)


def body_scale(bodies: np.ndarray, anchors: HandAnchors) -> float:
    """Median over frames of max(shoulder width, longer forearm) in pixels; NaN when never seen.

    ``bodies`` is (T, J, 2) for one person.
    """
    def dist(a: int, b: int) -> np.ndarray:
        return np.linalg.norm(bodies[:, a] - bodies[:, b], axis=-1)

    per_frame = np.stack([dist(*anchors.shoulders), dist(anchors.wrist[0], anchors.elbow[0]),
                          dist(anchors.wrist[1], anchors.elbow[1])], axis=-1)
    per_frame = np.where(np.isnan(per_frame), -np.inf, per_frame).max(axis=-1)
    per_frame = per_frame[np.isfinite(per_frame) & (per_frame > 0)]
    return float(np.median(per_frame)) if per_frame.size else float("nan")


def crop_side(scale: float, frame_height: int, config: CropConfig = CropConfig()) -> float:
    """The crop side in pixels for a body of ``scale`` pixels."""
    lo, hi = config.min_frac * frame_height, config.max_frac * frame_height
    if not np.isfinite(scale):
        return hi
    return float(np.clip(config.factor * scale, lo, hi))


def hand_centres(body: np.ndarray, anchors: HandAnchors) -> np.ndarray:
    """(2, 2) centre of the left and right hand of one body frame (J, 2): the mean of the wrist
    and hand joints that are known; NaN when the wrist is unknown."""
    out = np.full((2, 2), np.nan)
    for side in (0, 1):
        wrist = body[anchors.wrist[side]]
        if np.isnan(wrist).any():
            continue
        points = body[[anchors.wrist[side], *anchors.hand[side]]]
        out[side] = np.nanmean(points, axis=0)
    return out


def hand_boxes(centres: np.ndarray, side: float, width: int, height: int) -> list[Box]:
    """Crops for the known hand centres (2, 2): one shared crop when the hands are close, none for
    a hand whose crop would lie wholly outside the frame."""
    known = [c for c in centres if not np.isnan(c).any()]
    known = [c for c in known if -side / 2 < c[0] < width + side / 2 and -side / 2 < c[1] < height + side / 2]
    if len(known) == 2 and np.linalg.norm(known[0] - known[1]) < side / 2:
        mid = (known[0] + known[1]) / 2
        return [Box.around(mid[0], mid[1], side + float(np.abs(known[0] - known[1]).max()))]
    return [Box.around(c[0], c[1], side) for c in known]


def cut(frame: np.ndarray, box: Box) -> np.ndarray:
    """The pixels of ``box`` from ``frame`` (H, W, 3); parts outside the frame are black, so that the
    crop stays square and the mapping back stays a scale and a shift."""
    h, w = frame.shape[:2]
    x0, y0, s = int(round(box.x0)), int(round(box.y0)), max(1, int(round(box.side)))
    out = np.zeros((s, s, frame.shape[2]), dtype=frame.dtype)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + s, w), min(y0 + s, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = frame[sy0:sy1, sx0:sx1]
    return out


def to_frame(landmarks: np.ndarray, box: Box) -> np.ndarray:
    """Map (21, 3) landmarks normalised to a crop back to full-frame pixels.

    x and y scale by the crop side and shift by its corner; z (MediaPipe: relative to the wrist, in
    about the units of x) scales by the crop side too, so it stays in the same units as x.
    """
    s = float(int(round(box.side)))
    out = landmarks.astype(np.float64) * s
    out[:, 0] += int(round(box.x0))
    out[:, 1] += int(round(box.y0))
    return out
