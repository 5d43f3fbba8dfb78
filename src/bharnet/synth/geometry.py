"""Rotations and vectors, vectorised over samples and frames: the body's joints, the hands and the
camera all turn with them."""

from __future__ import annotations

import numpy as np

__all__ = ["DEG", "rot_x", "rot_y", "rot_z", "rotvec", "mat_vec", "rotate_points", "unit", "vec"]


DEG = np.pi / 180.0


def rot_x(a: np.ndarray) -> np.ndarray:
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([o, z, z, z, c, -s, z, s, c], -1).reshape(*np.shape(a), 3, 3)


def rot_y(a: np.ndarray) -> np.ndarray:
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([c, z, s, z, o, z, -s, z, c], -1).reshape(*np.shape(a), 3, 3)


def rot_z(a: np.ndarray) -> np.ndarray:
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([c, -s, z, s, c, z, z, z, o], -1).reshape(*np.shape(a), 3, 3)


def rotvec(v: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` from rotation vectors ``(..., 3)`` (Rodrigues)."""
    angle = np.linalg.norm(v, axis=-1, keepdims=True)
    k = v / np.maximum(angle, 1e-9)
    kx, ky, kz = k[..., 0], k[..., 1], k[..., 2]
    zero = np.zeros_like(kx)
    cross = np.stack([zero, -kz, ky, kz, zero, -kx, -ky, kx, zero], -1).reshape(*v.shape[:-1], 3, 3)
    a = angle[..., None]
    return np.eye(3) + np.sin(a) * cross + (1 - np.cos(a)) * (cross @ cross)


def mat_vec(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Matrix ``(..., 3, 3)`` times vector ``(..., 3)`` with broadcasting (elementwise: numpy's matmul
    is slow on stacks of tiny matrices)."""
    return r[..., 0] * v[..., 0, None] + r[..., 1] * v[..., 1, None] + r[..., 2] * v[..., 2, None]


def rotate_points(r: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Rotate rows of points: ``r`` ``(..., 3, 3)``, ``pts`` ``(..., P, 3)`` -> ``(..., P, 3)``."""
    return pts @ np.swapaxes(r, -1, -2)


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def vec(x: np.ndarray | float, y: np.ndarray | float, z: np.ndarray | float) -> np.ndarray:
    x, y, z = np.broadcast_arrays(x, y, z)
    return np.stack([x, y, z], -1)
