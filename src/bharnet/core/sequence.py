"""The one record every reader produces and the store keeps: a skeleton sequence."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Sequence", "HAND_JOINTS"]

#: MediaPipe hand landmarks per hand; hands are stored as (T, 2, 21, 3): left, right.
HAND_JOINTS = 21


@dataclass
class Sequence:
    """One sample.

    Arrays are frame-major so that a reader can stream frames:

    - ``body``: ``(T, M, V, C)`` float32 joint coordinates; zeros where a person is absent.
    - ``body_conf``: optional ``(T, M, V)`` per-joint confidence in [0, 1].
    - ``hands``: optional ``(T, 2, 21, 3)`` float32 MediaPipe hand landmarks of the most
      active person, instance 0 = left hand, 1 = right hand (2.5D: x, y image-normalised,
      z relative to the wrist).
    - ``hand_conf``: optional ``(T, 2, 21)``; 0 marks a missing landmark.
    - ``color_xy``: optional ``(T, M, V, 2)`` RGB pixel position of each body joint.
    - ``source_frames``: optional ``(T,)`` index of each frame in the source recording (a reader
      that drops frames says which it kept, so that per-frame data from elsewhere, such as hands
      from the RGB video, can be joined); not stored.
    """

    name: str
    label: int
    body: np.ndarray
    body_conf: np.ndarray | None = None
    hands: np.ndarray | None = None
    hand_conf: np.ndarray | None = None
    color_xy: np.ndarray | None = None
    #: split names this sample belongs to, e.g. {"xsub_train", "xview_test"}
    splits: frozenset[str] = field(default_factory=frozenset)
    source_frames: np.ndarray | None = None

    @property
    def num_frames(self) -> int:
        return int(self.body.shape[0])

    def validate(self, num_persons: int, num_joints: int, channels: int) -> None:
        """Raise ``ValueError`` naming the problem when the arrays do not fit the store."""
        t = self.num_frames
        if t == 0:
            raise ValueError("zero frames")
        expected = (t, num_persons, num_joints, channels)
        if self.body.shape != expected:
            raise ValueError(f"body has shape {self.body.shape}, expected (T, M, V, C) = {expected}")
        if not np.isfinite(self.body).all():
            raise ValueError("body holds NaN or infinite values")
        optional = {
            "body_conf": (t, num_persons, num_joints),
            "hands": (t, 2, HAND_JOINTS, 3),
            "hand_conf": (t, 2, HAND_JOINTS),
            "color_xy": (t, num_persons, num_joints, 2),
        }
        for key, shape in optional.items():
            value = getattr(self, key)
            if value is None:
                continue
            if value.shape != shape:
                raise ValueError(f"{key} has shape {value.shape}, expected {shape}")
            if not np.isfinite(value).all():
                raise ValueError(f"{key} holds NaN or infinite values")
