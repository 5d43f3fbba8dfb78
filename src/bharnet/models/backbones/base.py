"""What every skeleton backbone shares: input normalisation, the feature/head split, the head."""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from bharnet.core.layouts import Layout, get_layout
from bharnet.models.graph import partition_tensor

__all__ = ["SkeletonBackbone", "ConvBN", "PointwiseConv2d"]


class PointwiseConv2d(nn.Conv2d):
    """1x1 convolution (optionally strided along T, grouped) computed as a batched matrix product.

    Same parameters and results as ``nn.Conv2d(in, out, 1)``; on CPU the matrix product is about
    1.5x faster than the convolution kernels for the shapes of skeleton networks.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__(in_channels, out_channels, 1, stride=(stride, 1), groups=groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride[0] != 1:
            x = x[:, :, :: self.stride[0]]
        n, c, t, v = x.shape
        g = self.groups
        w = self.weight.view(g, -1, c // g)
        y = torch.matmul(w, x.reshape(n, g, c // g, t * v))  # (N, G, O/G, T*V)
        if self.bias is not None:
            y = y + self.bias.view(g, -1, 1)
        return y.view(n, -1, t, v)


class ConvBN(nn.Sequential):
    """1x1 convolution (optionally strided in time, grouped) followed by batch norm."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__()
        self.conv = PointwiseConv2d(in_channels, out_channels, stride=stride, groups=groups)
        self.bn = nn.BatchNorm2d(out_channels)


class SkeletonBackbone(nn.Module):
    """Base of the graph-convolution backbones.

    Input ``(N, C, T, V, M)``. ``data_bn`` normalises over ``M * V * C`` (one statistic per
    instance, joint and channel), then the instances are folded into the batch. Subclasses build
    ``self.blocks`` (a sequence over ``(N*M, C, T, V)``) and set ``self.out_channels``.
    ``forward_features`` returns ``(N, C_out, T_out, V, M)``; ``forward_head`` averages over T and
    V, then over M, applies dropout and the linear classifier (``num_classes=0``: no classifier,
    the pooled features are returned).
    """

    def __init__(self, layout: str | Layout, in_channels: int, num_persons: int, num_classes: int,
                 out_channels: int, dropout: float = 0.0, window: int = 64) -> None:
        super().__init__()
        self.layout = get_layout(layout)
        self.in_channels = in_channels
        self.num_persons = num_persons
        self.num_classes = num_classes
        self.out_channels = out_channels
        self.window = window
        self.data_bn = nn.BatchNorm1d(num_persons * self.layout.num_joints * in_channels)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(out_channels, num_classes) if num_classes > 0 else nn.Identity()
        nn.init.constant_(self.data_bn.weight, 1.0)
        nn.init.constant_(self.data_bn.bias, 0.0)
        if num_classes > 0:
            nn.init.normal_(self.fc.weight, 0.0, math.sqrt(2.0 / num_classes))

    def graph(self) -> torch.Tensor:
        """The layout's partition ``(3, V, V)`` the graph convolutions start from."""
        return partition_tensor(self.layout)

    def example_inputs(self, frames: int | None = None, batch: int = 1) -> torch.Tensor:
        """A random input of the shape this model takes: ``(batch, C, frames, V, M)``."""
        t = frames or self.window
        return torch.randn(batch, self.in_channels, t, self.layout.num_joints, self.num_persons)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, T, V, M)`` -> batch-normalised ``(N*M, C, T, V)``."""
        n, c, t, v, m = x.shape
        x = x.permute(0, 4, 3, 1, 2).reshape(n, m * v * c, t)
        x = self.data_bn(x)
        return x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, T, V, M)`` -> features ``(N, C_out, T_out, V, M)``."""
        n, m = x.shape[0], x.shape[-1]
        y = self.blocks(self.embed(x))
        return y.view(n, m, *y.shape[1:]).permute(0, 2, 3, 4, 1)

    def forward_head(self, feats: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Features ``(N, C, T, V, M)`` -> logits ``(N, num_classes)`` (mean over T and V, then M)."""
        x = feats.mean(dim=(2, 3)).mean(dim=-1)
        x = self.drop(x)
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
