"""ST-GCN (Yan et al., AAAI 2018): spatial graph conv over the partition subsets + 9-frame temporal conv."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from bharnet.core.layouts import Layout
from bharnet.models.backbones.base import ConvBN, PointwiseConv2d, SkeletonBackbone
from bharnet.models.backbones.ctrgcn import stage_plan
from bharnet.models.registry import register_backbone

__all__ = ["STGCN", "stgcn"]


class STGCNBlock(nn.Module):
    """Graph conv (A * edge importance) -> BN -> ReLU -> (9,1) temporal conv -> BN -> dropout, + residual, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, A: torch.Tensor, stride: int = 1,
                 residual: bool = True, dropout: float = 0.0, temporal_kernel: int = 9) -> None:
        super().__init__()
        self.num_subsets = A.shape[0]
        self.register_buffer("A", A.clone())
        self.edge_importance = nn.Parameter(torch.ones_like(A))
        self.gcn = PointwiseConv2d(in_channels, out_channels * self.num_subsets)
        pad = (temporal_kernel - 1) // 2
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, (temporal_kernel, 1), (stride, 1), (pad, 0)),
            nn.BatchNorm2d(out_channels), nn.Dropout(dropout, inplace=True),
        )
        if not residual:
            self.residual: nn.Module | None = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = ConvBN(in_channels, out_channels, stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, t, v = x.shape
        y = self.gcn(x).view(n, self.num_subsets, -1, t, v)
        y = self.tcn(torch.einsum("kvu,nkctu->nctv", self.A * self.edge_importance, y))
        if self.residual is not None:
            y = y + self.residual(x)
        return F.relu(y)


class STGCN(SkeletonBackbone):
    """ST-GCN: 10 blocks 64-64-64-64-128-128-128-256-256-256, stride 2 at the 5th and 8th, edge importance."""

    def __init__(self, layout: str | Layout = "ntu25", in_channels: int = 3, num_persons: int = 2,
                 num_classes: int = 60, base_channels: int = 64, dropout: float = 0.0, window: int = 64,
                 block_dropout: float = 0.5) -> None:
        super().__init__(layout, in_channels, num_persons, num_classes, base_channels * 4, dropout, window)
        A = self.graph()
        self.blocks = nn.Sequential(*(
            STGCNBlock(cin, cout, A, stride, residual=i > 0, dropout=block_dropout if i > 0 else 0.0)
            for i, (cin, cout, stride) in enumerate(stage_plan(in_channels, base_channels))
        ))


@register_backbone
def stgcn(**kwargs) -> STGCN:
    """ST-GCN (yan2018stgcn) on the layout's spatial partition, about 3.1 M parameters at 60 classes."""
    return STGCN(**kwargs)
