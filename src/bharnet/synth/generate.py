"""BodyHand-Synth: a procedural body + two-hand skeleton dataset, made on the fly.

Every sample is an actor (a kinematic NTU-25 body: bone lengths, joint angles, forward
kinematics) seen by a Kinect-like camera, plus the actor's two hands as a MediaPipe-like hand
detector would report them (21 landmarks per hand, x and y normalised to the image, z relative
to the wrist). The hands sit where the body's wrists project through a pinhole camera, so they
move with the arms; their shape comes from a finger model (per-finger curl, spread, thumb
opposition). Classes come in three groups:

- ``body``: differ only in body motion; the hands hold articulations drawn from one common
  distribution, the same for every class of the group;
- ``hand``: one common arm movement (raise the right hand in front of the chest), differing
  only in finger articulation;
- ``mixed``: pairs that share an arm movement and differ in hand shape, where each hand shape is
  also that of a ``hand`` class shown with another arm movement: only body and hand together
  tell them apart.

The body's own hand joints (hand, hand tip, thumb) are rigid on the forearm, as a Kinect
reports them: they carry no finger articulation. The hand's orientation is part of the
gesture and is independent of the arm's motion, so a hand-only model cannot read the body's
movement from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace
from functools import lru_cache

import numpy as np

from bharnet.core.sequence import Sequence

__all__ = ["SYNTH_CLASSES", "AIR_CLASSES", "AIR_PATHS", "SYNTH_PRESETS", "SynthClass", "Variation", "class_groups",
           "class_ids", "named_classes", "generate", "with_preset"]

# Kinect v2 colour camera: 1920 x 1080 pixels, focal length about 1060 px.
_IMAGE_W, _IMAGE_H, _FOCAL = 1920.0, 1080.0, 1060.0
_DEG = np.pi / 180.0
_ACTOR_SALT = 0x5EED


# ----------------------------------------------------------------------------- maths
def _rot_x(a: np.ndarray) -> np.ndarray:
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([o, z, z, z, c, -s, z, s, c], -1).reshape(*np.shape(a), 3, 3)


def _rot_y(a: np.ndarray) -> np.ndarray:
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([c, z, s, z, o, z, -s, z, c], -1).reshape(*np.shape(a), 3, 3)


def _rot_z(a: np.ndarray) -> np.ndarray:
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([c, -s, z, s, c, z, z, z, o], -1).reshape(*np.shape(a), 3, 3)


def _rotvec(v: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` from rotation vectors ``(..., 3)`` (Rodrigues)."""
    angle = np.linalg.norm(v, axis=-1, keepdims=True)
    k = v / np.maximum(angle, 1e-9)
    kx, ky, kz = k[..., 0], k[..., 1], k[..., 2]
    zero = np.zeros_like(kx)
    cross = np.stack([zero, -kz, ky, kz, zero, -kx, -ky, kx, zero], -1).reshape(*v.shape[:-1], 3, 3)
    a = angle[..., None]
    return np.eye(3) + np.sin(a) * cross + (1 - np.cos(a)) * (cross @ cross)


