"""What every skeleton backbone shares: input normalisation, the feature/head split, the head."""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn as nn

from bharnet.core.layouts import Layout, get_layout
from bharnet.models.cost import conv_macs, norm_macs
from bharnet.models.graph import partition_tensor

__all__ = ["SkeletonBackbone", "ConvBN", "PointwiseConv2d", "fold_batch_norm", "folded_norm_macs", "folds",
           "can_fold_together", "folded_together"]


class PointwiseConv2d(nn.Conv2d):
    """1x1 convolution (optionally strided along T, grouped) computed as a batched matrix product.

    Same parameters and results as ``nn.Conv2d(in, out, 1)``; on CPU the matrix product is about
    1.5x faster than the convolution kernels for the shapes of skeleton networks.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__(in_channels, out_channels, 1, stride=(stride, 1), groups=groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.apply_weights(x, self.weight, self.bias)

    def apply_weights(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        """This convolution with other weights of the same shape (batch norm folded into them)."""
        if self.stride[0] != 1:
            x = x[:, :, :: self.stride[0]]
        n, c, t, v = x.shape
        g = self.groups
        y = torch.matmul(weight.view(g, -1, c // g), x.reshape(n, g, c // g, t * v))  # (N, G, O/G, T*V)
        if bias is not None:
            y.add_(bias.view(g, -1, 1))  # in place: the product's backward does not read its output
        return y.view(n, -1, t, v)


def fold_batch_norm(bn: nn.BatchNorm2d, weight: torch.Tensor, bias: torch.Tensor | None
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """The weight and bias of a linear layer followed by ``bn`` in eval mode, as one linear layer:
    ``bn(W x + b) = (s W) x + s (b - mean) + beta`` with ``s = gamma / sqrt(var + eps)`` per output
    channel (the first dimension of ``weight``)."""
    scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
    shift = bn.bias - bn.running_mean * scale
    if bias is not None:
        shift = torch.addcmul(shift, bias, scale)
    return weight * scale.view(-1, *(1,) * (weight.dim() - 1)), shift


def folds(bn: nn.BatchNorm2d) -> bool:
    """Whether ``bn`` normalises with fixed statistics now (eval mode, running statistics kept), so
    that it can be folded into the layer before it, saving its pass over that layer's output."""
    return not bn.training and bn.affine and bn.running_var is not None


def folded_norm_macs(bn: nn.BatchNorm2d, output: torch.Tensor) -> int:
    """thop's count for ``bn`` where it is folded away, so that its own hook never runs and the layer
    it is folded into counts it; else 0."""
    return norm_macs(bn, output.numel()) if folds(bn) else 0


class ConvBN(nn.Sequential):
    """1x1 convolution (optionally strided in time, grouped) followed by batch norm; in eval mode one
    product with the batch norm folded into its weights."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__()
        self.conv = PointwiseConv2d(in_channels, out_channels, stride=stride, groups=groups)
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not folds(self.bn):
            return self.bn(self.conv(x))
        return self.conv.apply_weights(x, *fold_batch_norm(self.bn, self.conv.weight, self.conv.bias))

    def count_cost(self, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> dict[str, int]:
        """Folded, neither submodule runs: count both as thop counts them; else their own hooks do."""
        return {"macs": self.folded_macs(inputs[0]) if folds(self.bn) else 0, "macs_matmul": 0}

    def folded_macs(self, x: torch.Tensor) -> int:
        """thop's count of this layer run folded on input ``x``: its convolution and its batch norm
        (for callers that run it without its module, as :func:`folded_together` does)."""
        n, _, t, v = x.shape
        output = torch.empty(n, self.conv.out_channels, -(-t // self.conv.stride[0]), v, device="meta")
        return conv_macs(self.conv, output) + folded_norm_macs(self.bn, output)


def can_fold_together(layers: list[ConvBN]) -> bool:
    """Whether :func:`folded_together` can run ``layers`` as one product: every one folds its batch
    norm (eval mode), and all are ungrouped and of one stride."""
    stride = layers[0].conv.stride
    return all(folds(layer.bn) and layer.conv.groups == 1 and layer.conv.stride == stride for layer in layers)


def folded_together(layers: list[ConvBN], x: torch.Tensor) -> list[torch.Tensor]:
    """``[layer(x) for layer in layers]`` as one matrix product (``can_fold_together(layers)`` must hold):
    one pass over ``x`` and one product with the rows of all of them, which the BLAS runs faster than
    several thin ones. The same values: each output row is its own layer's product."""
    folded = [fold_batch_norm(layer.bn, layer.conv.weight, layer.conv.bias) for layer in layers]
    y = layers[0].conv.apply_weights(x, torch.cat([w for w, _ in folded]), torch.cat([b for _, b in folded]))
    # one narrow view each, not split's views: the layers that follow may overwrite them in place
    starts = [0, *itertools.accumulate(layer.conv.out_channels for layer in layers)]
    return [y.narrow(1, a, b - a) for a, b in itertools.pairwise(starts)]


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
