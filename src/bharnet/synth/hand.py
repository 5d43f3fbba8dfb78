"""The hand: a finger model (per-finger curl, spread, thumb opposition) that gives MediaPipe's 21
landmarks, the gestures that drive it, and the hand's orientation in the actor's frame.

The orientation is part of the gesture and independent of the arm's motion, so a hand-only model
cannot read the body's movement from it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bharnet.synth.curves import drift, per_sample, smoothstep
from bharnet.synth.geometry import DEG, rotvec, unit
from bharnet.synth.variation import Variation

__all__ = ["Gesture", "GESTURES", "hand_pose"]


# Right hand, metres, hand frame: x towards the thumb side, y from the wrist to the fingers,
# z out of the palm. MediaPipe order: wrist, thumb (cmc mcp ip tip), index, middle, ring, pinky (mcp pip dip tip).
_MCP = np.array([[0.026, 0.092, 0.0], [0.003, 0.096, 0.0], [-0.017, 0.089, 0.0], [-0.034, 0.078, 0.0]])
_PHALANX = np.array([[0.041, 0.024, 0.021], [0.045, 0.028, 0.022], [0.042, 0.027, 0.022], [0.033, 0.020, 0.019]])
_SPLAY = np.array([6.0, 0.0, -6.0, -13.0]) * DEG
_SPREAD = np.array([8.0, 0.0, -6.0, -12.0]) * DEG
_FLEX = np.array([85.0, 100.0, 75.0]) * DEG  # MCP, PIP, DIP at curl 1
_THUMB_CMC = np.array([0.021, 0.028, 0.004])
_THUMB_LEN = np.array([0.040, 0.032, 0.028])
_THUMB_OUT = unit(np.array([0.85, 0.5, 0.1]))  # opposition 0: abducted in the palm plane
_THUMB_OPP = unit(np.array([0.12, 0.72, 0.68]))  # opposition 1: in front of the palm, towards the fingertips
_THUMB_BEND = unit(np.array([-1.0, 0.1, 0.7]))  # where the thumb's joints flex to
_THUMB_FLEX = np.array([45.0, 75.0]) * DEG  # MCP, IP at curl 1


def _hand_points(curl: np.ndarray, opp: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Right-hand landmarks ``(B, T, 21, 3)`` in the hand frame from the finger articulation.

    ``curl`` ``(B, T, 5)``: 0 straight .. 1 fully flexed (thumb, index, middle, ring, pinky);
    ``opp`` ``(B, T)``: thumb opposition 0 .. 1; ``spread`` ``(B, T)``: finger abduction 0 .. 1.
    """
    b, t = opp.shape
    pts = np.zeros((b, t, 21, 3))
    # fingers: each segment bends further towards the palm (cumulative flexion)
    bend = np.cumsum(curl[..., 1:, None] * _FLEX, axis=-1)  # (B, T, 4, 3)
    splay = _SPLAY + spread[..., None] * _SPREAD  # (B, T, 4)
    d = np.stack([np.sin(splay)[..., None] * np.cos(bend), np.cos(splay)[..., None] * np.cos(bend),
                  np.sin(bend)], -1)  # (B, T, 4, 3 segments, 3)
    chain = _MCP[:, None, :] + np.cumsum(d * _PHALANX[..., None], axis=-2)
    finger = np.concatenate([np.broadcast_to(_MCP[:, None, :], (b, t, 4, 1, 3)), chain], axis=-2)
    pts[:, :, 5:] = finger.reshape(b, t, 16, 3)
    # thumb: the metacarpal turns from the palm plane to the front of the palm, then flexes
    m = unit((1 - opp[..., None]) * _THUMB_OUT + opp[..., None] * _THUMB_OPP)  # (B, T, 3)
    perp = unit(_THUMB_BEND - (m @ _THUMB_BEND)[..., None] * m)
    a1, a2 = curl[..., 0] * _THUMB_FLEX[0], curl[..., 0] * _THUMB_FLEX.sum()
    d2 = np.cos(a1)[..., None] * m + np.sin(a1)[..., None] * perp
    d3 = np.cos(a2)[..., None] * m + np.sin(a2)[..., None] * perp
    pts[:, :, 1] = _THUMB_CMC
    pts[:, :, 2] = _THUMB_CMC + _THUMB_LEN[0] * m
    pts[:, :, 3] = pts[:, :, 2] + _THUMB_LEN[1] * d2
    pts[:, :, 4] = pts[:, :, 3] + _THUMB_LEN[2] * d3
    return pts


# Hand orientations in the actor's frame for a right hand: (finger direction, palm normal).
_ORIENT = {
    "relaxed": ((0.0, -1.0, 0.0), (1.0, 0.0, 0.0)),  # hanging: fingers down, palm to the body, thumb forward
    "show": ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),  # fingers up, palm to the camera
    "thumb_up": ((0.0, 0.0, 1.0), (1.0, 0.0, 0.0)),  # fingers forward, palm inwards, thumb up
    "thumb_down": ((0.0, 0.0, 1.0), (-1.0, 0.0, 0.0)),  # fingers forward, palm outwards, thumb down
    "point": ((0.0, 0.45, 0.9), (0.0, -0.9, 0.45)),  # fingers forward and up, palm down
    "side": ((0.0, 0.5, 0.85), (1.0, 0.0, 0.0)),  # fingers forward and up, palm inwards, thumb up
}

# A gesture maps the gesture phase g (B, T) to curls (B, T, 5), opposition and spread (B, T).
Gesture = Callable[[np.ndarray, np.random.Generator], tuple[np.ndarray, np.ndarray, np.ndarray]]


