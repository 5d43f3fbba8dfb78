"""Body motions: each class's joint-angle curves over a time-warped action phase, on top of the
rest pose, with a slow idle sway and now and then an unrelated arm movement."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bharnet.synth.body import METRES, REST
from bharnet.synth.curves import bump, drift, envelope, per_sample
from bharnet.synth.geometry import DEG
from bharnet.synth.variation import Variation

__all__ = ["Motion", "MOTIONS", "time_phase", "pose"]


# A motion maps the action phase u (B, T) in [0, 1] to pose parameters (degrees / metres) that
# differ from the rest pose. Random per-sample scalars vary the style.
Motion = Callable[[np.ndarray, np.random.Generator], dict[str, np.ndarray]]


def _m_idle(u: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {}


def _m_wave(u, rng):
    n, e = len(u), envelope(u)
    osc = np.sin(2 * np.pi * per_sample(rng, n, 2, 4) * u)
    # upper arm out to the side, forearm up (external rotation), the elbow swings the hand side to side
    return {"r_elev": 8 + e * per_sample(rng, n, 75, 100), "r_plane": 10 * e, "r_elbow": 12 + e * (60 + 30 * osc),
            "r_twist": 90 * e}


def _m_punch(u, rng):
    n, e = len(u), envelope(u, 0.15, 0.85)
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
    n, e = len(u), envelope(u, 0.3, 0.7)
    depth = per_sample(rng, n, 0.75, 1.1)
    return {**{f"{s}_hip": 85 * depth * e for s in "lr"}, **{f"{s}_knee": 3 + 105 * depth * e for s in "lr"},
            "bow": 25 * depth * e, **{f"{s}_elev": 8 + 70 * e for s in "lr"}, **{f"{s}_plane": 85 * e for s in "lr"}}


def _m_kick(u, rng):
    n, e = len(u), envelope(u, 0.3, 0.7)
    height = per_sample(rng, n, 55, 85)
    snap = bump(u, 0.5, 0.1)
    return {"r_hip": height * e, "r_knee": 3 + 85 * e * (1 - 0.85 * snap), "bow": -8 * e,
            **{f"{s}_elev": 8 + 20 * e for s in "lr"}, **{f"{s}_elbow": 12 + 60 * e for s in "lr"},
            **{f"{s}_plane": 60 * e for s in "lr"}}


def _m_jump(u, rng):
    n = len(u)
    centre = per_sample(rng, n, 0.45, 0.55)
    crouch = bump(u, centre - 0.14, 0.08) + 0.6 * bump(u, centre + 0.14, 0.06)
    flight = np.clip(1 - ((u - centre) / 0.09) ** 2, 0, None)
    swing = bump(u, centre, 0.1)
    return {**{f"{s}_hip": 50 * crouch for s in "lr"}, **{f"{s}_knee": 3 + 80 * crouch + 15 * flight for s in "lr"},
            "bow": 25 * crouch, "jump": per_sample(rng, n, 0.15, 0.3) * flight,
            **{f"{s}_elev": 8 - 25 * crouch + 110 * swing for s in "lr"}, **{f"{s}_plane": 80.0 for s in "lr"}}


def _m_bow(u, rng):
    n, e = len(u), envelope(u, 0.3, 0.7)
    depth = per_sample(rng, n, 40, 65)
    return {"bow": depth * e, "neck": 15 * e, **{f"{s}_hip": 12 * e for s in "lr"},
            **{f"{s}_plane": 90 * e for s in "lr"}, **{f"{s}_elev": 8 - 8 * e for s in "lr"}}


def _m_walk(u, rng):
    n, e = len(u), envelope(u, 0.12, 0.88)
    step = np.sin(2 * np.pi * per_sample(rng, n, 2, 4) * u) * e
    lift = per_sample(rng, n, 30, 50)
    out = {"l_hip": lift * np.maximum(step, 0), "r_hip": lift * np.maximum(-step, 0),
           "l_knee": 3 + 1.7 * lift * np.maximum(step, 0), "r_knee": 3 + 1.7 * lift * np.maximum(-step, 0),
           "l_plane": 90 * e, "r_plane": 90 * e, "l_elev": 25 * -step, "r_elev": 25 * step,
           "l_elbow": 12 + 25 * e, "r_elbow": 12 + 25 * e}
    return out


def _m_raise_both(u, rng):
    n, e = len(u), envelope(u, 0.3, 0.7)
    top = per_sample(rng, n, 150, 172)
    return {**{f"{s}_elev": 8 + (top - 8) * e for s in "lr"}, **{f"{s}_plane": 20 * e for s in "lr"},
            "neck": -10 * e}


def _m_clap(u, rng):
    n, e = len(u), envelope(u, 0.2, 0.8)
    beat = 0.5 - 0.5 * np.cos(2 * np.pi * per_sample(rng, n, 3, 6) * u)
    return {**{f"{s}_elev": 8 + 62 * e for s in "lr"}, **{f"{s}_plane": e * (55 + 48 * beat) for s in "lr"},
            **{f"{s}_elbow": 12 + 25 * e for s in "lr"}}


def _m_arm_circles(u, rng):
    n, e = len(u), envelope(u, 0.2, 0.8)
    ang = 2 * np.pi * per_sample(rng, n, 2, 4) * u
    return {**{f"{s}_elev": 8 + e * (82 + 25 * np.sin(ang)) for s in "lr"},
            **{f"{s}_plane": e * 25 * np.cos(ang) for s in "lr"}}


def _m_chest(u, rng):
    """Raise the right hand in front of the chest: the arm movement of every hand-only class."""
    n, e = len(u), envelope(u)
    return {"r_elev": 8 + e * per_sample(rng, n, 28, 42), "r_plane": 70 * e,
            "r_elbow": 12 + e * per_sample(rng, n, 95, 115)}


def _m_reach(u, rng):
    n, e = len(u), envelope(u)
    return {"r_elev": 8 + e * per_sample(rng, n, 75, 95), "r_plane": 85 * e, "r_elbow": 12 + 5 * e}


def _m_overhead(u, rng):
    n, e = len(u), envelope(u)
    return {"r_elev": 8 + e * per_sample(rng, n, 145, 165), "r_plane": 25 * e, "r_elbow": 12 + 12 * e, "neck": -8 * e}


def _m_ear(u, rng):
    n, e = len(u), envelope(u)
    return {"r_elev": 8 + e * per_sample(rng, n, 65, 80), "r_plane": 20 * e,
            "r_elbow": 12 + e * per_sample(rng, n, 130, 145), "r_twist": -40 * e, "neck": 6 * e}


MOTIONS: dict[str, Motion] = {
    "idle": _m_idle, "wave": _m_wave, "punch": _m_punch, "squat": _m_squat, "kick": _m_kick, "jump": _m_jump,
    "bow": _m_bow, "walk": _m_walk, "raise_both": _m_raise_both, "clap": _m_clap, "arm_circles": _m_arm_circles,
    "chest": _m_chest, "reach": _m_reach, "overhead": _m_overhead, "ear": _m_ear,
}


def time_phase(rng: np.random.Generator, frames: np.ndarray, tmax: int, var: Variation,
               style: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised time ``(B, Tmax)`` and the warped action phase ``u`` (start, duration, speed)."""
    n = len(frames)
    t = np.arange(tmax)[None, :] / (frames[:, None] - 1.0)
    start = rng.uniform(0.0, 0.15, (n, 1))
    duration = rng.uniform(0.75, 1.0, (n, 1)) * (1 - start)
    u = np.clip((t - start) / duration, 0.0, 1.0)
    gamma = np.exp(rng.normal(0, var.speed, (n, 1))) * style[:, None]
    return np.clip(t, 0, 1), u**gamma


