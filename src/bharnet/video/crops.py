"""Which joints of a body say where its hands are, and how large the body is (the hand search,
:mod:`bharnet.video.search`, sizes its regions by it).

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


def frame_scales(bodies: np.ndarray, anchors: HandAnchors) -> np.ndarray:
    """(T,) max(shoulder width, longer forearm) in pixels of each frame of ``bodies`` (T, J, 2+),
    pixels first; NaN where none of them is seen: how large a person is in one frame."""
    def dist(a: int, b: int) -> np.ndarray:
        return np.linalg.norm(bodies[:, a, :2] - bodies[:, b, :2], axis=-1)

    parts = np.stack([dist(*anchors.shoulders), dist(anchors.wrist[0], anchors.elbow[0]),
                      dist(anchors.wrist[1], anchors.elbow[1])], axis=-1)
    largest = np.where(np.isnan(parts), -np.inf, parts).max(axis=-1)
    return np.where(np.isfinite(largest), largest, np.nan)


def body_scale(bodies: np.ndarray, anchors: HandAnchors) -> float:
    """Median over frames of :func:`frame_scales` (frames where it is positive); NaN when never seen.

    ``bodies`` is (T, J, 2) for one person.
    """
    per_frame = frame_scales(bodies, anchors)
    per_frame = per_frame[np.isfinite(per_frame) & (per_frame > 0)]
    return float(np.median(per_frame)) if per_frame.size else float("nan")
