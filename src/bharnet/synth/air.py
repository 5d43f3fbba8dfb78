"""The hand-only classes' samples (group ``air``): one right hand close to a webcam draws a path
(:data:`AIR_PATHS`); no body, no left hand."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bharnet.synth.batch import Batch, dropouts
from bharnet.synth.body import actor
from bharnet.synth.camera import CLOSE_F, CLOSE_H, CLOSE_W
from bharnet.synth.classes import SynthClass
from bharnet.synth.curves import bump, drift, envelope, smoothstep
from bharnet.synth.geometry import DEG, rotate_points
from bharnet.synth.hand import hand_pose
from bharnet.synth.motions import time_phase
from bharnet.synth.variation import Variation

__all__ = ["AIR_PATHS", "generate_air_batch"]


def _polyline(points: tuple[tuple[float, float], ...]) -> Callable[[np.ndarray], np.ndarray]:
    """A path along straight strokes through ``points``, at constant speed over the phase."""
    pts = np.asarray(points, float)
    cum = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
    def path(g: np.ndarray) -> np.ndarray:
        s = g * cum[-1]
        return np.stack([np.interp(s, cum, pts[:, 0]), np.interp(s, cum, pts[:, 1])], -1)
    return path


_STAR = tuple((np.sin(k * 144 * DEG), np.cos(k * 144 * DEG)) for k in range(6))


def _p_circle(g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    turn = rng.choice([-1.0, 1.0], (len(g), 1)) * 2 * np.pi * g  # either way round
    return np.stack([np.sin(turn), np.cos(turn)], -1)


def _p_stroke(points: tuple[tuple[float, float], ...]) -> Callable[[np.ndarray, np.random.Generator], np.ndarray]:
    line = _polyline(points)
    return lambda g, rng: line(smoothstep(g) if len(points) == 2 else g)


def _p_tap(g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.zeros((*g.shape, 2))  # the hand pokes towards the camera (depth) where it is


#: a hand-only class's path in the image plane over the gesture phase, about the unit square
#: (x right, y up), and how much nearer the camera the hand comes (a fraction of its distance)
AIR_PATHS: dict[str, tuple[Callable[[np.ndarray, np.random.Generator], np.ndarray], float]] = {
    "circle": (_p_circle, 0.0),
    "star": (_p_stroke(_STAR), 0.0),
    "tick": (_p_stroke(((-0.6, 0.1), (-0.2, -0.5), (0.7, 0.7))), 0.0),
    "left": (_p_stroke(((0.9, 0.0), (-0.9, 0.0))), 0.0),
    "right": (_p_stroke(((-0.9, 0.0), (0.9, 0.0))), 0.0),
    "down": (_p_stroke(((0.0, 0.9), (0.0, -0.9))), 0.0),
    "tap": (_p_tap, 0.35),
}


def generate_air_batch(cls: SynthClass, n: int, key: tuple[int, ...], var: Variation) -> Batch:
    """``n`` samples of a hand-only class: the right hand, 0.45-0.75 m from the camera, draws the
    class's path (random size, tilt, place and speed) with slow wander; no body, no left hand."""
    path, poke = AIR_PATHS[cls.motion]
    rng_path, rng_hand, rng_view = (np.random.default_rng([*key, k]) for k in range(3))
    frames = rng_path.integers(var.min_frames, var.max_frames + 1, n)
    tmax = int(frames.max())
    actors = rng_path.choice(var.actors, n)
    style = np.array([actor(int(a)).tempo for a in actors])
    t, u = time_phase(rng_path, frames, tmax, var, style)
    g = np.clip((u - 0.1) / 0.8, 0, 1)
    size = np.exp(rng_path.normal(0, var.amplitude, (n, 1, 1))) * rng_path.uniform(0.1, 0.18, (n, 1, 1))
    tilt = rng_path.uniform(-15, 15, n) * DEG
    spin = np.stack([np.stack([np.cos(tilt), -np.sin(tilt)], -1), np.stack([np.sin(tilt), np.cos(tilt)], -1)], -2)
    drawn = np.einsum("nij,ntj->nti", spin, path(g, rng_path)) * size
    # the fingers point up the image: the wrist draws below the middle of the frame
    centre = rng_path.uniform((0.38, 0.5), (0.62, 0.65), (n, 1, 2)) + drift(rng_path, n, t, 0.02, 2)
    depth = rng_path.uniform(0.45, 0.75, (n, 1)) * (1 - poke * bump(g, 0.3, 0.12) - poke * bump(g, 0.7, 0.12))
    wrist = centre + drawn * np.array([CLOSE_H / CLOSE_W, -1.0])  # y up -> image rows down, square strokes
    local, rot = hand_pose(rng_hand, cls.gesture, g, envelope(u, 0.1, 0.9), t, var)
    hand_size = np.array([actor(int(a)).hand for a in actors])[:, None, None, None]
    offset = rotate_points(rot, local * hand_size)
    rel = offset * (CLOSE_F / (depth * CLOSE_W))[..., None, None]
    xy = wrist[:, :, None, :] + np.stack([rel[..., 0], -rel[..., 1] * (CLOSE_W / CLOSE_H)], -1)
    h_sigma = rng_view.uniform(0.25, 1.0, (n, 1, 1, 1)) * var.hand_noise
    xy = xy + (rng_view.standard_normal(xy.shape) + rng_view.standard_normal((n, tmax, 1, 2))) * h_sigma
    hands = np.zeros((n, tmax, 2, 21, 3))
    hands[:, :, 1] = np.concatenate([xy, rel[..., 2:]], -1)
    hit = dropouts(rng_hand, frames, tmax, var) & ((hands[..., :2] >= 0) & (hands[..., :2] <= 1)).all(axis=(-1, -2))
    hit[:, :, 0] = False  # the left hand is not in view
    hands[~hit] = 0.0
    conf = np.repeat(hit[..., None], 21, -1).astype(np.float32)
    body = np.zeros((n, tmax, 2, 25, 3), np.float32)
    return Batch(body, hands.astype(np.float32), conf, frames, actors)
