"""The cameras: a Kinect-like camera placed around the actor, its pinhole projection to
MediaPipe's image-normalised coordinates, and the close-up camera of the hand-only classes."""

from __future__ import annotations

import numpy as np

from bharnet.synth.geometry import DEG, mat_vec, rot_x, rot_y
from bharnet.synth.variation import Variation

__all__ = ["IMAGE_W", "IMAGE_H", "FOCAL", "CLOSE_W", "CLOSE_H", "CLOSE_F", "camera", "project"]


# Kinect v2 colour camera: 1920 x 1080 pixels, focal length about 1060 px.
IMAGE_W, IMAGE_H, FOCAL = 1920.0, 1080.0, 1060.0
#: the close-up camera of the hand-only classes: a webcam or a head-worn camera
CLOSE_W, CLOSE_H, CLOSE_F = 640.0, 480.0, 500.0


def camera(rng: np.random.Generator, n: int, var: Variation) -> tuple[np.ndarray, np.ndarray]:
    """World-to-camera rotation ``(B, 3, 3)`` and translation ``(B, 1, 3)``: the camera looks at the actor
    from ``distance``, turned by ``yaw`` about the actor, tilted by ``pitch``, at 0.7-1.3 m height."""
    yaw = rng.uniform(-var.yaw, var.yaw, n) * DEG
    pitch = rng.uniform(*var.pitch, n) * DEG
    flip = np.diag([-1.0, 1.0, -1.0])  # actor faces the camera: Kinect x points to the actor's right
    rot = rot_x(pitch) @ flip @ rot_y(yaw)
    height = rng.uniform(0.7, 1.3, n)
    offset = np.stack([rng.uniform(-0.3, 0.3, n), np.zeros(n), rng.uniform(*var.distance, n)], -1)
    # p_cam = R_pitch (flip R_yaw (p - [0, h, 0]) + offset)
    trans = mat_vec(rot_x(pitch), offset - mat_vec(flip @ rot_y(yaw), np.stack([np.zeros(n), height, np.zeros(n)], -1)))
    return rot, trans[:, None]


def project(p: np.ndarray) -> np.ndarray:
    """Camera-space points ``(..., 3)`` -> image-normalised x, y (MediaPipe's convention)."""
    z = np.maximum(p[..., 2], 0.1)
    return np.stack([0.5 - FOCAL * p[..., 0] / (z * IMAGE_W), 0.5 - FOCAL * p[..., 1] / (z * IMAGE_H)], -1)