def pose(motion: str, u: np.ndarray, t: np.ndarray, rng: np.random.Generator, var: Variation,
         idle: float = 1.0) -> dict[str, np.ndarray]:
    """Pose parameters (radians, metres) ``(B, T)``: rest + motion (scaled by a per-sample amplitude)
    + slow idle sway."""
    n = len(u)
    moved = MOTIONS[motion](u, rng)
    amp = np.exp(rng.normal(0, var.amplitude, (n, 1)))
    p = {}
    for key, rest in REST.items():
        value = rest + amp * (np.asarray(moved[key], float) - rest) if key in moved else np.full_like(u, rest)
        p[key] = np.broadcast_to(value, u.shape).astype(float)
    sway = {"yaw": 4.0, "bow": 2.0, "side": 2.0, "neck": 4.0, "l_elev": 4.0, "r_elev": 4.0, "l_elbow": 5.0,
            "r_elbow": 5.0, "l_plane": 5.0, "r_plane": 5.0}
    for key, a in sway.items():
        p[key] = p[key] + drift(rng, n, t, idle * a)
    # an unrelated arm movement now and then (scratching, gesturing): the same for every class
    distraction = bump(t, rng.uniform(0.1, 0.9, (n, 1)), rng.uniform(0.05, 0.15, (n, 1)))
    distraction = distraction * (rng.random((n, 1)) < var.distractor)
    side = rng.random((n, 1)) < 0.5
    for key, (low, high) in {"elev": (20, 70), "plane": (0, 80), "elbow": (0, 90)}.items():
        delta = distraction * rng.uniform(low, high, (n, 1))
        p[f"l_{key}"] = p[f"l_{key}"] + delta * side
        p[f"r_{key}"] = p[f"r_{key}"] + delta * ~side
    p["yaw"] = p["yaw"] + rng.normal(0, 8.0, (n, 1))  # the actor does not face the camera exactly
    for key in ("dx", "dz"):
        p[key] = p[key] + drift(rng, n, t, idle * 0.02)
    return {k: (v if k in METRES else v * DEG) for k, v in p.items()}