def _mv(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Matrix ``(..., 3, 3)`` times vector ``(..., 3)`` with broadcasting (elementwise: numpy's matmul
    is slow on stacks of tiny matrices)."""
    return r[..., 0] * v[..., 0, None] + r[..., 1] * v[..., 1, None] + r[..., 2] * v[..., 2, None]


def _rotate_points(r: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Rotate rows of points: ``r`` ``(..., 3, 3)``, ``pts`` ``(..., P, 3)`` -> ``(..., P, 3)``."""
    return pts @ np.swapaxes(r, -1, -2)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _envelope(u: np.ndarray, rise: float = 0.22, fall: float = 0.78) -> np.ndarray:
    """0 -> 1 (over ``[0, rise]``), hold, 1 -> 0 (over ``[fall, 1]``) of the action phase."""
    return _smoothstep(u / rise) * (1 - _smoothstep((u - fall) / (1 - fall)))


def _bump(u: np.ndarray, centre: float | np.ndarray, width: float) -> np.ndarray:
    return np.exp(-(((u - centre) / width) ** 2))


def _drift(rng: np.random.Generator, n: int, t: np.ndarray, amplitude: float, size: int = 1) -> np.ndarray:
    """Slow smooth random wander ``(n, T)`` (or ``(n, T, size)``): two random sinusoids per channel."""
    shape = (n, 1, size)
    freq = rng.uniform(0.3, 1.6, (2, *shape))
    phase = rng.uniform(0, 2 * np.pi, (2, *shape))
    amp = rng.normal(0, amplitude, (2, *shape))
    out = (amp * np.sin(2 * np.pi * freq * t[None, :, :, None] + phase)).sum(0)
    return out[..., 0] if size == 1 else out


def _u(rng: np.random.Generator, n: int, low: float, high: float) -> np.ndarray:
    """Per-sample uniform scalars ``(n, 1)`` that broadcast over frames."""
    return rng.uniform(low, high, (n, 1))


# ----------------------------------------------------------------------------- the body
#: rest bone lengths (metres) of an actor of scale 1 (about 1.75 m tall)
_BONES = {
    "spine_low": 0.26, "spine_up": 0.24, "neck": 0.08, "head": 0.15, "shoulder": 0.18, "upper_arm": 0.28,
    "forearm": 0.25, "hand": 0.075, "hip": 0.09, "thigh": 0.43, "shin": 0.41, "foot": 0.13, "ankle": 0.08,
}
#: joint angles (degrees) and offsets (metres) of the rest pose; motions override some of them
_REST = {
    "yaw": 0.0, "bow": 0.0, "side": 0.0, "neck": 0.0, "jump": 0.0, "dx": 0.0, "dz": 0.0,
    **{f"{s}_{k}": v for s in "lr" for k, v in (("elev", 8.0), ("plane", 0.0), ("twist", 0.0), ("elbow", 12.0),
                                                   ("hip", 0.0), ("abd", 3.0), ("knee", 3.0))},
}
_METRES = {"jump", "dx", "dz"}
# NTU-25 indices per side: shoulder, elbow, wrist, hand, hand tip, thumb / hip, knee, ankle, foot
_ARM = {"l": (1, (4, 5, 6, 7, 21, 22)), "r": (-1, (8, 9, 10, 11, 23, 24))}
_LEG = {"l": (1, (12, 13, 14, 15)), "r": (-1, (16, 17, 18, 19))}


def _vec(x: np.ndarray | float, y: np.ndarray | float, z: np.ndarray | float) -> np.ndarray:
    x, y, z = np.broadcast_arrays(x, y, z)
    return np.stack([x, y, z], -1)


def _body_joints(p: dict[str, np.ndarray], bones: dict[str, np.ndarray]) -> np.ndarray:
    """Forward kinematics: pose parameters ``(B, T)`` -> NTU-25 joints ``(B, T, 25, 3)`` in the actor's
    frame (x to the actor's left, y up, z forward, floor at y = 0).

    Angles are radians here. The feet are put on the floor (the lower ankle at ankle height)
    before ``jump`` lifts the body.
    """
    b, t = p["bow"].shape
    L = {k: v[:, :, None] for k, v in bones.items()}  # (B, 1, 1): broadcast over frames and xyz
    j = np.zeros((b, t, 25, 3))
    r_root = _rot_y(p["yaw"])
    r_low = r_root @ _rot_x(0.5 * p["bow"]) @ _rot_z(0.5 * p["side"])
    r_up = r_low @ _rot_x(0.5 * p["bow"]) @ _rot_z(0.5 * p["side"])
    r_neck = r_up @ _rot_x(p["neck"])
    j[:, :, 1] = _mv(r_low, _vec(0, L["spine_low"][..., 0], 0))
    j[:, :, 20] = j[:, :, 1] + _mv(r_up, _vec(0, L["spine_up"][..., 0], 0))
    j[:, :, 2] = j[:, :, 20] + _mv(r_neck, _vec(0, L["neck"][..., 0], 0))
    j[:, :, 3] = j[:, :, 2] + _mv(r_neck, _vec(0, L["head"][..., 0], 0.12 * L["head"][..., 0]))
    for side, (s, (sh, el, wr, hd, tip, th)) in _ARM.items():
        sw, ua, fa, hl = (L[k][..., 0] for k in ("shoulder", "upper_arm", "forearm", "hand"))
        j[:, :, sh] = j[:, :, 20] + _mv(r_up, _vec(s * sw, -0.12 * sw, 0))
        r_arm = (r_up @ _rot_y(-s * p[f"{side}_plane"]) @ _rot_z(s * p[f"{side}_elev"])
                 @ _rot_y(s * (p[f"{side}_plane"] + p[f"{side}_twist"])))  # the elbow keeps bending forward
        j[:, :, el] = j[:, :, sh] + _mv(r_arm, _vec(0, -ua, 0))
        r_fore = r_arm @ _rot_x(-p[f"{side}_elbow"])
        j[:, :, wr] = j[:, :, el] + _mv(r_fore, _vec(0, -fa, 0))
        # Kinect's hand joints: rigid on the forearm, blind to the fingers
        j[:, :, hd] = j[:, :, wr] + _mv(r_fore, _vec(0, -hl, 0))
        j[:, :, tip] = j[:, :, hd] + _mv(r_fore, _vec(0, -hl, 0))
        j[:, :, th] = j[:, :, wr] + _mv(r_fore, _vec(0, -0.7 * hl, 0.6 * hl))
    for side, (s, (hip, knee, ankle, foot)) in _LEG.items():
        hw, th_, sh_, fl = (L[k][..., 0] for k in ("hip", "thigh", "shin", "foot"))
        j[:, :, hip] = _mv(r_root, _vec(s * hw, -0.6 * hw, 0))
        r_thigh = r_root @ _rot_z(s * p[f"{side}_abd"]) @ _rot_x(-p[f"{side}_hip"])
        j[:, :, knee] = j[:, :, hip] + _mv(r_thigh, _vec(0, -th_, 0))
        r_shin = r_thigh @ _rot_x(p[f"{side}_knee"])
        j[:, :, ankle] = j[:, :, knee] + _mv(r_shin, _vec(0, -sh_, 0))
        j[:, :, foot] = j[:, :, ankle] + _mv(r_root, _vec(0, -0.4 * L["ankle"][..., 0], fl))
    lowest = np.minimum(j[:, :, 14, 1], j[:, :, 18, 1])
    j[..., 1] += (L["ankle"][..., 0] - lowest + p["jump"])[..., None]
    j[..., 0] += p["dx"][..., None]
    j[..., 2] += p["dz"][..., None]
    return j


# ----------------------------------------------------------------------------- body motions
# A motion maps the action phase u (B, T) in [0, 1] to pose parameters (degrees / metres) that
# differ from the rest pose. Random per-sample scalars vary the style.
Motion = Callable[[np.ndarray, np.random.Generator], dict[str, np.ndarray]]


def _m_idle(u: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {}


def _m_wave(u, rng):
    n, e = len(u), _envelope(u)
    osc = np.sin(2 * np.pi * _u(rng, n, 2, 4) * u)
    # upper arm out to the side, forearm up (external rotation), the elbow swings the hand side to side
    return {"r_elev": 8 + e * _u(rng, n, 75, 100), "r_plane": 10 * e, "r_elbow": 12 + e * (60 + 30 * osc),
            "r_twist": 90 * e}


def _m_punch(u, rng):
    n, e = len(u), _envelope(u, 0.15, 0.85)
    reps = rng.integers(1, 4, (n, 1))
    hits = np.sin(np.pi * np.clip((u - 0.15) / 0.7, 0, 1) * reps) ** 4
    guard = {f"{s}_{k}": 8 * (k == "elev") + e * v for s in "lr"
             for k, v in (("elev", 25.0), ("plane", 75.0), ("elbow", 120.0))}
    guard["l_elbow"] = guard["l_elbow"] + 12
    guard["r_elbow"] = 12 + e * 120 - 115 * hits
    guard["r_elev"] = guard["r_elev"] + 55 * hits
    guard["r_plane"] = guard["r_plane"] + 15 * hits
    guard["twist"] = 0
    return guard


def _m_squat(u, rng):
    n, e = len(u), _envelope(u, 0.3, 0.7)
    depth = _u(rng, n, 0.75, 1.1)
    return {**{f"{s}_hip": 85 * depth * e for s in "lr"}, **{f"{s}_knee": 3 + 105 * depth * e for s in "lr"},
            "bow": 25 * depth * e, **{f"{s}_elev": 8 + 70 * e for s in "lr"}, **{f"{s}_plane": 85 * e for s in "lr"}}


def _m_kick(u, rng):
    n, e = len(u), _envelope(u, 0.3, 0.7)
    height = _u(rng, n, 55, 85)
    snap = _bump(u, 0.5, 0.1)
    return {"r_hip": height * e, "r_knee": 3 + 85 * e * (1 - 0.85 * snap), "bow": -8 * e,
            **{f"{s}_elev": 8 + 20 * e for s in "lr"}, **{f"{s}_elbow": 12 + 60 * e for s in "lr"},
            **{f"{s}_plane": 60 * e for s in "lr"}}


def _m_jump(u, rng):
    n = len(u)
    centre = _u(rng, n, 0.45, 0.55)
    crouch = _bump(u, centre - 0.14, 0.08) + 0.6 * _bump(u, centre + 0.14, 0.06)
    flight = np.clip(1 - ((u - centre) / 0.09) ** 2, 0, None)
    swing = _bump(u, centre, 0.1)
    return {**{f"{s}_hip": 50 * crouch for s in "lr"}, **{f"{s}_knee": 3 + 80 * crouch + 15 * flight for s in "lr"},
            "bow": 25 * crouch, "jump": _u(rng, n, 0.15, 0.3) * flight,
            **{f"{s}_elev": 8 - 25 * crouch + 110 * swing for s in "lr"}, **{f"{s}_plane": 80.0 for s in "lr"}}


def _m_bow(u, rng):
    n, e = len(u), _envelope(u, 0.3, 0.7)
    depth = _u(rng, n, 40, 65)
    return {"bow": depth * e, "neck": 15 * e, **{f"{s}_hip": 12 * e for s in "lr"},
            **{f"{s}_plane": 90 * e for s in "lr"}, **{f"{s}_elev": 8 - 8 * e for s in "lr"}}


def _m_walk(u, rng):
    n, e = len(u), _envelope(u, 0.12, 0.88)
    step = np.sin(2 * np.pi * _u(rng, n, 2, 4) * u) * e
    lift = _u(rng, n, 30, 50)
    out = {"l_hip": lift * np.maximum(step, 0), "r_hip": lift * np.maximum(-step, 0),
           "l_knee": 3 + 1.7 * lift * np.maximum(step, 0), "r_knee": 3 + 1.7 * lift * np.maximum(-step, 0),
           "l_plane": 90 * e, "r_plane": 90 * e, "l_elev": 25 * -step, "r_elev": 25 * step,
           "l_elbow": 12 + 25 * e, "r_elbow": 12 + 25 * e}
    return out


def _m_raise_both(u, rng):
    n, e = len(u), _envelope(u, 0.3, 0.7)
    top = _u(rng, n, 150, 172)
    return {**{f"{s}_elev": 8 + (top - 8) * e for s in "lr"}, **{f"{s}_plane": 20 * e for s in "lr"},
            "neck": -10 * e}


def _m_clap(u, rng):
    n, e = len(u), _envelope(u, 0.2, 0.8)
    beat = 0.5 - 0.5 * np.cos(2 * np.pi * _u(rng, n, 3, 6) * u)
    return {**{f"{s}_elev": 8 + 62 * e for s in "lr"}, **{f"{s}_plane": e * (55 + 48 * beat) for s in "lr"},
            **{f"{s}_elbow": 12 + 25 * e for s in "lr"}}


def _m_arm_circles(u, rng):
    n, e = len(u), _envelope(u, 0.2, 0.8)
    ang = 2 * np.pi * _u(rng, n, 2, 4) * u
    return {**{f"{s}_elev": 8 + e * (82 + 25 * np.sin(ang)) for s in "lr"},
            **{f"{s}_plane": e * 25 * np.cos(ang) for s in "lr"}}


def _m_chest(u, rng):
    """Raise the right hand in front of the chest: the arm movement of every hand-only class."""
    n, e = len(u), _envelope(u)
    return {"r_elev": 8 + e * _u(rng, n, 28, 42), "r_plane": 70 * e, "r_elbow": 12 + e * _u(rng, n, 95, 115)}


def _m_reach(u, rng):
    n, e = len(u), _envelope(u)
    return {"r_elev": 8 + e * _u(rng, n, 75, 95), "r_plane": 85 * e, "r_elbow": 12 + 5 * e}


def _m_overhead(u, rng):
    n, e = len(u), _envelope(u)
    return {"r_elev": 8 + e * _u(rng, n, 145, 165), "r_plane": 25 * e, "r_elbow": 12 + 12 * e, "neck": -8 * e}


def _m_ear(u, rng):
    n, e = len(u), _envelope(u)
    return {"r_elev": 8 + e * _u(rng, n, 65, 80), "r_plane": 20 * e, "r_elbow": 12 + e * _u(rng, n, 130, 145),
            "r_twist": -40 * e, "neck": 6 * e}


MOTIONS: dict[str, Motion] = {
    "idle": _m_idle, "wave": _m_wave, "punch": _m_punch, "squat": _m_squat, "kick": _m_kick, "jump": _m_jump,
    "bow": _m_bow, "walk": _m_walk, "raise_both": _m_raise_both, "clap": _m_clap, "arm_circles": _m_arm_circles,
    "chest": _m_chest, "reach": _m_reach, "overhead": _m_overhead, "ear": _m_ear,
}


# ----------------------------------------------------------------------------- the hand
# Right hand, metres, hand frame: x towards the thumb side, y from the wrist to the fingers,
# z out of the palm. MediaPipe order: wrist, thumb (cmc mcp ip tip), index, middle, ring, pinky (mcp pip dip tip).
_MCP = np.array([[0.026, 0.092, 0.0], [0.003, 0.096, 0.0], [-0.017, 0.089, 0.0], [-0.034, 0.078, 0.0]])
_PHALANX = np.array([[0.041, 0.024, 0.021], [0.045, 0.028, 0.022], [0.042, 0.027, 0.022], [0.033, 0.020, 0.019]])
_SPLAY = np.array([6.0, 0.0, -6.0, -13.0]) * _DEG
_SPREAD = np.array([8.0, 0.0, -6.0, -12.0]) * _DEG
_FLEX = np.array([85.0, 100.0, 75.0]) * _DEG  # MCP, PIP, DIP at curl 1
_THUMB_CMC = np.array([0.021, 0.028, 0.004])
_THUMB_LEN = np.array([0.040, 0.032, 0.028])
_THUMB_OUT = _unit(np.array([0.85, 0.5, 0.1]))  # opposition 0: abducted in the palm plane
_THUMB_OPP = _unit(np.array([0.12, 0.72, 0.68]))  # opposition 1: in front of the palm, towards the fingertips
_THUMB_BEND = _unit(np.array([-1.0, 0.1, 0.7]))  # where the thumb's joints flex to
_THUMB_FLEX = np.array([45.0, 75.0]) * _DEG  # MCP, IP at curl 1


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
    m = _unit((1 - opp[..., None]) * _THUMB_OUT + opp[..., None] * _THUMB_OPP)  # (B, T, 3)
    perp = _unit(_THUMB_BEND - (m @ _THUMB_BEND)[..., None] * m)
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
        c[..., k] = 1 - _smoothstep((g - start) / 0.12)
    return c, np.full((n, t), 0.75), np.full((n, t), 0.6)


def _g_grasp(g, rng):
    n, t = g.shape
    close = 0.5 - 0.5 * np.cos(2 * np.pi * _u(rng, n, 2, 3.5) * g)
    c = 0.05 + 0.9 * np.repeat(close[..., None], 5, -1)
    c[..., 0] *= 0.7
    return c, 0.2 + 0.4 * close, 0.8 * (1 - close)


def _g_pinch(g, rng):
    n, t = g.shape
    tap = 0.5 - 0.5 * np.cos(2 * np.pi * _u(rng, n, 2.5, 4.5) * g)
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


# ----------------------------------------------------------------------------- classes
@dataclass(frozen=True)
class SynthClass:
    """One class: a body motion of the main actor and a gesture of the right hand (``None``: the common
    relaxed hands)."""

    name: str
    group: str
    motion: str
    gesture: str | None = None


def _build_classes() -> tuple[SynthClass, ...]:
    body = [SynthClass(m if m != "raise_both" else "raise_both_arms", "body", m) for m in
            ("wave", "punch", "squat", "kick", "jump", "bow", "walk", "raise_both", "clap", "arm_circles")]
    hand = [SynthClass(f"{g}_sign" if g in ("ok", "victory") else g, "hand", "chest", g) for g in
            ("ok", "victory", "thumb_up", "thumb_down", "fist", "point", "call_me", "count", "grasp", "pinch")]
    mixed = [SynthClass("point_forward", "mixed", "reach", "point"),
             SynthClass("grab_forward", "mixed", "reach", "grasp"),
             SynthClass("thumb_up_high", "mixed", "overhead", "thumb_up"),
             SynthClass("victory_high", "mixed", "overhead", "victory"),
             SynthClass("phone_call", "mixed", "ear", "call_me"), SynthClass("ok_by_face", "mixed", "ear", "ok")]
    return tuple(body + hand + mixed)


#: every class, in label order
SYNTH_CLASSES: tuple[SynthClass, ...] = _build_classes()

#: hand-only classes (group ``air``, the ``hand-only`` preset): one hand seen close up, no body, the
#: index pointing in every class; the class is the path the hand draws (``motion``, see :data:`AIR_PATHS`)
AIR_CLASSES: tuple[SynthClass, ...] = tuple(
    SynthClass(name, "air", path, "point") for name, path in (
        ("draw_circle", "circle"), ("draw_star", "star"), ("draw_tick", "tick"), ("swipe_left", "left"),
        ("swipe_right", "right"), ("swipe_down", "down"), ("tap_forward", "tap")))
#: the classes a name may ask for: the default set, then the hand-only ones
_NAMED: tuple[SynthClass, ...] = SYNTH_CLASSES + AIR_CLASSES


def class_groups(classes: tuple[str, ...] = ()) -> dict[str, list[int]]:
    """Class ids per group: ``{"body": [...], "hand": [...], "mixed": [...]}``; of the labels of a
    subset ``classes`` (names, in label order) when one is given."""
    chosen = named_classes(classes)
    groups = ("body", "hand", "mixed") + (("air",) if any(c.group == "air" for c in chosen) else ())
    return {g: [i for i, c in enumerate(chosen) if c.group == g] for g in groups}


def class_ids(classes: tuple[str, ...] = ()) -> list[int]:
    """Ids of a subset given by names (empty: every class of SYNTH_CLASSES); the hand-only
    classes follow SYNTH_CLASSES' ids."""
    if not classes:
        return list(range(len(SYNTH_CLASSES)))
    ids = {c.name: i for i, c in enumerate(_NAMED)}
    unknown = [c for c in classes if c not in ids]
    if unknown:
        raise ValueError(f"unknown BodyHand-Synth classes {unknown}; known: {', '.join(ids)}")
    if len(set(classes)) != len(classes):
        raise ValueError(f"repeated class in {list(classes)}")
    return [ids[c] for c in classes]


def named_classes(classes: tuple[str, ...] = ()) -> list[SynthClass]:
    """The classes of a subset given by names (empty: SYNTH_CLASSES), in that order."""
    return [_NAMED[i] for i in class_ids(classes)]


#: named settings of :func:`generate` and :func:`write_synth_store` (explicit variation overrides them)
SYNTH_PRESETS: dict[str, dict] = {
    # Sign-language-like: every class is its own hand shape, the arm position is shared by 2-4 classes
    # (the hand-only classes whose gesture no mixed class reuses, and the mixed classes), and the body
    # is noisy: the hand expert is far stronger than the body expert, which still carries some evidence.
    # Recorded in sessions, as sign-language sets are: within a session each sign comes with a habit of
    # the free arm (how the signer stands for it) that the next session does not repeat. A body expert
    # learns the habit and is confidently wrong on a new session; the hands carry no such trace.
    "hand-dominant": {
        "classes": ("fist", "thumb_down", "count", "pinch", "point_forward", "grab_forward", "thumb_up_high",
                    "victory_high", "phone_call", "ok_by_face"),
        "body_noise": 0.08,
        "distractor": 0.5,
        "session_cue": 40.0,
    },
    # Gestures that move: one hand close to the camera (an egocentric view, a close-up), no body,
    # the same pointing hand in every class; only the path it draws through the frame tells them apart.
    "hand-only": {
        "classes": tuple(c.name for c in AIR_CLASSES),
        "second_person": 0.0,
        "distractor": 0.0,
    },
}


def with_preset(preset: str | None, variation: dict) -> dict:
    """A preset's variation (:data:`SYNTH_PRESETS`) updated with ``variation``."""
    if preset is None:
        return variation
    if preset not in SYNTH_PRESETS:
        raise ValueError(f"unknown BodyHand-Synth preset {preset!r}; known: {', '.join(SYNTH_PRESETS)}")
    return {**SYNTH_PRESETS[preset], **variation}


# ----------------------------------------------------------------------------- variation
@dataclass(frozen=True)
class Variation:
    """How much samples vary. ``generate(..., **variation)`` overrides any field."""

    min_frames: int = 40
    max_frames: int = 100
    #: actor ids to draw from; an actor fixes body size, proportions, hand size and style
    actors: tuple[int, ...] = tuple(range(30))
    scale: tuple[float, float] = (0.85, 1.12)  # actor height factor range
    speed: float = 0.3  # spread of the log time warp
    amplitude: float = 0.25  # spread of each sample's motion amplitude
    yaw: float = 45.0  # camera yaw range, +- degrees
    pitch: tuple[float, float] = (-8.0, 15.0)
    distance: tuple[float, float] = (2.6, 4.0)  # metres from the camera
    body_noise: float = 0.035  # metres, upper end of each sample's joint-noise level
    hand_noise: float = 0.007  # image-normalised, upper end of each sample's landmark-noise level
    hand_jitter: float = 25.0  # degrees, spread of each hand's orientation around the gesture's
    dropout: float = 1.5  # mean number of detector-miss runs per hand and sample
    hand_missing: float = 0.03  # probability that a hand is never detected in a sample
    second_person: float = 0.3  # probability of a second person doing a neutral motion
    distractor: float = 0.35  # probability of an unrelated arm movement during the action
    #: degrees: the free (left) arm's class habit within a recording session, 0 for none; each session
    #: pairs the classes with the habits in its own order (see :func:`_session_habit`)
    session_cue: float = 0.0
    session: int = 0  # the recording session, when ``session_cue`` is set
    #: the classes to make, by name, in label order (empty: all of SYNTH_CLASSES)
    classes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 2 <= self.min_frames <= self.max_frames:
            raise ValueError(f"need 2 <= min_frames <= max_frames, got {self.min_frames}, {self.max_frames}")
        if not self.actors:
            raise ValueError("actors is empty")
        class_ids(self.classes)


# ----------------------------------------------------------------------------- generation
@dataclass(frozen=True)
class _Actor:
    bones: dict[str, float]  # bone lengths before the sample's height scale
    hand: float  # hand size factor
    tempo: float  # exponent of the action phase: this actor's habitual speed profile


@lru_cache(maxsize=4096)
def _actor(actor_id: int) -> _Actor:
    """An actor, the same for the same id whatever the seed."""
    rng = np.random.default_rng([_ACTOR_SALT, actor_id])
    bones = {k: v * rng.normal(1.0, 0.04) for k, v in _BONES.items()}
    return _Actor(bones, float(rng.normal(1.0, 0.05)), float(np.exp(rng.normal(0, 0.1))))


def _time_phase(rng: np.random.Generator, frames: np.ndarray, tmax: int, var: Variation,
                style: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised time ``(B, Tmax)`` and the warped action phase ``u`` (start, duration, speed)."""
    n = len(frames)
    t = np.arange(tmax)[None, :] / (frames[:, None] - 1.0)
    start = rng.uniform(0.0, 0.15, (n, 1))
    duration = rng.uniform(0.75, 1.0, (n, 1)) * (1 - start)
    u = np.clip((t - start) / duration, 0.0, 1.0)
    gamma = np.exp(rng.normal(0, var.speed, (n, 1))) * style[:, None]
    return np.clip(t, 0, 1), u**gamma


def _pose(motion: str, u: np.ndarray, t: np.ndarray, rng: np.random.Generator, var: Variation,
          idle: float = 1.0) -> dict[str, np.ndarray]:
    """Pose parameters (radians, metres) ``(B, T)``: rest + motion (scaled by a per-sample amplitude)
    + slow idle sway."""
    n = len(u)
    moved = MOTIONS[motion](u, rng)
    amp = np.exp(rng.normal(0, var.amplitude, (n, 1)))
    p = {}
    for key, rest in _REST.items():
        value = rest + amp * (np.asarray(moved[key], float) - rest) if key in moved else np.full_like(u, rest)
        p[key] = np.broadcast_to(value, u.shape).astype(float)
    sway = {"yaw": 4.0, "bow": 2.0, "side": 2.0, "neck": 4.0, "l_elev": 4.0, "r_elev": 4.0, "l_elbow": 5.0,
            "r_elbow": 5.0, "l_plane": 5.0, "r_plane": 5.0}
    for key, a in sway.items():
        p[key] = p[key] + _drift(rng, n, t, idle * a)
    # an unrelated arm movement now and then (scratching, gesturing): the same for every class
    bump = _bump(t, rng.uniform(0.1, 0.9, (n, 1)), rng.uniform(0.05, 0.15, (n, 1)))
    bump = bump * (rng.random((n, 1)) < var.distractor)
    side = rng.random((n, 1)) < 0.5
    for key, (low, high) in {"elev": (20, 70), "plane": (0, 80), "elbow": (0, 90)}.items():
        delta = bump * rng.uniform(low, high, (n, 1))
        p[f"l_{key}"] = p[f"l_{key}"] + delta * side
        p[f"r_{key}"] = p[f"r_{key}"] + delta * ~side
    p["yaw"] = p["yaw"] + rng.normal(0, 8.0, (n, 1))  # the actor does not face the camera exactly
    for key in ("dx", "dz"):
        p[key] = p[key] + _drift(rng, n, t, idle * 0.02)
    return {k: (v if k in _METRES else v * _DEG) for k, v in p.items()}


def _bones(actor_ids: np.ndarray, scale: np.ndarray) -> dict[str, np.ndarray]:
    return {k: np.array([_actor(int(a)).bones[k] for a in actor_ids])[:, None] * scale for k in _BONES}


def _relaxed_hand(rng: np.random.Generator, n: int, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The common hand articulation of body motions and of the free hand: loosely flexed, wandering."""
    base = rng.uniform(0.1, 0.5, (n, 1, 1)) + rng.uniform(-0.12, 0.12, (n, 1, 5))
    curl = np.clip(base + _drift(rng, n, t, 0.08, 5), 0, 1)
    opp = np.clip(rng.uniform(0.1, 0.6, (n, 1)) + _drift(rng, n, t, 0.08), 0, 1)
    spread = np.clip(rng.uniform(0.0, 0.5, (n, 1)) + _drift(rng, n, t, 0.08), 0, 1)
    return curl, opp, spread


def _orientation(finger: np.ndarray, palm: np.ndarray) -> np.ndarray:
    """Rotation ``(..., 3, 3)`` whose y axis is ``finger`` and z axis ``palm`` (orthonormalised)."""
    y = _unit(finger)
    z = _unit(palm - (palm * y).sum(-1, keepdims=True) * y)
    return np.stack([np.cross(y, z), y, z], -1)


def _hand_pose(rng: np.random.Generator, gesture: str | None, g: np.ndarray, e: np.ndarray, t: np.ndarray,
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
    jitter = rng.normal(0, var.hand_jitter * _DEG, (n, 1, 3)) + _drift(rng, n, t, 0.5 * var.hand_jitter * _DEG, 3)
    return _hand_points(curl, opp, spread), rot @ _rotvec(jitter)


def _camera(rng: np.random.Generator, n: int, var: Variation) -> tuple[np.ndarray, np.ndarray]:
    """World-to-camera rotation ``(B, 3, 3)`` and translation ``(B, 1, 3)``: the camera looks at the actor
    from ``distance``, turned by ``yaw`` about the actor, tilted by ``pitch``, at 0.7-1.3 m height."""
    yaw = rng.uniform(-var.yaw, var.yaw, n) * _DEG
    pitch = rng.uniform(*var.pitch, n) * _DEG
    flip = np.diag([-1.0, 1.0, -1.0])  # actor faces the camera: Kinect x points to the actor's right
    rot = _rot_x(pitch) @ flip @ _rot_y(yaw)
    height = rng.uniform(0.7, 1.3, n)
    offset = np.stack([rng.uniform(-0.3, 0.3, n), np.zeros(n), rng.uniform(*var.distance, n)], -1)
    # p_cam = R_pitch (flip R_yaw (p - [0, h, 0]) + offset)
    trans = _mv(_rot_x(pitch), offset - _mv(flip @ _rot_y(yaw), np.stack([np.zeros(n), height, np.zeros(n)], -1)))
    return rot, trans[:, None]


def _project(p: np.ndarray) -> np.ndarray:
    """Camera-space points ``(..., 3)`` -> image-normalised x, y (MediaPipe's convention)."""
    z = np.maximum(p[..., 2], 0.1)
    return np.stack([0.5 - _FOCAL * p[..., 0] / (z * _IMAGE_W), 0.5 - _FOCAL * p[..., 1] / (z * _IMAGE_H)], -1)


def _dropouts(rng: np.random.Generator, frames: np.ndarray, tmax: int, var: Variation) -> np.ndarray:
    """Detector hits ``(B, Tmax, 2)``: False in runs of missed frames and for hands never found."""
    n = len(frames)
    hit = np.ones((n, tmax, 2), bool)
    runs = rng.poisson(var.dropout, (n, 2))
    for i, h in zip(*np.nonzero(runs), strict=True):
        for _ in range(runs[i, h]):
            length = rng.integers(2, max(3, frames[i] // 4))
            start = rng.integers(0, frames[i])
            hit[i, start:start + length, h] = False
    hit &= (rng.random((n, 2)) >= var.hand_missing)[:, None, :]
    return hit


def _second_person(rng: np.random.Generator, t: np.ndarray, var: Variation) -> np.ndarray:
    """A bystander's joints ``(B, T, 25, 3)`` in the main actor's frame (standing beside, idling)."""
    n = len(t)
    p = _pose("idle", t, t, rng, var, idle=2.0)
    p["yaw"] = p["yaw"] + rng.uniform(-40, 40, (n, 1)) * _DEG
    ids = rng.choice(var.actors, n)
    joints = _body_joints(p, _bones(ids, rng.uniform(*var.scale, (n, 1))))
    side = rng.choice([-1.0, 1.0], (n, 1))
    joints[..., 0] += (side * rng.uniform(0.8, 1.4, (n, 1)))[..., None]
    joints[..., 2] += rng.uniform(-0.5, 0.3, (n, 1))[..., None]
    return joints


#: the habits a session hands out: left-arm elevation levels x swing-plane levels
_HABIT_GRID = (6, 5)


def _session_habit(class_key: int, var: Variation) -> tuple[float, float]:
    """Degrees of left-arm elevation and swing plane that come with class ``class_key`` in session
    ``var.session``: the session deals out distinct cells of a grid in its own random order."""
    cells = np.random.default_rng([_ACTOR_SALT, 0xC0E, var.session]).permutation(np.prod(_HABIT_GRID))
    row, col = divmod(int(cells[class_key % len(cells)]), _HABIT_GRID[1])
    return (var.session_cue * row / (_HABIT_GRID[0] - 1),
            1.5 * var.session_cue * col / (_HABIT_GRID[1] - 1))


@dataclass
class _Batch:
    body: np.ndarray  # (B, Tmax, 2, 25, 3)
    hands: np.ndarray  # (B, Tmax, 2, 21, 3)
    hand_conf: np.ndarray  # (B, Tmax, 2, 21)
    frames: np.ndarray  # (B,)
    actors: np.ndarray  # (B,)


def _generate_batch(class_id: int | SynthClass, n: int, key: tuple[int, ...], var: Variation) -> _Batch:
    """``n`` samples of one class. Three independent random streams from ``key``: the body's (actor,
    timing, motion), the hands' (articulation, detector) and the view's (camera, noise, bystander).
    The body's stream never depends on the hand gesture, so classes that share a motion share
    their bodies given the same ``key``. ``class_id``: an id of :data:`SYNTH_CLASSES` or a class."""
    cls = _NAMED[class_id] if isinstance(class_id, int) else class_id
    if cls.group == "air":
        return _generate_air_batch(cls, n, key, var)
    rng_body, rng_hand, rng_view = (np.random.default_rng([*key, k]) for k in range(3))
    frames = rng_body.integers(var.min_frames, var.max_frames + 1, n)
    tmax = int(frames.max())
    actors = rng_body.choice(var.actors, n)
    style = np.array([_actor(int(a)).tempo for a in actors])
    t, u = _time_phase(rng_body, frames, tmax, var, style)
    scale = rng_body.uniform(*var.scale, (n, 1))
    p = _pose(cls.motion, u, t, rng_body, var)
    if var.session_cue:
        elevation, plane = _session_habit(key[-1], var)
        p["l_elev"] = p["l_elev"] + elevation * _DEG
        p["l_plane"] = p["l_plane"] + plane * _DEG
    joints = _body_joints(p, _bones(actors, scale))
    # hands: the gesture plays during the held part of the action
    e = _envelope(u)
    g = np.clip((u - 0.2) / 0.6, 0, 1)
    hand_size = np.array([_actor(int(a)).hand for a in actors])[:, None, None, None] * scale[..., None, None]
    hands3d = []
    for side, (s, arm) in _ARM.items():
        gesture = cls.gesture if side == "r" else None
        local, rot = _hand_pose(rng_hand, gesture, g, e, t, var)
        # the hand's orientation is the gesture's, in the actor's frame: it ignores the body's motion
        offset = _rotate_points(rot, local * hand_size)
        if s > 0:  # the left hand is the mirror image of a right hand
            offset[..., 0] *= -1
        hands3d.append(joints[:, :, arm[2], None, :] + offset)
    hands3d = np.stack(hands3d, 2)  # (B, T, 2, 21, 3) left, right
    # camera
    rot, trans = _camera(rng_view, n, var)
    def cam(x: np.ndarray) -> np.ndarray:  # (B, T, P, 3) actor frame -> camera frame
        return _rotate_points(rot[:, None], x.reshape(n, 1, -1, 3)).reshape(x.shape) + trans[:, :, None]

    body = np.zeros((n, tmax, 2, 25, 3))
    body[:, :, 0] = cam(joints)
    two = rng_view.random(n) < var.second_person
    if two.any():
        body[two, :, 1] = _rotate_points(rot[two, None], _second_person(rng_view, t[two], var)) + trans[two, :, None]
    sigma = rng_view.uniform(0.25, 1.0, (n, 1, 1, 1, 1)) * var.body_noise
    noise = rng_view.standard_normal(body.shape, dtype=np.float32) * sigma
    noise[:, :, :, [7, 11, 21, 22, 23, 24]] *= 1.5  # Kinect's hand joints are the shakiest
    body[:, :, 0] += noise[:, :, 0]
    body[two, :, 1] += noise[two, :, 1]
    hcam = cam(hands3d.reshape(n, tmax, 42, 3)).reshape(n, tmax, 2, 21, 3)
    # the wrist projects through the pinhole; the hand around it is seen in weak perspective (the
    # wrist's depth for every landmark), as MediaPipe's 2.5D landmarks model a hand in its crop
    wrist = hcam[..., :1, :]
    depth = np.maximum(wrist[..., 2], 0.1)
    rel = (hcam - wrist) * (_FOCAL / (depth * _IMAGE_W))[..., None]
    xy = _project(wrist) + np.stack([-rel[..., 0], -rel[..., 1] * (_IMAGE_W / _IMAGE_H)], -1)
    z = rel[..., 2]
    h_sigma = rng_hand.uniform(0.25, 1.0, (n, 1, 1, 1, 1)) * var.hand_noise
    jitter = rng_hand.standard_normal(xy.shape, dtype=np.float32) + rng_hand.standard_normal((n, tmax, 2, 1, 2))
    xy = xy + jitter * h_sigma  # per landmark, and the whole hand's position
    hands = np.concatenate([xy, z[..., None]], -1)
    hit = _dropouts(rng_hand, frames, tmax, var) & ((xy >= 0) & (xy <= 1)).all(axis=(-1, -2))
    hands[~hit] = 0.0
    conf = np.repeat(hit[..., None], 21, -1).astype(np.float32)
    return _Batch(body.astype(np.float32), hands.astype(np.float32), conf, frames, actors)


# ----------------------------------------------------------------------------- hand-only gestures
def _polyline(points: tuple[tuple[float, float], ...]) -> Callable[[np.ndarray], np.ndarray]:
    """A path along straight strokes through ``points``, at constant speed over the phase."""
    pts = np.asarray(points, float)
    cum = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
    def path(g: np.ndarray) -> np.ndarray:
        s = g * cum[-1]
        return np.stack([np.interp(s, cum, pts[:, 0]), np.interp(s, cum, pts[:, 1])], -1)
    return path


_STAR = tuple((np.sin(k * 144 * _DEG), np.cos(k * 144 * _DEG)) for k in range(6))


def _p_circle(g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    turn = rng.choice([-1.0, 1.0], (len(g), 1)) * 2 * np.pi * g  # either way round
    return np.stack([np.sin(turn), np.cos(turn)], -1)


def _p_stroke(points: tuple[tuple[float, float], ...]) -> Callable[[np.ndarray, np.random.Generator], np.ndarray]:
    line = _polyline(points)
    return lambda g, rng: line(_smoothstep(g) if len(points) == 2 else g)


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
_CLOSE_W, _CLOSE_H, _CLOSE_F = 640.0, 480.0, 500.0  # a webcam or a head-worn camera


def _generate_air_batch(cls: SynthClass, n: int, key: tuple[int, ...], var: Variation) -> _Batch:
    """``n`` samples of a hand-only class: the right hand, 0.45-0.75 m from the camera, draws the
    class's path (random size, tilt, place and speed) with slow wander; no body, no left hand."""
    path, poke = AIR_PATHS[cls.motion]
    rng_path, rng_hand, rng_view = (np.random.default_rng([*key, k]) for k in range(3))
    frames = rng_path.integers(var.min_frames, var.max_frames + 1, n)
    tmax = int(frames.max())
    actors = rng_path.choice(var.actors, n)
    style = np.array([_actor(int(a)).tempo for a in actors])
    t, u = _time_phase(rng_path, frames, tmax, var, style)
    g = np.clip((u - 0.1) / 0.8, 0, 1)
    size = np.exp(rng_path.normal(0, var.amplitude, (n, 1, 1))) * rng_path.uniform(0.1, 0.18, (n, 1, 1))
    tilt = rng_path.uniform(-15, 15, n) * _DEG
    spin = np.stack([np.stack([np.cos(tilt), -np.sin(tilt)], -1), np.stack([np.sin(tilt), np.cos(tilt)], -1)], -2)
    drawn = np.einsum("nij,ntj->nti", spin, path(g, rng_path)) * size
    # the fingers point up the image: the wrist draws below the middle of the frame
    centre = rng_path.uniform((0.38, 0.5), (0.62, 0.65), (n, 1, 2)) + _drift(rng_path, n, t, 0.02, 2)
    depth = rng_path.uniform(0.45, 0.75, (n, 1)) * (1 - poke * _bump(g, 0.3, 0.12) - poke * _bump(g, 0.7, 0.12))
    wrist = centre + drawn * np.array([_CLOSE_H / _CLOSE_W, -1.0])  # y up -> image rows down, square strokes
    local, rot = _hand_pose(rng_hand, cls.gesture, g, _envelope(u, 0.1, 0.9), t, var)
    hand_size = np.array([_actor(int(a)).hand for a in actors])[:, None, None, None]
    offset = _rotate_points(rot, local * hand_size)
    rel = offset * (_CLOSE_F / (depth * _CLOSE_W))[..., None, None]
    xy = wrist[:, :, None, :] + np.stack([rel[..., 0], -rel[..., 1] * (_CLOSE_W / _CLOSE_H)], -1)
    h_sigma = rng_view.uniform(0.25, 1.0, (n, 1, 1, 1)) * var.hand_noise
    xy = xy + (rng_view.standard_normal(xy.shape) + rng_view.standard_normal((n, tmax, 1, 2))) * h_sigma
    hands = np.zeros((n, tmax, 2, 21, 3))
    hands[:, :, 1] = np.concatenate([xy, rel[..., 2:]], -1)
    hit = _dropouts(rng_hand, frames, tmax, var) & ((hands[..., :2] >= 0) & (hands[..., :2] <= 1)).all(axis=(-1, -2))
    hit[:, :, 0] = False  # the left hand is not in view
    hands[~hit] = 0.0
    conf = np.repeat(hit[..., None], 21, -1).astype(np.float32)
    body = np.zeros((n, tmax, 2, 25, 3), np.float32)
    return _Batch(body, hands.astype(np.float32), conf, frames, actors)


def _variation(overrides: dict) -> Variation:
    known = {f.name for f in fields(Variation)}
    unknown = set(overrides) - known
    if unknown:
        raise TypeError(f"unknown variation {sorted(unknown)}; known: {', '.join(sorted(known))}")
    if "actors" in overrides:
        overrides = {**overrides, "actors": tuple(int(a) for a in overrides["actors"])}
    if "classes" in overrides:
        overrides = {**overrides, "classes": tuple(str(c) for c in overrides["classes"])}
    return replace(Variation(), **overrides)


def generate(num_samples: int, seed: int = 0, *, batch_per_class: int = 32, prefix: str = "synth",
             preset: str | None = None, synth_classes: tuple[SynthClass, ...] | None = None,
             **variation) -> Iterator[Sequence]:
    """Yield ``num_samples`` BodyHand-Synth samples, balanced over classes (sample ``i`` has label
    ``i % number of classes``), the same for the same arguments.

    ``variation`` overrides fields of :class:`Variation` (frame range, actors, noise, camera, the
    subset of classes, ...), on top of the named ``preset`` (:data:`SYNTH_PRESETS`) when one is given.
    Samples are made per class in batches of ``batch_per_class``. ``synth_classes``: the classes
    themselves instead (e.g. with the object classes of :mod:`bharnet.synth.objects`), in label order.
    """
    var = _variation(with_preset(preset, variation))
    chosen = named_classes(var.classes) if synth_classes is None else list(synth_classes)
    # a class's random key is its id by name (the same data whatever the subset), else 100+
    ids = [_NAMED.index(c) if c in _NAMED else 100 + j for j, c in enumerate(chosen)]
    num_classes = len(ids)
    per_block = min(batch_per_class, max(1, -(-num_samples // num_classes)))
    block = 0
    produced = 0
    while produced < num_samples:
        batches = [_generate_batch(cls, per_block, (seed, block, c), var) for c, cls in zip(ids, chosen, strict=True)]
        for k in range(per_block):
            for label, (cls, b) in enumerate(zip(chosen, batches, strict=True)):
                if produced >= num_samples:
                    return
                t = int(b.frames[k])
                yield Sequence(name=f"{prefix}_{seed}_{produced:06d}_{cls.name}", label=label,
                               body=b.body[k, :t], hands=b.hands[k, :t], hand_conf=b.hand_conf[k, :t])
                produced += 1
        block += 1




