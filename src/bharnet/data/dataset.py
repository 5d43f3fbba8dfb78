"""The PyTorch side of a store: a Dataset of body / hand tensors and a reproducible sampler."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from bharnet.core.errors import UserError
from bharnet.core.layouts import Layout
from bharnet.data.view import STREAMS, SampleView, ViewConfig
from bharnet.store.packed import SkeletonStore
from bharnet.store.rgb import RoiArray

__all__ = ["SkeletonDataset", "ViewConfig", "EpochSampler", "STREAMS"]

class SkeletonDataset(Dataset):
    """Samples of one split of a store as ``{"body", "hand", "hand_mask", "label", "index"}``.

    ``body`` is ``(C, window, V, M)``; ``hand`` ``(3, window, 25, 2)`` (two MediaPipe hands
    padded to 25 joints) with ``hand_mask`` ``(1, window, 25, 2)``, 1 where a landmark was seen;
    ``rgb`` the sample's ST-ROI image ``(3, S, S)`` in [0, 1] (stores with ST-ROI images only).
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
        if "hand" in streams and not self.store.has("hands"):
            raise UserError(f"{self.store.path} has no hand keypoints, so it cannot feed a hand stream: use a "
                            "model of the body alone on it (model=body-expert)")
        # the skeleton streams go through the sample view; the RGB stream is the clip's ST-ROI image
        self.sample_view = SampleView(view or ViewConfig(), self.store.body_layout, [s for s in streams if s != "rgb"])
        self.rois = RoiArray(self.store.path) if "rgb" in streams else None
        self.train = train
        self.seed = seed

    @property
    def view(self) -> ViewConfig:
        return self.sample_view.config

    @property
    def streams(self) -> tuple[str, ...]:
        return self.sample_view.streams + (("rgb",) if self.rois is not None else ())

    @property
    def body_layout(self) -> Layout:
        return self.sample_view.body_layout

    def __len__(self) -> int:
        return len(self.indices)

    def empty_streams(self, looked_at: int = 32) -> tuple[str, ...]:
        """The skeleton streams with nothing in any of ``looked_at`` samples spread over the dataset
        (a body never in view, a hand never seen): a quick look at a few samples, not a scan."""
        if not len(self.indices):
            return ()
        chosen = self.indices[np.linspace(0, len(self.indices) - 1, min(looked_at, len(self.indices))).astype(int)]
        empty = []
        if "body" in self.streams and not any(self.store.frames("body", int(i)).any() for i in chosen):
            empty.append("body")
        if "hand" in self.streams and not self.store.has_hands[chosen].any():
            empty.append("hand")
        return tuple(empty)

    @property
    def labels(self) -> np.ndarray:
        return self.store.labels[self.indices]

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, torch.Tensor | int]:
        epoch, position = key if isinstance(key, tuple) else (None, key)
        index = int(self.indices[position])
        rng = np.random.default_rng([self.seed, epoch, index]) if self.train and epoch is not None else None
        num_frames = int(self.store.offsets[index + 1] - self.store.offsets[index])
        hands = "hand" in self.streams and bool(self.store.has_hands[index])
        arrays = self.sample_view(
            num_frames, body=self.store.frames("body", index) if "body" in self.streams else None,
            hands=self.store.frames("hands", index) if hands else None,
            hand_conf=self.store.frames("hand_conf", index) if hands else None, rng=rng)
        item: dict[str, torch.Tensor | int] = {"label": int(self.store.labels[index]), "index": index}
        item.update({k: torch.from_numpy(v) for k, v in arrays.items()})
        if self.rois is not None:  # (3, S, S) in [0, 1]
            item["rgb"] = torch.from_numpy(self.rois.image(index)).permute(2, 0, 1).float().div(255.0)
        return item


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
