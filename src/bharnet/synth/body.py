"""The body: an NTU-25 kinematic skeleton (bone lengths, rest pose, forward kinematics) and the
actors who lend it their proportions, hand size and tempo.

The body's own hand joints (hand, hand tip, thumb) are rigid on the forearm, as a Kinect reports
them: they carry no finger articulation (:mod:`bharnet.synth.hand` makes the fingers)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bharnet.synth.geometry import mat_vec, rot_x, rot_y, rot_z, vec

__all__ = ["ACTOR_SALT", "BONES", "REST", "METRES", "ARM", "LEG", "body_joints", "Actor", "actor", "actor_bones"]


#: mixed into the seeds of what stays the same whatever the sample's seed (actors, session habits)
ACTOR_SALT = 0x5EED

#: rest bone lengths (metres) of an actor of scale 1 (about 1.75 m tall)
BONES = {
    "spine_low": 0.26, "spine_up": 0.24, "neck": 0.08, "head": 0.15, "shoulder": 0.18, "upper_arm": 0.28,
    "forearm": 0.25, "hand": 0.075, "hip": 0.09, "thigh": 0.43, "shin": 0.41, "foot": 0.13, "ankle": 0.08,
}
#: joint angles (degrees) and offsets (metres) of the rest pose; motions override some of them
REST = {
    "yaw": 0.0, "bow": 0.0, "side": 0.0, "neck": 0.0, "jump": 0.0, "dx": 0.0, "dz": 0.0,
    **{f"{s}_{k}": v for s in "lr" for k, v in (("elev", 8.0), ("plane", 0.0), ("twist", 0.0), ("elbow", 12.0),
                                                   ("hip", 0.0), ("abd", 3.0), ("knee", 3.0))},
}
METRES = {"jump", "dx", "dz"}
# NTU-25 indices per side: shoulder, elbow, wrist, hand, hand tip, thumb / hip, knee, ankle, foot
ARM = {"l": (1, (4, 5, 6, 7, 21, 22)), "r": (-1, (8, 9, 10, 11, 23, 24))}
LEG = {"l": (1, (12, 13, 14, 15)), "r": (-1, (16, 17, 18, 19))}


def body_joints(p: dict[str, np.ndarray], bones: dict[str, np.ndarray]) -> np.ndarray:
    """Forward kinematics: pose parameters ``(B, T)`` -> NTU-25 joints ``(B, T, 25, 3)`` in the actor's
    frame (x to the actor's left, y up, z forward, floor at y = 0).

    Angles are radians here. The feet are put on the floor (the lower ankle at ankle height)
    before ``jump`` lifts the body.
    """
    b, t = p["bow"].shape
    L = {k: v[:, :, None] for k, v in bones.items()}  # (B, 1, 1): broadcast over frames and xyz
    j = np.zeros((b, t, 25, 3))
    r_root = rot_y(p["yaw"])
    r_low = r_root @ rot_x(0.5 * p["bow"]) @ rot_z(0.5 * p["side"])
    r_up = r_low @ rot_x(0.5 * p["bow"]) @ rot_z(0.5 * p["side"])
    r_neck = r_up @ rot_x(p["neck"])
    j[:, :, 1] = mat_vec(r_low, vec(0, L["spine_low"][..., 0], 0))
    j[:, :, 20] = j[:, :, 1] + mat_vec(r_up, vec(0, L["spine_up"][..., 0], 0))
    j[:, :, 2] = j[:, :, 20] + mat_vec(r_neck, vec(0, L["neck"][..., 0], 0))
    j[:, :, 3] = j[:, :, 2] + mat_vec(r_neck, vec(0, L["head"][..., 0], 0.12 * L["head"][..., 0]))
    for side, (s, (sh, el, wr, hd, tip, th)) in ARM.items():
        sw, ua, fa, hl = (L[k][..., 0] for k in ("shoulder", "upper_arm", "forearm", "hand"))
        j[:, :, sh] = j[:, :, 20] + mat_vec(r_up, vec(s * sw, -0.12 * sw, 0))
        r_arm = (r_up @ rot_y(-s * p[f"{side}_plane"]) @ rot_z(s * p[f"{side}_elev"])
                 @ rot_y(s * (p[f"{side}_plane"] + p[f"{side}_twist"])))  # the elbow keeps bending forward
        j[:, :, el] = j[:, :, sh] + mat_vec(r_arm, vec(0, -ua, 0))
        r_fore = r_arm @ rot_x(-p[f"{side}_elbow"])
        j[:, :, wr] = j[:, :, el] + mat_vec(r_fore, vec(0, -fa, 0))
        # Kinect's hand joints: rigid on the forearm, blind to the fingers
        j[:, :, hd] = j[:, :, wr] + mat_vec(r_fore, vec(0, -hl, 0))
        j[:, :, tip] = j[:, :, hd] + mat_vec(r_fore, vec(0, -hl, 0))
        j[:, :, th] = j[:, :, wr] + mat_vec(r_fore, vec(0, -0.7 * hl, 0.6 * hl))
    for side, (s, (hip, knee, ankle, foot)) in LEG.items():
        hw, th_, sh_, fl = (L[k][..., 0] for k in ("hip", "thigh", "shin", "foot"))
        j[:, :, hip] = mat_vec(r_root, vec(s * hw, -0.6 * hw, 0))
        r_thigh = r_root @ rot_z(s * p[f"{side}_abd"]) @ rot_x(-p[f"{side}_hip"])
        j[:, :, knee] = j[:, :, hip] + mat_vec(r_thigh, vec(0, -th_, 0))
        r_shin = r_thigh @ rot_x(p[f"{side}_knee"])
        j[:, :, ankle] = j[:, :, knee] + mat_vec(r_shin, vec(0, -sh_, 0))
        j[:, :, foot] = j[:, :, ankle] + mat_vec(r_root, vec(0, -0.4 * L["ankle"][..., 0], fl))
    lowest = np.minimum(j[:, :, 14, 1], j[:, :, 18, 1])
    j[..., 1] += (L["ankle"][..., 0] - lowest + p["jump"])[..., None]
    j[..., 0] += p["dx"][..., None]
    j[..., 2] += p["dz"][..., None]
    return j


@dataclass(frozen=True)
class Actor:
    """What an actor brings to every sample: proportions, hand size, tempo."""

    bones: dict[str, float]  # bone lengths before the sample's height scale
    hand: float  # hand size factor
    tempo: float  # exponent of the action phase: this actor's habitual speed profile


@lru_cache(maxsize=4096)
def actor(actor_id: int) -> Actor:
    """An actor, the same for the same id whatever the seed."""
    rng = np.random.default_rng([ACTOR_SALT, actor_id])
    bones = {k: v * rng.normal(1.0, 0.04) for k, v in BONES.items()}
    return Actor(bones, float(rng.normal(1.0, 0.05)), float(np.exp(rng.normal(0, 0.1))))


def actor_bones(actor_ids: np.ndarray, scale: np.ndarray) -> dict[str, np.ndarray]:
    """Bone lengths ``(B, 1)`` of each sample's actor at the sample's height ``scale``."""
    return {k: np.array([actor(int(a)).bones[k] for a in actor_ids])[:, None] * scale for k in BONES}
