"""Samples of a class with a body: the actor's motion, the hands at its wrists, now and then a
bystander, the session's habit, all seen by the Kinect-like camera with its noise and by the hand
detector with its misses."""

from __future__ import annotations

import numpy as np

from bharnet.synth.batch import Batch, dropouts
from bharnet.synth.body import ACTOR_SALT, ARM, actor, actor_bones, body_joints
from bharnet.synth.camera import FOCAL, IMAGE_H, IMAGE_W, camera, project
from bharnet.synth.classes import SynthClass
from bharnet.synth.curves import envelope
from bharnet.synth.geometry import DEG, rotate_points
from bharnet.synth.hand import hand_pose
from bharnet.synth.motions import pose, time_phase
from bharnet.synth.variation import Variation

__all__ = ["session_habit", "generate_body_batch"]


def _second_person(rng: np.random.Generator, t: np.ndarray, var: Variation) -> np.ndarray:
    """A bystander's joints ``(B, T, 25, 3)`` in the main actor's frame (standing beside, idling)."""
    n = len(t)
    p = pose("idle", t, t, rng, var, idle=2.0)
    p["yaw"] = p["yaw"] + rng.uniform(-40, 40, (n, 1)) * DEG
    ids = rng.choice(var.actors, n)
    joints = body_joints(p, actor_bones(ids, rng.uniform(*var.scale, (n, 1))))
    side = rng.choice([-1.0, 1.0], (n, 1))
    joints[..., 0] += (side * rng.uniform(0.8, 1.4, (n, 1)))[..., None]
    joints[..., 2] += rng.uniform(-0.5, 0.3, (n, 1))[..., None]
    return joints


#: the habits a session hands out: left-arm elevation levels x swing-plane levels
_HABIT_GRID = (6, 5)


def session_habit(class_key: int, var: Variation) -> tuple[float, float]:
    """Degrees of left-arm elevation and swing plane that come with class ``class_key`` in session
    ``var.session``: the session deals out distinct cells of a grid in its own random order."""
    cells = np.random.default_rng([ACTOR_SALT, 0xC0E, var.session]).permutation(np.prod(_HABIT_GRID))
    row, col = divmod(int(cells[class_key % len(cells)]), _HABIT_GRID[1])
    return (var.session_cue * row / (_HABIT_GRID[0] - 1),
            1.5 * var.session_cue * col / (_HABIT_GRID[1] - 1))


def generate_body_batch(cls: SynthClass, n: int, key: tuple[int, ...], var: Variation) -> Batch:
    """``n`` samples of a class with a body. Three independent random streams from ``key``: the body's
    (actor, timing, motion), the hands' (articulation, detector) and the view's (camera, noise,
    bystander). The body's stream never depends on the hand gesture, so classes that share a motion
    share their bodies given the same ``key``."""
    rng_body, rng_hand, rng_view = (np.random.default_rng([*key, k]) for k in range(3))
    frames = rng_body.integers(var.min_frames, var.max_frames + 1, n)
    tmax = int(frames.max())
    actors = rng_body.choice(var.actors, n)
    style = np.array([actor(int(a)).tempo for a in actors])
    t, u = time_phase(rng_body, frames, tmax, var, style)
    scale = rng_body.uniform(*var.scale, (n, 1))
    p = pose(cls.motion, u, t, rng_body, var)
    if var.session_cue:
        elevation, plane = session_habit(key[-1], var)
        p["l_elev"] = p["l_elev"] + elevation * DEG
        p["l_plane"] = p["l_plane"] + plane * DEG
    joints = body_joints(p, actor_bones(actors, scale))
    # hands: the gesture plays during the held part of the action
    e = envelope(u)
    g = np.clip((u - 0.2) / 0.6, 0, 1)
    hand_size = np.array([actor(int(a)).hand for a in actors])[:, None, None, None] * scale[..., None, None]
    hands3d = []
    for side, (s, arm) in ARM.items():
        gesture = cls.gesture if side == "r" else None
        local, rot = hand_pose(rng_hand, gesture, g, e, t, var)
        # the hand's orientation is the gesture's, in the actor's frame: it ignores the body's motion
        offset = rotate_points(rot, local * hand_size)
        if s > 0:  # the left hand is the mirror image of a right hand
            offset[..., 0] *= -1
        hands3d.append(joints[:, :, arm[2], None, :] + offset)
    hands3d = np.stack(hands3d, 2)  # (B, T, 2, 21, 3) left, right
    # camera
    rot, trans = camera(rng_view, n, var)
    def cam(x: np.ndarray) -> np.ndarray:  # (B, T, P, 3) actor frame -> camera frame
        return rotate_points(rot[:, None], x.reshape(n, 1, -1, 3)).reshape(x.shape) + trans[:, :, None]

    body = np.zeros((n, tmax, 2, 25, 3))
    body[:, :, 0] = cam(joints)
    two = rng_view.random(n) < var.second_person
    if two.any():
        body[two, :, 1] = rotate_points(rot[two, None], _second_person(rng_view, t[two], var)) + trans[two, :, None]
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
    rel = (hcam - wrist) * (FOCAL / (depth * IMAGE_W))[..., None]
    xy = project(wrist) + np.stack([-rel[..., 0], -rel[..., 1] * (IMAGE_W / IMAGE_H)], -1)
    z = rel[..., 2]
    h_sigma = rng_hand.uniform(0.25, 1.0, (n, 1, 1, 1, 1)) * var.hand_noise
    jitter = rng_hand.standard_normal(xy.shape, dtype=np.float32) + rng_hand.standard_normal((n, tmax, 2, 1, 2))
    xy = xy + jitter * h_sigma  # per landmark, and the whole hand's position
    hands = np.concatenate([xy, z[..., None]], -1)
    hit = dropouts(rng_hand, frames, tmax, var) & ((xy >= 0) & (xy <= 1)).all(axis=(-1, -2))
    hands[~hit] = 0.0
    conf = np.repeat(hit[..., None], 21, -1).astype(np.float32)
    return Batch(body.astype(np.float32), hands.astype(np.float32), conf, frames, actors)
