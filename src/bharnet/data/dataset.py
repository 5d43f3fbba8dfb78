"""The PyTorch side of a store: a Dataset of body / hand tensors and a reproducible sampler."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from ..layouts import HAND25, get_layout
from ..store import SkeletonStore
from . import transforms as T

__all__ = ["SkeletonDataset", "ViewConfig", "EpochSampler", "STREAMS"]

STREAMS = ("body", "hand")


@dataclass(frozen=True)
class ViewConfig:
    """How samples are turned into network inputs (DeGCN's recipe by default)."""

    window: int = 64
    modality: str = "joint"
    train_crop: tuple[float, float] = (0.5, 1.0)
    test_crop: float = 0.95
    rotation: float = 0.3
    hand_rotation: float = 0.3
    hand_norm: str = "wrist"
    centre: bool = True


class SkeletonDataset(Dataset):
    """Samples of one split of a store as ``{"body", "hand", "hand_mask", "label", "index"}``.

    ``body`` is ``(C, window, V, M)``; ``hand`` ``(3, window, 25, 2)`` (two MediaPipe hands
    padded to 25 joints) with ``hand_mask`` ``(1, window, 25, 2)``, 1 where a landmark was seen.
    Training augmentation is drawn from a generator seeded by (seed, epoch, index), so a run
    is reproducible whatever the number of workers and resumable exactly: index the dataset
    with the ``(epoch, index)`` pairs of :class:`EpochSampler`; a plain integer index gives the
    deterministic test view.
    """

    def __init__(self, store: SkeletonStore | str, split: str | None, streams: Sequence[str] = ("body",),
                 view: ViewConfig | None = None, train: bool = False, seed: int = 0,
                 indices: np.ndarray | None = None) -> None:
        self.store = store if isinstance(store, SkeletonStore) else SkeletonStore(store)
        # ``indices`` (a split computed elsewhere, e.g. a held-out slice) replace the named split's
        self.indices = self.store.split(split) if indices is None else np.asarray(indices, dtype=np.int64)
        self.split = split
        unknown = set(streams) - set(STREAMS)
        if unknown:
            raise ValueError(f"unknown streams {sorted(unknown)}; choose from {STREAMS}")
        if "hand" in streams and not self.store.has("hands"):
            raise ValueError(f"{self.store.path} has no hand keypoints, so it cannot feed a hand stream")
        self.streams = tuple(streams)
        self.view = view or ViewConfig()
        self.train = train
        self.seed = seed
        self.body_layout = get_layout(self.store.body_layout)
        self.hand_layout = HAND25

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def labels(self) -> np.ndarray:
        return self.store.labels[self.indices]

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, torch.Tensor | int]:
        epoch, position = key if isinstance(key, tuple) else (None, key)
        index = int(self.indices[position])
        rng = np.random.default_rng([self.seed, epoch, index]) if self.train and epoch is not None else None
        num_frames = int(self.store.offsets[index + 1] - self.store.offsets[index])
        view = self.view
        crop = T.crop_window(num_frames, view.train_crop if rng is not None else view.test_crop, rng,
                             min_frames=view.window)
        item: dict[str, torch.Tensor | int] = {"label": int(self.store.labels[index]), "index": index}
        if "body" in self.streams:
            item["body"] = torch.from_numpy(self._body(index, crop, rng))
        if "hand" in self.streams:
            hand, mask = self._hand(index, crop, rng)
            item["hand"], item["hand_mask"] = torch.from_numpy(hand), torch.from_numpy(mask)
        return item

    def _body(self, index: int, crop: slice, rng: np.random.Generator | None) -> np.ndarray:
        x = np.asarray(self.store.frames("body", index)[crop], dtype=np.float32).transpose(3, 0, 2, 1)
        if self.view.centre:
            x = T.centre_body(x, self.body_layout.center)
        x = T.resize(x, self.view.window)
        if rng is not None:
            x = T.random_rotation(x, self.view.rotation, rng)
        return np.ascontiguousarray(T.to_modality(x, self.body_layout, self.view.modality), dtype=np.float32)

    def _hand(self, index: int, crop: slice, rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray]:
        window = self.view.window
        v, m = self.hand_layout.num_joints, 2
        if not self.store.has_hands[index]:
            return np.zeros((3, window, v, m), np.float32), np.zeros((1, window, v, m), np.float32)
        hands = np.asarray(self.store.frames("hands", index)[crop])
        conf = np.asarray(self.store.frames("hand_conf", index)[crop])
        x, mask = T.normalise_hands(hands, conf, self.view.hand_norm)
        x, mask = T.resize(x, window), T.resize(mask, window)
        mask = (mask > 0.999).astype(np.float32)  # a frame resampled from a missing neighbour is missing
        if rng is not None:
            x = T.random_rotation(x, (0.0, 0.0, self.view.hand_rotation), rng)  # in-plane: the camera's roll
        x = T.to_modality(T.pad_joints(x * mask, v), self.hand_layout, self.view.modality)
        mask = T.pad_joints(mask, v)
        if self.view.modality != "joint":  # a bone or a motion is valid only where its joints are
            x = x * T.to_modality(mask, self.hand_layout, "joint")
        return np.ascontiguousarray(x, dtype=np.float32), mask


class EpochSampler(Sampler):
    """Yields ``(epoch, position)`` pairs: a permutation seeded by (seed, epoch) when shuffling.

    Its order depends only on the seed and the epoch (set by the trainer through
    ``set_epoch``), never on a global random state, so a resumed run sees exactly the batches
    of an uninterrupted one. Under ``torch.distributed`` each rank takes its own share
    (padded with repeats to equal length, as ``DistributedSampler``).
    """

    def __init__(self, size: int, shuffle: bool = True, seed: int = 0) -> None:
        self.size, self.shuffle, self.seed, self.epoch = size, shuffle, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _replicas(self) -> tuple[int, int]:
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            return torch.distributed.get_world_size(), torch.distributed.get_rank()
        return 1, 0

    def _order(self) -> np.ndarray:
        if self.shuffle:
            return np.random.default_rng([self.seed, self.epoch]).permutation(self.size)
        return np.arange(self.size)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        order = self._order()
        world, rank = self._replicas()
        if world > 1:
            total = -(-self.size // world) * world
            order = np.resize(order, total)[rank::world]
        return iter([(self.epoch, int(i)) for i in order])

    def __len__(self) -> int:
        world, _ = self._replicas()
        return -(-self.size // world)