def _static(curl: tuple[float, ...], opp: float, spread: float) -> Gesture:
    def gesture(g: np.ndarray, rng: np.random.Generator):
        n, t = g.shape
        c = np.broadcast_to(np.asarray(curl), (n, t, 5))
        return c, np.full((n, t), opp), np.full((n, t), spread)
    return gesture


def _g_count(g, rng):
    n, t = g.shape
    c = np.empty((n, t, 5))
    c[..., 0], c[..., 4] = 0.85, 1.0
    for k, start in zip((1, 2, 3), (0.05, 0.35, 0.65), strict=True):
        c[..., k] = 1 - smoothstep((g - start) / 0.12)
    return c, np.full((n, t), 0.75), np.full((n, t), 0.6)


def _g_grasp(g, rng):
    n, t = g.shape
    close = 0.5 - 0.5 * np.cos(2 * np.pi * per_sample(rng, n, 2, 3.5) * g)
    c = 0.05 + 0.9 * np.repeat(close[..., None], 5, -1)
    c[..., 0] *= 0.7
    return c, 0.2 + 0.4 * close, 0.8 * (1 - close)


def _g_pinch(g, rng):
    n, t = g.shape
    tap = 0.5 - 0.5 * np.cos(2 * np.pi * per_sample(rng, n, 2.5, 4.5) * g)
    c = np.empty((n, t, 5))
    c[..., 0], c[..., 1] = 0.1 + 0.35 * tap, 0.15 + 0.4 * tap
    c[..., 2:] = 0.85
    return c, np.full((n, t), 0.9), np.zeros((n, t))


#: gesture name -> (articulation over the gesture phase, orientation)
GESTURES: dict[str, tuple[Gesture, str]] = {
    "ok": (_static((0.45, 0.55, 0.1, 0.1, 0.15), 0.95, 0.5), "show"),
    "victory": (_static((0.8, 0.0, 0.0, 1.0, 1.0), 0.7, 1.0), "show"),
    "thumb_up": (_static((0.0, 1.0, 1.0, 1.0, 1.0), 0.0, 0.1), "thumb_up"),
    "thumb_down": (_static((0.0, 1.0, 1.0, 1.0, 1.0), 0.0, 0.1), "thumb_down"),
    "fist": (_static((0.75, 1.0, 1.0, 1.0, 1.0), 0.45, 0.0), "show"),
    "point": (_static((0.75, 0.0, 1.0, 1.0, 1.0), 0.5, 0.0), "point"),
    "call_me": (_static((0.0, 1.0, 1.0, 1.0, 0.0), 0.0, 0.9), "show"),
    "count": (_g_count, "show"),
    "grasp": (_g_grasp, "show"),
    "pinch": (_g_pinch, "side"),
}


def _relaxed_hand(rng: np.random.Generator, n: int, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The common hand articulation of body motions and of the free hand: loosely flexed, wandering."""
    base = rng.uniform(0.1, 0.5, (n, 1, 1)) + rng.uniform(-0.12, 0.12, (n, 1, 5))
    curl = np.clip(base + drift(rng, n, t, 0.08, 5), 0, 1)
    opp = np.clip(rng.uniform(0.1, 0.6, (n, 1)) + drift(rng, n, t, 0.08), 0, 1)
    spread = np.clip(rng.uniform(0.0, 0.5, (n, 1)) + drift(rng, n, t, 0.08), 0, 1)
    return curl, opp, spread


def _orientation(finger: np.ndarray, palm: np.ndarray) -> np.ndarray:
    """Rotation ``(..., 3, 3)`` whose y axis is ``finger`` and z axis ``palm`` (orthonormalised)."""
    y = unit(finger)
    z = unit(palm - (palm * y).sum(-1, keepdims=True) * y)
    return np.stack([np.cross(y, z), y, z], -1)


def hand_pose(rng: np.random.Generator, gesture: str | None, g: np.ndarray, e: np.ndarray, t: np.ndarray,
              var: Variation) -> tuple[np.ndarray, np.ndarray]:
    """One right hand's landmarks ``(B, T, 21, 3)`` (hand frame, metres) and orientation ``(B, T, 3, 3)``
    in the actor's frame. ``e`` blends from the relaxed hand into the gesture."""
    n = len(g)
    curl, opp, spread = _relaxed_hand(rng, n, t)
    finger, palm = (np.broadcast_to(np.asarray(v), (n, 3)) for v in _ORIENT["relaxed"])
    finger = finger + rng.normal(0, 0.5, (n, 3))  # relaxed hands turn any which way
    palm = palm + rng.normal(0, 0.5, (n, 3))
    finger, palm = finger[:, None, :], palm[:, None, :]
    if gesture is not None:
        articulation, orient = GESTURES[gesture]
        gc, go, gs = articulation(g, rng)
        gc = np.clip(gc + rng.normal(0, 0.1, (n, 1, 5)), 0, 1)
        w = e[..., None]
        curl, opp, spread = (1 - w) * curl + w * gc, (1 - e) * opp + e * go, (1 - e) * spread + e * gs
        gf, gp = (np.asarray(v, float) for v in _ORIENT[orient])
        finger, palm = (1 - w) * finger + w * gf, (1 - w) * palm + w * gp
    rot = _orientation(np.broadcast_to(finger, (*g.shape, 3)), np.broadcast_to(palm, (*g.shape, 3)))
    jitter = rng.normal(0, var.hand_jitter * DEG, (n, 1, 3)) + drift(rng, n, t, 0.5 * var.hand_jitter * DEG, 3)
    return _hand_points(curl, opp, spread), rot @ rotvec(jitter)
