"""One left/right convention for every skeleton and hand read from video.

Slot 0 is the person's left, slot 1 the person's right, as NTU's Kinect skeletons name them
(the side of the person's own body, whatever the camera). Checkpoints are trained on NTU
skeletons, so a body or hand read from video must name sides the same way.

MediaPipe's pose landmarker names the sides of the person it sees in the image. On a camera
image that is the person's own side; on a mirrored image (Kinect v2's colour stream, which NTU's
RGB videos are: the Kinect camera-space x axis, which points to the sensor's left, grows with
colour-image x) it is the other side. So on a mirrored video MediaPipe's left and right are
swapped, and its metric world landmarks describe the mirror image of the person: they are
reflected back (x negated) as well.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from bharnet.core.layouts import NTU25, POSE33

#: NTU RGB+D video names (Kinect v2 colour, which is mirrored)
_NTU_VIDEO = re.compile(r"^S\d{3}C\d{3}P\d{3}R\d{3}A\d{3}(_rgb)?$")

#: pose33 landmark order with left and right exchanged (nose and other unpaired landmarks stay)
POSE33_SWAP = np.array([POSE33.index(name.replace("left", "@").replace("right", "left").replace("@", "right"))
                        for name in POSE33.joints])


def is_mirrored(video: str | Path, mirrored: bool | None = None) -> bool:
    """Whether ``video``'s frames are mirror images: ``mirrored`` when given, else True for NTU RGB+D
    videos (named ``SxxxCxxxPxxxRxxxAxxx_rgb``; Kinect v2 colour) and False for any other video."""
    if mirrored is not None:
        return mirrored
    return bool(_NTU_VIDEO.match(Path(video).stem))


def pose_to_convention(image: np.ndarray, world: np.ndarray, visibility: np.ndarray, mirrored: bool
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe pose landmarks ``image`` (..., 33, D), ``world`` (..., 33, 3), ``visibility``
    (..., 33) in the convention: unchanged for a camera image; for a mirrored one, left and right
    exchanged, and ``world`` reflected back (x negated) so that it is the person, not their mirror
    image. ``image`` stays in the video's pixel frame (it locates things in the frames)."""
    if not mirrored:
        return image, world, visibility
    world = world[..., POSE33_SWAP, :] * np.array([-1.0, 1.0, 1.0])
    return image[..., POSE33_SWAP, :], world, visibility[..., POSE33_SWAP]


#: (left, right) joint pairs that locate a body's sides: shoulders, elbows, hips
POSE_PAIRS = tuple((POSE33.index(f"left_{j}"), POSE33.index(f"right_{j}")) for j in ("shoulder", "elbow", "hip"))
NTU_PAIRS = tuple((NTU25.index(f"left_{j}"), NTU25.index(f"right_{j}")) for j in ("shoulder", "elbow", "hip"))


def side_margin(pose_xy: np.ndarray, skeleton_xy: np.ndarray, pose_pairs: tuple[tuple[int, int], ...] = POSE_PAIRS,
                skeleton_pairs: tuple[tuple[int, int], ...] = NTU_PAIRS) -> float:
    """How much better the pose landmarks ``pose_xy`` (T, J, 2) match the skeleton ``skeleton_xy``
    (T, K, 2) of the same person (pixels, NaN where unknown) with sides as named than with sides
    crossed: summed over frames and the ``(left, right)`` pairs both have, the crossed distance
    minus the same-side distance. Negative: the pose names the sides the other way round.
    Summed over a video, since mirroring is a property of the video, not of a frame."""
    total = 0.0
    for (pl, pr), (sl, sr) in zip(pose_pairs, skeleton_pairs, strict=True):
        def dist(a: int, b: int) -> np.ndarray:
            return np.linalg.norm(pose_xy[:, a] - skeleton_xy[:, b], axis=-1)

        margin = dist(pl, sr) + dist(pr, sl) - dist(pl, sl) - dist(pr, sr)
        total += float(np.nansum(margin))
    return total
