"""The sample view: one sample's per-frame arrays -> the network's inputs.

One chain of small transforms (crop, centre, resample to the window, rotate when training,
modality; hands normalised, masked and padded to 25 joints) used alike by the dataset over a
store and by prediction and live use over arrays in memory, so a checkpoint always sees its
own test view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from bharnet.core.layouts import HAND25, Layout, get_layout
from bharnet.data import transforms as T

__all__ = ["ViewConfig", "SampleView", "STREAMS", "AUTO_HAND_NORM", "auto_hand_norm"]

STREAMS = ("body", "hand")

#: ``data.hand_norm``'s default: settled for the training data by :func:`auto_hand_norm`
AUTO_HAND_NORM = "auto"


def auto_hand_norm(body_in_view: bool) -> str:
    """What ``data.hand_norm=auto`` becomes: the articulation alone (``wrist``) where a body is in
    view, since the arm then carries the hand's path and a hand expert beside the body expert
    should learn the fingers; the articulation and the wrist's path (``wrist+traj``) where none
    is (a close-up, a head-worn camera), since the path is then the only motion the model sees.
    Measured per kind of gesture in docs/data.md."""
    return "wrist" if body_in_view else "wrist+traj"


@dataclass
class ViewConfig:
    """How samples are turned into network inputs (DeGCN's recipe by default). The run config's
    ``data`` section extends it, so these are the ``data.*`` settings of a run."""

    window: int = 64
    modality: str = "joint"
    train_crop: list[float] = field(default_factory=lambda: [0.5, 1.0])
    test_crop: float = 0.95
    rotation: float = 0.3
    hand_rotation: float = 0.3
    hand_norm: str = "wrist"
    centre: bool = True

    @classmethod
    def of(cls, settings: dict[str, Any] | Any) -> ViewConfig:
        """The view part of a run's ``data`` settings (a dict or a config object). A setting the
        run does not have (a checkpoint saved before it existed) takes the value that run used:
        the default of its time (:data:`LEGACY_DEFAULTS`), else today's."""
        get = settings.get if isinstance(settings, dict) else lambda k: getattr(settings, k, None)
        chosen = {f.name: get(f.name) for f in fields(cls)}
        return cls(**{k: v for k, v in chosen.items() if v is not None}, **{
            k: LEGACY_DEFAULTS[k] for k, v in chosen.items() if v is None and k in LEGACY_DEFAULTS})


#: what a run saved without a setting meant by it: the hand normalisation before ``wrist+traj``
LEGACY_DEFAULTS: dict[str, Any] = {"hand_norm": "wrist"}


class SampleView:
    """``view(num_frames, body=..., hands=..., hand_conf=..., rng=...)`` -> ``{"body", "hand",
    "hand_mask"}`` arrays of one sample (the streams asked for).

    ``body`` is ``(T, M, V, C)`` and becomes ``(C, window, V, M)``; ``hands`` ``(T, 2, 21, 3)``
    with ``hand_conf`` ``(T, 2, 21)`` (None: no hands) become ``hand`` ``(3, window, 25, 2)``
    and ``hand_mask`` ``(1, window, 25, 2)``, 1 where a landmark was seen (``hand_norm``
    ``wrist+traj``: 6 channels, the wrist's trajectory in the last three). The arrays may be
    memory-mapped: only the cropped frames are read. ``rng`` draws the training augmentation
    (random crop and rotation); without it the view is the deterministic test view.
    """

    def __init__(self, config: ViewConfig, body_layout: Layout | str, streams: Sequence[str] = ("body",)) -> None:
        unknown = set(streams) - set(STREAMS)
        if unknown:
            raise ValueError(f"unknown streams {sorted(unknown)}; choose from {STREAMS}")
        self.config, self.streams = config, tuple(streams)
        self.body_layout = get_layout(body_layout) if isinstance(body_layout, str) else body_layout
        self.hand_layout = HAND25

    def __call__(self, num_frames: int, body: np.ndarray | None = None, hands: np.ndarray | None = None,
                 hand_conf: np.ndarray | None = None, rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
        cfg = self.config
        crop = T.crop_window(num_frames, tuple(cfg.train_crop) if rng is not None else cfg.test_crop, rng,
                             min_frames=cfg.window)
        out = {}
        if "body" in self.streams:
            out["body"] = self._body(body[crop], rng)
        if "hand" in self.streams:
            if hands is None:
                out["hand"], out["hand_mask"] = self._no_hands()
            else:
                out["hand"], out["hand_mask"] = self._hand(hands[crop], hand_conf[crop], rng)
        return out

    def _body(self, body: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
        x = np.asarray(body, dtype=np.float32).transpose(3, 0, 2, 1)
        if self.config.centre:
            x = T.centre_body(x, self.body_layout.center)
        x = T.resize(x, self.config.window)
        if rng is not None:
            x = T.random_rotation(x, self.config.rotation, rng)
        return np.ascontiguousarray(T.to_modality(x, self.body_layout, self.config.modality), dtype=np.float32)

    def _no_hands(self) -> tuple[np.ndarray, np.ndarray]:
        shape = (self.config.window, self.hand_layout.num_joints, 2)
        return np.zeros((T.hand_channels(self.config.hand_norm), *shape), np.float32), np.zeros((1, *shape), np.float32)

    def _hand(self, hands: np.ndarray, conf: np.ndarray,
              rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray]:
        cfg, v = self.config, self.hand_layout.num_joints
        x, mask = T.normalise_hands(np.asarray(hands), np.asarray(conf), cfg.hand_norm)
        x, mask = T.resize(x, cfg.window), T.resize(mask, cfg.window)
        mask = (mask > 0.999).astype(np.float32)  # a frame resampled from a missing neighbour is missing
        if rng is not None:
            x = self._roll(x, rng)
        x = self._hand_modality(T.pad_joints(x * mask, v))
        mask = T.pad_joints(mask, v)
        if cfg.modality != "joint":  # a bone or a motion is valid only where its joints are
            x = x * T.to_modality(mask, self.hand_layout, "joint")
        return np.ascontiguousarray(x, dtype=np.float32), mask

    def _roll(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """An in-plane rotation (the camera's roll) of the hands and of their trajectory alike."""
        limit = (0.0, 0.0, self.config.hand_rotation)
        if x.shape[0] == 3:
            return T.random_rotation(x, limit, rng)
        angles = rng.uniform(-np.asarray(limit), np.asarray(limit))
        return np.concatenate([T.rotate(x[:3], angles), T.rotate(x[3:], angles)])

    def _hand_modality(self, x: np.ndarray) -> np.ndarray:
        """The modality of the padded hands. The trajectory is the same at every landmark: its bone
        would be 0, so it keeps its position (bone) or its velocity (bone motion) instead."""
        modality = self.config.modality
        out = T.to_modality(x, self.hand_layout, modality)
        if x.shape[0] > 3 and modality.startswith("bone"):
            out[3:] = T.to_modality(x[3:], self.hand_layout, modality.replace("bone", "joint"))
        return out
