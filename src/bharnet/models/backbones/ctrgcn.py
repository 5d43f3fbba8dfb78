"""CTR-GCN (Chen et al., ICCV 2021): channel-wise topology refinement graph convolution.

``CTRGraphConv`` is also the spatial module of DeGCN (with the channels split into groups).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from bharnet.core.layouts import Layout
from bharnet.models.backbones.base import ConvBN, PointwiseConv2d, SkeletonBackbone
from bharnet.models.registry import register_backbone

__all__ = ["CTRGraphConv", "CTRGCN", "ctrgcn"]


class CTRGraphConv(nn.Module):
    """Channel-wise topology refinement graph convolution over ``K`` subsets, in ``groups`` groups.

    For each subset k and group g, the topology of output channel c is
    ``alpha * refine(tanh(mean_T(q)_v - mean_T(k)_u)) + A_k`` and the output is
    ``y[c, t, v] = sum_k sum_u topology[k, c, v, u] * value_k[c, t, u]`` followed by batch norm.
    With ``groups=1`` this is CTR-GCN's unit (its three per-subset modules, fused); with
    ``groups=4`` it is DeGCN's grouped variant.

    Query and key are computed from the temporal mean of the input: a 1x1 convolution is affine,
    so ``mean_T(conv(x)) == conv(mean_T(x))``, which saves T-fold work.

    With one relation channel per group and subset (narrow networks: fewer than 64 input
    channels), each channel's topology is ``w_c * R + b_c`` for one relation matrix ``R`` of its
    group, and the aggregation is done with ``R`` itself (:meth:`_forward_shared`): the per-channel
    ``(N, C, V, V)`` topology and its gradient are never built.
    """

    def __init__(self, in_channels: int, out_channels: int, A: torch.Tensor, groups: int = 1,
                 rel_channels: int = 8) -> None:
        super().__init__()
        k = A.shape[0]
        self.groups, self.num_subsets = groups, k
        self.A = nn.Parameter(A.clone())
        self.alpha = nn.Parameter(torch.zeros(1))
        self.query = nn.Conv2d(in_channels, rel_channels * k, 1, groups=groups)
        self.key = nn.Conv2d(in_channels, rel_channels * k, 1, groups=groups)
        self.value = nn.Conv2d(in_channels, out_channels * k, 1, groups=groups)
        self.refine = PointwiseConv2d(rel_channels * k, out_channels * k, groups=groups * k)
        self.bn = nn.BatchNorm2d(out_channels)

    def topology(self, x: torch.Tensor) -> torch.Tensor:
        """Per-sample, per-channel adjacency ``(N, G, K, C/G, V, V)`` (for inspection; ``forward``
        never builds it whole)."""
        rel = torch.stack(self._refined(self._relations(x)), dim=2)  # (N, G, K, C/G, V*V)
        n, v = x.shape[0], x.shape[-1]
        rel = rel.view(n, self.groups, self.num_subsets, -1, v, v)
        return rel * self.alpha + self.A.view(1, 1, self.num_subsets, 1, v, v)

    def _relations(self, x: torch.Tensor, transposed: bool = False) -> torch.Tensor:
        """``sigmoid(2 (q_v - k_u))`` on the temporal mean, subset first: ``(K, N, G, R/G, V*V)``,
        contiguous, laid out ``(v, u)``, or ``(u, v)`` when ``transposed``.

        The network's relations are ``tanh(q_v - k_u) = 2 sigmoid(2 (q_v - k_u)) - 1``; that affine map
        is folded into the refining weights (:meth:`_refine_weights`). PyTorch's CPU ``tanh`` is
        several times slower than its ``sigmoid``, and these are the largest element-wise pass of
        the unit (``V*V`` per relation channel)."""
        n, _, _, v = x.shape
        g, k = self.groups, self.num_subsets
        xm = x.mean(dim=2, keepdim=True)
        # (K, N, G, R/G, V): made contiguous while small so that each subset's slice below is contiguous
        q = F.conv2d(xm, self.query.weight, self.query.bias, groups=g).view(n, g, k, -1, v).permute(2, 0, 1, 3, 4)
        kk = F.conv2d(xm, self.key.weight, self.key.bias, groups=g).view(n, g, k, -1, v).permute(2, 0, 1, 3, 4)
        # q + (-k), not q - k (the same numbers): the gradient of a broadcast subtraction negates the
        # whole (..., V, V) gradient before reducing it; negating the small key negates (..., V)
        q, neg_k = q.mul(2).contiguous(), kk.mul(-2).contiguous()
        diff = q.unsqueeze(-2) + neg_k.unsqueeze(-1) if transposed else q.unsqueeze(-1) + neg_k.unsqueeze(-2)
        return torch.sigmoid(diff).flatten(-2)

    def _refine_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``refine`` conv's weight ``(G, K, C/G, R/G)`` and bias ``(G, K, C/G, 1)`` for the
        relations as :meth:`_relations` gives them: ``W (2 s - 1) + b = (2 W) s + (b - W 1)``."""
        g, k = self.groups, self.num_subsets
        w = self.refine.weight.view(g, k, -1, self.refine.in_channels // self.refine.groups)
        return w * 2, self.refine.bias.view(g, k, -1, 1) - w.sum(-1, keepdim=True)

    def _refined(self, rel_in: torch.Tensor) -> list[torch.Tensor]:
        """The ``refine`` 1x1 conv (grouped by group and subset) one subset at a time: K x ``(N, G, C/G, V*V)``."""
        w, b = self._refine_weights()
        # unbind, not rel_in[i]: the gradient of each index would be a zero-filled tensor of rel_in's size
        return [torch.matmul(w[:, i], rel).add_(b[:, i]) for i, rel in enumerate(rel_in.unbind(0))]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.refine.in_channels == self.refine.groups:
            return self._forward_shared(x)
        n, c, t, v = x.shape
        g, k = self.groups, self.num_subsets
        # the relations laid out (u, v): each subset's slice is its topology transposed, as the product
        # takes it, so that the gradient of the topology comes out of the product contiguous (the
        # transpose of a (v, u) layout made autograd copy it back, a strided pass per subset)
        rel_t = self._refined(self._relations(x, transposed=True))
        w = self.value.weight.view(g, k, -1, c // g)
        b = self.value.bias.view(g, k, -1, 1)
        xg = x.reshape(n, g, c // g, t * v)
        # y = sum_k value_k . (alpha * rel_k + A_k)^T, one subset at a time (batched matrix products over
        # N*C). With fewer frames than joints the topology (N, C, V, V) is larger than the output, so
        # A is applied apart: alpha * sum_k value_k . rel_k^T + sum_k value_k . A_k^T (one large product).
        # The sums accumulate in place: the out-of-place forms copy the whole output first (no
        # product's backward needs its own output, so autograd allows it). In-place products get no
        # autocast, so their operands take the sum's dtype, as autocast would give them
        fold = t > v
        y = y_adj = None
        for i in range(k):
            val = torch.matmul(w[:, i], xg).add_(b[:, i])  # (N, G, C/G, T*U)
            adj_t = rel_t[i].view(-1, v, v)
            a_t = self.A[i].t()
            if fold:  # (A contiguous: broadcasting a transposed view is several times slower)
                adj_t = torch.addcmul(a_t.contiguous(), adj_t, self.alpha)
            else:
                val2 = val.view(-1, v)
                y_adj = torch.mm(val2, a_t) if y_adj is None else y_adj.addmm_(val2, a_t.to(y_adj.dtype))
            val3 = val.view(-1, t, v)
            y = torch.bmm(val3, adj_t) if y is None else y.baddbmm_(val3.to(y.dtype), adj_t.to(y.dtype))
        y = y.view(n, -1, t, v)
        if not fold:
            y = torch.addcmul(y_adj.view(n, -1, t, v), y, self.alpha)
        return self.bn(y)

    def _forward_shared(self, x: torch.Tensor) -> torch.Tensor:
        """``forward`` with one relation channel per group and subset: channel c's topology is
        ``w_c * R + b_c``, so ``value_c . topology_c^T = w_c * (value_c . R^T) + b_c * sum_u value_c``,
        and ``value . R^T`` is one matrix product per sample and group for all its channels."""
        n, c, t, v = x.shape
        g, k = self.groups, self.num_subsets
        rel_t = self._relations(x, transposed=True).unbind(0)  # K x (N, G, 1, U*V)
        w_rel, b_rel = (p.unsqueeze(-1) for p in self._refine_weights())  # (G, K, C/G, 1, 1)
        w = self.value.weight.view(g, k, -1, c // g)
        b = self.value.bias.view(g, k, -1, 1)
        xg = x.reshape(n, g, c // g, t * v)
        y = None
        for i in range(k):
            val = torch.matmul(w[:, i], xg).add_(b[:, i])  # (N, G, C/G, T*U)
            shared = torch.bmm(val.view(n * g, -1, v), rel_t[i].view(n * g, v, v)).view(n, g, -1, t, v)
            rows = val.view(n, g, -1, t, v).sum(-1, keepdim=True)
            learned = torch.addcmul(b_rel[:, i] * rows, w_rel[:, i], shared)
            fixed = torch.mm(val.view(-1, v), self.A[i].t()).view(n, g, -1, t, v)
            y_i = torch.addcmul(fixed, learned, self.alpha)
            y = y_i if y is None else y + y_i
        return self.bn(y.view(n, -1, t, v))

    def count_cost(self, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> dict[str, int]:
        """Work done outside submodule calls, counted as the reference network does: query and
        key convolutions over all T frames (thop's convention), the value convolution, the
        refining convolution of the relations (V x V per channel), the aggregation (an einsum in
        the reference) as matmul."""
        n, c_in, t, v = inputs[0].shape
        rel_k = self.query.out_channels
        macs = (2 * rel_k + self.value.out_channels) * n * t * v * (c_in // self.groups)
        macs += n * self.refine.out_channels * v * v * (self.refine.in_channels // self.refine.groups)
        matmul = output.numel() * self.num_subsets * v
        return {"macs": macs, "macs_matmul": matmul}


class TemporalConvBN(nn.Sequential):
    """``(kernel, 1)`` temporal convolution with dilation and stride, then batch norm."""

    def __init__(self, channels: int, kernel_size: int, stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        pad = (kernel_size + (kernel_size - 1) * (dilation - 1) - 1) // 2
        self.conv = nn.Conv2d(channels, channels, (kernel_size, 1), padding=(pad, 0), stride=(stride, 1),
                              dilation=(dilation, 1))
        self.bn = nn.BatchNorm2d(channels)


class MultiScaleTemporalConv(nn.Module):
    """Four branches of ``out/4`` channels: dilated temporal convs (d=1, 2), max pooling, strided 1x1."""

    def __init__(self, channels: int, stride: int = 1, kernel_size: int = 5, dilations: tuple[int, ...] = (1, 2)):
        super().__init__()
        bc = channels // (len(dilations) + 2)
        self.branches = nn.ModuleList(
            nn.Sequential(ConvBN(channels, bc), nn.ReLU(inplace=True), TemporalConvBN(bc, kernel_size, stride, d))
            for d in dilations
        )
        self.branches.append(nn.Sequential(ConvBN(channels, bc), nn.ReLU(inplace=True),
                                           nn.MaxPool2d((3, 1), (stride, 1), (1, 0)), nn.BatchNorm2d(bc)))
        self.branches.append(ConvBN(channels, bc, stride=stride))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=1)


class CTRGCNBlock(nn.Module):
    """CTR-GC (+ residual 1x1) -> ReLU -> multi-scale TCN -> + residual -> ReLU."""

    def __init__(self, in_channels: int, out_channels: int, A: torch.Tensor, stride: int = 1,
                 residual: bool = True) -> None:
        super().__init__()
        rel = 8 if in_channels in (3, 9) else max(in_channels // 8, 1)
        self.gcn = CTRGraphConv(in_channels, out_channels, A, groups=1, rel_channels=rel)
        self.gcn_residual = ConvBN(in_channels, out_channels) if in_channels != out_channels else nn.Identity()
        self.tcn = MultiScaleTemporalConv(out_channels, stride)
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = ConvBN(in_channels, out_channels, stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # in place, as in DeGCNBlock: batch norm's and concatenation's backward do not read their outputs
        y = F.relu(self.gcn(x).add_(self.gcn_residual(x)), inplace=True)
        y = self.tcn(y)
        if self.residual is not None:
            y = y.add_(self.residual(x))
        return F.relu(y, inplace=True)


def stage_plan(in_channels: int, base: int) -> list[tuple[int, int, int]]:
    """(in, out, stride) of the 10 blocks shared by ST-GCN, CTR-GCN and DeGCN."""
    c1, c2, c4 = base, base * 2, base * 4
    return [(in_channels, c1, 1), (c1, c1, 1), (c1, c1, 1), (c1, c1, 1), (c1, c2, 2), (c2, c2, 1), (c2, c2, 1),
            (c2, c4, 2), (c4, c4, 1), (c4, c4, 1)]


class CTRGCN(SkeletonBackbone):
    """CTR-GCN: 10 blocks, channels 64-64-64-64-128-128-128-256-256-256 (stride 2 at blocks 5, 8)."""

    def __init__(self, layout: str | Layout = "ntu25", in_channels: int = 3, num_persons: int = 2,
                 num_classes: int = 60, base_channels: int = 64, dropout: float = 0.0, window: int = 64) -> None:
        super().__init__(layout, in_channels, num_persons, num_classes, base_channels * 4, dropout, window)
        A = self.graph()
        self.blocks = nn.Sequential(*(
            CTRGCNBlock(cin, cout, A, stride, residual=i > 0)
            for i, (cin, cout, stride) in enumerate(stage_plan(in_channels, base_channels))
        ))
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.blocks.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        for block in self.blocks:
            # CTR-GCN starts each graph unit near zero so that the block begins as its residual path
            nn.init.constant_(block.gcn.bn.weight, 1e-6)


@register_backbone
def ctrgcn(**kwargs) -> CTRGCN:
    """CTR-GCN (chen2021ctrgcn), about 1.45 M parameters at 60 classes on NTU-25."""
    return CTRGCN(**kwargs)
