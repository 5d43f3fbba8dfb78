"""Every skeleton layout in one place.

A layout names the joints of one skeleton, gives each joint a parent (the bones form a tree
rooted at ``root``), a ``center`` joint used to normalise position, and the spatial partition
(identity / inward / outward) that graph convolutions use.

Joint indices are 0-based here; published tables (NTU, N-UCLA) count from 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

__all__ = ["Layout", "get_layout", "pad_layout", "convert_layout", "LAYOUTS"]


@dataclass(frozen=True)
class Layout:
    """A named skeleton: joints, parent of each joint (the root is its own parent), centre."""

    name: str
    joints: tuple[str, ...]
    parents: tuple[int, ...]
    center: int
    #: instances per sample the layout usually comes with (people, or two hands)
    num_instances: int = 1
    #: joints that carry no data (padding); they are isolated in the graph
    dummy: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        if len(self.parents) != len(self.joints):
            raise ValueError(f"layout {self.name}: {len(self.joints)} joints, {len(self.parents)} parents")

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    @property
    def root(self) -> int:
        roots = [j for j, p in enumerate(self.parents) if p == j and j not in self.dummy]
        return roots[0]

    @property
    def edges(self) -> list[tuple[int, int]]:
        """Bones as (child, parent) pairs, pointing towards the root."""
        return [(j, p) for j, p in enumerate(self.parents) if j != p]

    def index(self, joint: str) -> int:
        return self.joints.index(joint)

    @cached_property
    def partition(self) -> np.ndarray:
        """Spatial partition ``(3, V, V)``: identity, inward, outward, as in ST-GCN/CTR-GCN.

        ``A[k, i, j]`` is the weight with which joint ``j`` feeds joint ``i``; the inward and
        outward matrices are normalised by the in-degree of each source joint (column sums 1).
        """
        v = self.num_joints
        inward = np.zeros((v, v), dtype=np.float32)
        for child, parent in self.edges:
            inward[parent, child] = 1.0
        outward = inward.T.copy()
        return np.stack([np.eye(v, dtype=np.float32), _normalise_columns(inward), _normalise_columns(outward)])

    @cached_property
    def adjacency(self) -> np.ndarray:
        """Undirected adjacency ``(V, V)`` without self-links."""
        a = self.partition[1] > 0
        return (a | a.T).astype(np.float32)


def _normalise_columns(a: np.ndarray) -> np.ndarray:
    degree = a.sum(axis=0)
    scale = np.divide(1.0, degree, out=np.zeros_like(degree), where=degree > 0)
    return a * scale[None, :]


def _from_pairs(name: str, joints: list[str], pairs_1based: list[tuple[int, int]], root: int, center: int,
                num_instances: int = 1) -> Layout:
    """Build a layout from (child, parent) pairs in the 1-based numbering of the literature."""
    parents = list(range(len(joints)))
    for child, parent in pairs_1based:
        parents[child - 1] = parent - 1
    layout = Layout(name, tuple(joints), tuple(parents), center - 1, num_instances)
    assert layout.root == root - 1, name
    return layout


# NTU RGB+D (Kinect v2). The bone pairs are the field's (CTR-GCN / DeGCN): the hand tip hangs
# off the thumb and the thumb off the hand, so that graphs and bone streams match published models.
NTU25 = _from_pairs(
    "ntu25",
    ["spine_base", "spine_mid", "neck", "head", "left_shoulder", "left_elbow", "left_wrist", "left_hand",
     "right_shoulder", "right_elbow", "right_wrist", "right_hand", "left_hip", "left_knee", "left_ankle",
     "left_foot", "right_hip", "right_knee", "right_ankle", "right_foot", "spine_shoulder", "left_hand_tip",
     "left_thumb", "right_hand_tip", "right_thumb"],
    [(1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9), (11, 10), (12, 11),
     (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (22, 23), (23, 8), (24, 25),
     (25, 12)],
    root=21, center=2, num_instances=2,
)

# Northwestern-UCLA (Kinect v1, 20 joints), the numbering of the CTR-GCN distribution.
UCLA20 = _from_pairs(
    "ucla20",
    ["hip_center", "spine", "shoulder_center", "head", "left_shoulder", "left_elbow", "left_wrist", "left_hand",
     "right_shoulder", "right_elbow", "right_wrist", "right_hand", "left_hip", "left_knee", "left_ankle",
     "left_foot", "right_hip", "right_knee", "right_ankle", "right_foot"],
    [(1, 2), (2, 3), (4, 3), (5, 3), (6, 5), (7, 6), (8, 7), (9, 3), (10, 9), (11, 10), (12, 11), (13, 1),
     (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19)],
    root=3, center=2,
)

_FINGERS = ("thumb", "index", "middle", "ring", "pinky")
_FINGER_JOINTS = {"thumb": ("cmc", "mcp", "ip", "tip"), "index": ("mcp", "pip", "dip", "tip"),
                  "middle": ("mcp", "pip", "dip", "tip"), "ring": ("mcp", "pip", "dip", "tip"),
                  "pinky": ("mcp", "pip", "dip", "tip")}

# MediaPipe hand landmarks: the wrist, then four joints per finger from palm to tip. Every
# finger chain starts at the wrist so that the bones form a tree. Two hands are two instances
# (left, right).
HAND21 = _from_pairs(
    "hand21",
    ["wrist"] + [f"{finger}_{part}" for finger in _FINGERS for part in _FINGER_JOINTS[finger]],
    [(2 + 4 * f, 1) for f in range(5)] + [(3 + 4 * f + k, 2 + 4 * f + k) for f in range(5) for k in range(3)],
    root=1, center=1, num_instances=2,
)

# MediaPipe pose landmarker (BlazePose, 33 landmarks). Rooted at the nose; the shoulders hang
# off the nose and the hips off the shoulders so that the bones form a tree.
POSE33 = _from_pairs(
    "pose33",
    ["nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
     "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
     "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
     "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
     "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index"],
    [(2, 1), (3, 2), (4, 3), (8, 4), (5, 1), (6, 5), (7, 6), (9, 7), (10, 1), (11, 1), (12, 1), (13, 1),
     (14, 12), (16, 14), (18, 16), (20, 16), (22, 16), (15, 13), (17, 15), (19, 17), (21, 17), (23, 17),
     (24, 12), (25, 13), (26, 24), (28, 26), (30, 28), (32, 28), (27, 25), (29, 27), (31, 29), (33, 29)],
    root=1, center=24,
)

# COCO-17 keypoints (the 2D pose estimators' layout), rooted at the nose.
COCO17 = _from_pairs(
    "coco17",
    ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
     "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee",
     "left_ankle", "right_ankle"],
    [(2, 1), (3, 1), (4, 2), (5, 3), (6, 1), (7, 1), (8, 6), (9, 7), (10, 8), (11, 9), (12, 6), (13, 7),
     (14, 12), (15, 13), (16, 14), (17, 15)],
    root=1, center=1,
)


# Joints of one layout as weighted means of another's. Kinect's spine and neck have no MediaPipe
# landmark: they are placed between the hips, the shoulders and the mouth; its "hand" is the palm,
# between the index and pinky knuckles; its hand tip is the index knuckle (MediaPipe's pose has no
# finger tips).
_MEANS: dict[tuple[str, str], dict[str, dict[str, float]]] = {
    ("pose33", "ntu25"): {
        "spine_base": {"left_hip": 0.5, "right_hip": 0.5},
        "spine_mid": {"left_hip": 0.3, "right_hip": 0.3, "left_shoulder": 0.2, "right_shoulder": 0.2},
        "neck": {"left_shoulder": 0.4, "right_shoulder": 0.4, "mouth_left": 0.1, "mouth_right": 0.1},
        "head": {"left_ear": 0.5, "right_ear": 0.5},
        "spine_shoulder": {"left_shoulder": 0.5, "right_shoulder": 0.5},
        **{f"{side}_{joint}": {f"{side}_{joint}": 1.0} for side in ("left", "right")
           for joint in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "thumb")},
        **{f"{side}_hand": {f"{side}_index": 0.5, f"{side}_pinky": 0.5} for side in ("left", "right")},
        **{f"{side}_hand_tip": {f"{side}_index": 1.0} for side in ("left", "right")},
        **{f"{side}_foot": {f"{side}_foot_index": 1.0} for side in ("left", "right")},
    },
    ("pose33", "coco17"): {name: {name: 1.0} for name in (
        "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
        "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee",
        "left_ankle", "right_ankle")},
}


def convert_layout(x: np.ndarray, source: str | Layout, target: str | Layout) -> np.ndarray:
    """Joints ``(..., V_source, C)`` -> ``(..., V_target, C)`` (pose33 -> ntu25 or coco17; the
    identity for one layout); ``KeyError`` for a pair without a conversion."""
    source, target = get_layout(source), get_layout(target)
    if source.name == target.name:
        return x
    means = _MEANS.get((source.name, target.name))
    if means is None:
        known = ", ".join(f"{a} -> {b}" for a, b in _MEANS)
        raise KeyError(f"no conversion from {source.name} to {target.name} (known: {known})")
    weights = np.zeros((target.num_joints, source.num_joints))
    for j, name in enumerate(target.joints):
        for part, w in means[name].items():
            weights[j, source.joints.index(part)] = w
    return np.einsum("uv,...vc->...uc", weights, x)


def pad_layout(layout: Layout, num_joints: int) -> Layout:
    """Append dummy joints (their own parents, no edges) up to ``num_joints``.

    BHaRNet pads the 21 hand joints to the body's 25 so that the hand expert is the very same
    network as the body expert.
    """
    extra = num_joints - layout.num_joints
    if extra < 0:
        raise ValueError(f"cannot pad {layout.name} ({layout.num_joints} joints) to {num_joints}")
    if extra == 0:
        return layout
    v = layout.num_joints
    return Layout(
        name=f"{layout.name}_pad{num_joints}",
        joints=layout.joints + tuple(f"dummy_{k}" for k in range(extra)),
        parents=layout.parents + tuple(range(v, num_joints)),
        center=layout.center,
        num_instances=layout.num_instances,
        dummy=layout.dummy + tuple(range(v, num_joints)),
    )


HAND25 = pad_layout(HAND21, 25)

LAYOUTS: dict[str, Layout] = {
    layout.name: layout for layout in (NTU25, UCLA20, HAND21, HAND25, POSE33, COCO17)
}


def get_layout(name: str | Layout) -> Layout:
    """Look a layout up by name (``ntu25``, ``hand21``, ``hand21_pad25``, ``ucla20``, ``pose33``, ``coco17``)."""
    if isinstance(name, Layout):
        return name
    aliases = {"hand25": "hand21_pad25", "ntu": "ntu25", "ucla": "ucla20", "hand": "hand21", "coco": "coco17",
               "pose": "pose33", "mediapipe_pose": "pose33"}
    key = aliases.get(name, name)
    if key not in LAYOUTS:
        raise KeyError(f"unknown layout {name!r}; known: {', '.join(sorted(LAYOUTS))}")
    return LAYOUTS[key]
