"""Small transforms on skeleton arrays in channel-first layout ``(C, T, V, M)``.

Each takes a NumPy array (and a ``numpy.random.Generator`` where it is random) and returns a
new one; the dataset composes them. The crop-and-resize and rotation follow DeGCN / CTR-GCN.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from bharnet.core.layouts import Layout

__all__ = ["MODALITIES", "HAND_NORMS", "crop_window", "resize", "random_rotation", "rotate", "to_modality",
           "normalise_hands", "pad_joints", "centre_body", "has_trajectory", "hand_channels"]

MODALITIES = ("joint", "bone", "joint_motion", "bone_motion")
HAND_NORMS = ("wrist", "sample", "none", "wrist+traj")


def has_trajectory(mode: str) -> bool:
    """Whether a hand normalisation adds the wrist's trajectory as channels of their own."""
    return mode == "wrist+traj"


def hand_channels(mode: str) -> int:
    """The hand stream's channels under a normalisation: x, y, z, and the wrist's x, y, z with the trajectory."""
    return 6 if has_trajectory(mode) else 3


def crop_window(num_frames: int, ratio: float | tuple[float, float], rng: np.random.Generator | None,
                min_frames: int = 1) -> slice:
    """Frames to keep: a random crop of ``ratio`` in [lo, hi] of the sequence, at least
    ``min_frames`` long (training), or a centred crop of a fixed ratio (testing, ``rng=None``),
    as DeGCN's ``valid_crop_resize``."""
    if rng is None:
        keep = max(1, int(num_frames * float(ratio)))
        start = (num_frames - keep) // 2
        return slice(start, start + keep)
    lo, hi = ratio
    keep = int(min(max(np.floor(num_frames * rng.uniform(lo, hi)), min_frames, 1), num_frames))
    start = int(rng.integers(0, num_frames - keep + 1))
    return slice(start, start + keep)


def resize(x: np.ndarray, window: int) -> np.ndarray:
    """Linearly resample ``(C, T, V, M)`` along T to ``window`` frames."""
    c, t, v, m = x.shape
    if t == window:
        return x.astype(np.float32, copy=False)
    flat = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).permute(0, 2, 3, 1).reshape(1, c * v * m, t)
    out = F.interpolate(flat, size=window, mode="linear", align_corners=False)
    return out.reshape(c, v, m, window).permute(0, 3, 1, 2).numpy()


def _rotation_matrix(angles: np.ndarray) -> np.ndarray:
    ax, ay, az = angles
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return (rz @ ry @ rx).astype(np.float32)


