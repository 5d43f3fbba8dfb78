"""Graph tensors for graph convolutions, built from a skeleton ``Layout``."""

from __future__ import annotations

import torch

from bharnet.core.layouts import Layout, get_layout

__all__ = ["partition_tensor"]


def partition_tensor(layout: str | Layout) -> torch.Tensor:
    """The layout's spatial partition as a float32 tensor ``(3, V, V)``: identity, inward, outward.

    ``A[k, i, j]`` is the weight with which joint ``j`` feeds joint ``i`` (``y_i = sum_j A[k, i, j] x_j``),
    the convention of ST-GCN, CTR-GCN and DeGCN. Dummy (padding) joints have only their self-link.
    """
    return torch.from_numpy(get_layout(layout).partition.copy())