def rotate(x: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Rotate 3D coordinates (the first three channels) by Euler angles (x, y, z) in radians; 2D
    coordinates (two channels) turn in the image plane by the z angle alone."""
    out = x.copy()
    if x.shape[0] == 2:
        out[:] = np.einsum("ij,jtvm->itvm", _rotation_matrix(np.array([0.0, 0.0, angles[2]]))[:2, :2], x)
        return out
    out[:3] = np.einsum("ij,jtvm->itvm", _rotation_matrix(angles), x[:3])
    return out


def random_rotation(x: np.ndarray, max_angle: float | tuple[float, float, float], rng: np.random.Generator
                    ) -> np.ndarray:
    """Rotate by angles drawn uniformly in ``[-max_angle, max_angle]`` per axis (DeGCN: 0.3 rad);
    2D coordinates by an in-plane angle in ``[-max_angle_z, max_angle_z]`` (the camera's roll: the
    only rotation a flat image shows without knowing depth)."""
    limit = np.broadcast_to(np.asarray(max_angle, dtype=np.float64), (3,))
    if x.shape[0] == 2:
        return rotate(x, np.array([0.0, 0.0, rng.uniform(-limit[2], limit[2])])) if limit[2] else x
    if not limit.any():
        return x
    return rotate(x, rng.uniform(-limit, limit))


def to_modality(x, layout: Layout, modality: str):
    """Joint (J), bone (B = joint minus its parent), joint motion (JM) or bone motion (BM).

    ``x`` is ``(..., C, T, V, M)``, a NumPy array or a tensor (a batch too). Motion is the
    difference to the next frame, zero at the last frame (as CTR-GCN/DeGCN).
    """
    if modality not in MODALITIES:
        raise ValueError(f"unknown modality {modality!r}; choose one of {MODALITIES}")
    if modality.startswith("bone"):
        x = x - x[..., list(layout.parents), :]
    if modality.endswith("motion"):
        motion = x * 0
        motion[..., :-1, :, :] = x[..., 1:, :, :] - x[..., :-1, :, :]
        x = motion
    return x


def centre_body(x: np.ndarray, centre_joint: int) -> np.ndarray:
    """Subtract the centre joint of the first person in the first frame from every present joint."""
    origin = x[:, 0, centre_joint, 0][:, None, None, None]
    present = np.abs(x).sum(axis=0, keepdims=True) > 0
    return np.where(present, x - origin, x)


def normalise_hands(hands: np.ndarray, conf: np.ndarray, mode: str = "wrist") -> tuple[np.ndarray, np.ndarray]:
    """Hand-centric normalisation of ``(T, 2, 21, 3)`` landmarks with confidence ``(T, 2, 21)``.

    - ``"wrist"``: each hand in each frame relative to its own wrist, divided by that hand's
      palm size (median wrist-to-middle-knuckle distance over the frames it is seen): the
      finger articulation, free of where the arm is.
    - ``"sample"``: relative to the hands' mean wrist position over the sample, palm-scaled:
      keeps the hands' trajectory.
    - ``"wrist+traj"``: the articulation of ``"wrist"`` (channels 0-2) and, in three more channels
      of every landmark, the wrist's position relative to its own mean over the sample,
      palm-scaled: the shape and the hand's path through the air, each in channels of its own.
    - ``"none"``: as stored.

    Returns ``(x, mask)`` with ``x`` ``(C, T, 21, 2)`` (C: :func:`hand_channels`) and ``mask``
    ``(1, T, 21, 2)``: missing landmarks are 0 in ``x`` and 0 in the mask, never a fist at the origin.
    """
    if mode not in HAND_NORMS:
        raise ValueError(f"unknown hand normalisation {mode!r}; choose one of {', '.join(HAND_NORMS)}")
    present = conf > 0
    x = hands.astype(np.float32).copy()
    if mode == "none":
        return _masked(x, present)
    scale = _palm_sizes(x, present)[None, :, None, None]
    if mode == "sample":
        return _masked((x - _mean_wrist(x, present[:, :, 0])) / scale, present)
    articulation = (x - x[:, :, :1]) / scale
    if not has_trajectory(mode):
        return _masked(articulation, present)
    path = np.zeros_like(articulation)
    for h in range(2):  # each hand about its own mean: two hands far apart are two paths
        mean = _mean_wrist(x[:, h:h + 1], present[:, h:h + 1, 0])
        path[:, h] = ((x[:, h, 0] - mean) / scale[0, h, 0])[:, None]
    return _masked(np.concatenate([articulation, path], axis=-1), present)


def _palm_sizes(x: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Each hand's median wrist-to-middle-knuckle distance over the frames it is seen (1 if never)."""
    palm = np.linalg.norm(x[:, :, 9, :2] - x[:, :, 0, :2], axis=-1)
    seen = present[:, :, 0] & present[:, :, 9]
    scale = np.ones(x.shape[1], np.float32)
    for h in range(x.shape[1]):
        if seen[:, h].any():
            scale[h] = max(float(np.median(palm[seen[:, h], h])), 1e-6)
    return scale


def _mean_wrist(x: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """The mean position of the wrists seen (``(3,)``; 0 when none is)."""
    return x[:, :, 0][seen].mean(axis=0) if seen.any() else np.zeros(3, np.float32)


def _masked(x: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(T, 2, V, 3)`` -> channel-first ``x`` with 0 where unseen, and its mask."""
    x = np.where(present[..., None], x, 0.0).astype(np.float32)
    return x.transpose(3, 0, 2, 1), present.astype(np.float32).transpose(0, 2, 1)[None]


def pad_joints(x: np.ndarray, num_joints: int) -> np.ndarray:
    """Zero-pad ``(C, T, V, M)`` along V to ``num_joints`` (dummy joints)."""
    extra = num_joints - x.shape[2]
    if extra <= 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (0, extra), (0, 0)))
