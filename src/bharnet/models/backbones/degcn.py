"""DeGCN (Myung et al., 2024), single stream, as released publicly (without its unreleased DeSGC).

Structure (SPEC section 2): ``data_bn`` over M*V*C; 10 blocks 3->64, 64, 64, 64, 64->128 (stride 2),
128, 128, 128->256 (stride 2), 256, 256; a block is graph conv -> LeakyReLU(x + res1) -> temporal
module -> LeakyReLU(x + res2(input)), slope 0.1. Block 0's graph conv is a plain 3-subset conv with
a learnable A; the others are CTR-GC in 4 groups. The temporal module has four branches: two
deformable temporal convolutions (DeTGC, kernel 5 with dilation 1 and 2), max pooling, strided 1x1.

DeTGC samples each frame at ``t + offset_j`` (``eta`` learnable offsets, linear interpolation,
indices clamped to the sequence) and mixes the ``eta`` samples with a ``(eta, 1, 1)`` convolution.
The offsets do not depend on the input, so the sampling is a fixed linear map along T
(``interpolation_matrix``); as the offsets are shared by all frames that map is banded, and
sampling + mixing fold into one temporal convolution (see ``DeformableTemporalConv``).
"""

from __future__ import annotations

import re

import torch
import torch.nn as nn
import torch.nn.functional as F

from bharnet.core.layouts import Layout
from bharnet.models.backbones.base import (
    ConvBN,
    PointwiseConv2d,
    SkeletonBackbone,
    can_fold_together,
    fold_batch_norm,
    folded_norm_macs,
    folded_together,
    folds,
)
from bharnet.models.backbones.ctrgcn import CTRGraphConv, stage_plan
from bharnet.models.registry import register_backbone

__all__ = ["DeGCN", "DeformableTemporalConv", "degcn", "interpolation_matrix", "load_reference_degcn_state",
           "to_reference_degcn_state"]

LEAKY_SLOPE = 0.1


def interpolation_matrix(offsets: torch.Tensor, t_in: int, stride: int = 1) -> torch.Tensor:
    """Linear-interpolation sampling matrix ``(eta, T_out, T_in)`` for positions ``s*stride + offset_j``.

    Row ``(j, s)`` puts weight ``1 - frac`` on frame ``floor(p)`` and ``frac`` on ``floor(p) + 1``,
    both indices clamped to ``[0, T_in - 1]`` (so beyond the ends the edge frame is repeated, as in
    the reference code). The floor is taken without gradient; the weights carry the gradient of
    the offsets. ``DeformableTemporalConv`` applies the same map in its banded (Toeplitz) form.
    """
    t0 = torch.arange(0, t_in, stride, dtype=offsets.dtype, device=offsets.device)
    pos = t0.unsqueeze(0) + offsets.unsqueeze(1)  # (eta, T_out)
    lo = pos.detach().floor()
    frac = pos - lo
    i_lo = lo.clamp(0, t_in - 1).long().unsqueeze(-1)
    i_hi = (lo + 1).clamp(0, t_in - 1).long().unsqueeze(-1)
    mat = torch.zeros(*pos.shape, t_in, dtype=offsets.dtype, device=offsets.device)
    mat = mat.scatter_add(-1, i_lo, (1 - frac).unsqueeze(-1))
    return mat.scatter_add(-1, i_hi, frac.unsqueeze(-1))


def tap_weights(offsets: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Interpolation weights of each offset on integer taps: ``(eta, L)`` and the first tap ``lo``.

    Offset ``o_j`` puts ``1 - frac`` on tap ``floor(o_j)`` and ``frac`` on ``floor(o_j) + 1``; the taps
    span ``lo = min floor(o)`` to ``max floor(o) + 1``. Differentiable in the offsets (floor detached).
    """
    floor = offsets.detach().floor()
    frac = offsets - floor
    lo, hi = int(floor.min()), int(floor.max()) + 1
    idx = (floor - lo).long().unsqueeze(1)
    w = torch.zeros(offsets.shape[0], hi - lo + 1, dtype=offsets.dtype, device=offsets.device)
    w = w.scatter_add(1, idx, (1 - frac).unsqueeze(1))
    return w.scatter_add(1, idx + 1, frac.unsqueeze(1)), lo


class DeformableTemporalConv(nn.Module):
    """DeTGC: sample ``eta`` learnable temporal offsets per frame, mix them with a ``(eta,1,1)`` conv, BN.

    ``(N, C, T, V)`` -> ``(N, C_out, ceil(T / stride), V)``. The offsets start at
    ``linspace(-r, r, eta)`` with ``r`` the reach of a kernel of ``kernel_size`` and ``dilation``.

    The offsets are shared by every frame, so sampling at ``t + o_j`` with linear interpolation and
    then mixing the ``eta`` samples is one temporal convolution whose kernel is the mixing weights
    spread over the integer taps ``floor(o_j)``, ``floor(o_j) + 1``; clamping the sample indices to
    the sequence is replicate padding. That is what ``forward`` computes: exactly the reference's
    values and gradients (offsets included), without gathers or ``eta``-fold intermediate tensors.
    """

    def __init__(self, in_channels: int, out_channels: int, eta: int = 4, kernel_size: int = 5,
                 stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        self.eta, self.stride = eta, stride
        reach = (kernel_size + (kernel_size - 1) * (dilation - 1) - 1) // 2
        self.offsets = nn.Parameter(torch.linspace(-reach, reach, eta))
        # a Conv3d module holds the weights so that they keep the reference shape (O, C, eta, 1, 1)
        self.conv = nn.Conv3d(in_channels, out_channels, (eta, 1, 1))
        self.bn = nn.BatchNorm2d(out_channels)
        #: a kernel computed once by ``fix_kernel`` (for export), else None
        self.fixed_kernel: tuple[torch.Tensor, int] | None = None

    def fix_kernel(self) -> None:
        """Compute the temporal kernel once from the current weights and offsets and use it from now on
        (no gradient reaches them any more). Graph exporters cannot follow ``temporal_kernel``: its
        extent depends on the offsets' values; a fixed kernel is a plain convolution."""
        with torch.no_grad():
            kernel, lo = self.temporal_kernel()
        self.fixed_kernel = (kernel.detach().clone(), lo)

    def temporal_kernel(self) -> tuple[torch.Tensor, int]:
        """The equivalent ``(O, C, L, 1)`` temporal conv kernel and its first tap (relative frame)."""
        if self.fixed_kernel is not None:
            return self.fixed_kernel
        taps, lo = tap_weights(self.offsets)
        w = self.conv.weight.flatten(2)  # (O, C, eta)
        return torch.einsum("ock,kl->ocl", w, taps.to(w.dtype)).unsqueeze(-1), lo

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[2]
        kernel, lo = self.temporal_kernel()
        length = kernel.shape[2]
        t_out = -(-t // self.stride)
        # replicate padding = the reference's clamping of sample indices to [0, T-1]
        pad_lo = max(0, -lo)
        pad_hi = max(0, (t_out - 1) * self.stride + lo + length - t)
        if pad_lo or pad_hi:
            x = F.pad(x, (0, 0, pad_lo, pad_hi), mode="replicate")
        start = lo + pad_lo
        x = x[:, :, start:start + (t_out - 1) * self.stride + length]
        if folds(self.bn):
            kernel, bias = fold_batch_norm(self.bn, kernel, self.conv.bias)
            return F.conv2d(x, kernel.to(x.dtype), bias.to(x.dtype), stride=(self.stride, 1))
        return self.bn(F.conv2d(x, kernel.to(x.dtype), self.conv.bias, stride=(self.stride, 1)))

    def count_cost(self, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> dict[str, int]:
        """As thop counts the reference: a Conv3d ``(eta,1,1)`` over the sampled frames; the
        sampling (gathers there) is not counted, nor is the equivalent wider kernel here."""
        c_in = inputs[0].shape[1]
        return {"macs": output.numel() * c_in * self.eta + folded_norm_macs(self.bn, output), "macs_matmul": 0}


class SubsetGraphConv(nn.Module):
    """Plain graph conv over K subsets with a learnable adjacency: ``y_v = sum_k sum_u A[k,v,u] W_k x_u``, BN."""

    def __init__(self, in_channels: int, out_channels: int, A: torch.Tensor) -> None:
        super().__init__()
        self.num_subsets = A.shape[0]
        self.A = nn.Parameter(A.clone())
        self.conv = PointwiseConv2d(in_channels, out_channels * self.num_subsets)
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._aggregates_input(x.shape[1]):
            return self.bn(self._aggregate_first(x))
        n, _, t, v = x.shape
        # sum_k y_k . A_k^T, one batched product per subset accumulated in place (dtypes as in
        # CTRGraphConv.forward): each subset's slice is already rows of U joints, where the einsum
        # permuted the whole (N, K, C, T, U) tensor, forward and backward, to contract k and u at once
        out = None
        for k, y_k in enumerate(self.conv(x).view(n, self.num_subsets, -1, t, v).unbind(1)):
            rows, a_t = y_k.reshape(n, -1, v), self.A[k].t().expand(n, v, v)
            out = torch.bmm(rows, a_t) if out is None else out.baddbmm_(rows.to(out.dtype), a_t.to(out.dtype))
        return self.bn(out.view(n, -1, t, v))

    def _aggregates_input(self, in_channels: int) -> bool:
        return in_channels < self.bn.num_features

    def _aggregate_first(self, x: torch.Tensor) -> torch.Tensor:
        """The same sum reassociated, ``sum_k W_k (x . A_k^T) + sum_k b_k (A_k 1)``: with fewer input
        than output channels (the first block: 3 coordinates, 64 channels) aggregating the input
        costs ``C_in / C_out`` of aggregating the output, and the K subsets' products become one
        convolution over ``K * C_in`` channels."""
        n, c, t, v = x.shape
        k = self.num_subsets
        spread = torch.matmul(x.unsqueeze(1), self.A.transpose(1, 2).unsqueeze(1))  # (N, K, C, T, V)
        w = self.conv.weight.view(k, -1, c).transpose(0, 1).reshape(-1, k * c)  # (O, K*C)
        y = torch.matmul(w, spread.view(n, k * c, t * v)).view(n, -1, t, v)
        bias = self.conv.bias.view(k, -1).t() @ self.A.sum(-1)  # (O, V): each bias spread over its row of A
        return y.add_(bias.unsqueeze(1))

    def count_cost(self, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> dict[str, int]:
        """As the reference computes it: the aggregation (an einsum there) as matmul, K x V
        multiply-adds per output element (the in-place products are not seen by the dispatch-level
        counter), and, where the input is aggregated first (``self.conv`` then never runs), the
        1x1 convolution as thop counts it."""
        c_in, k = inputs[0].shape[1], self.num_subsets
        conv = output.numel() * k * c_in if self._aggregates_input(c_in) else 0
        return {"macs": conv, "macs_matmul": output.numel() * k * output.shape[-1]}


class DeformableBranch(nn.Module):
    """1x1 conv + BN -> LeakyReLU -> DeTGC."""

    def __init__(self, in_channels: int, channels: int, eta: int, stride: int, dilation: int) -> None:
        super().__init__()
        self.pre = ConvBN(in_channels, channels)
        self.temporal = DeformableTemporalConv(channels, channels, eta, 5, stride, dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.after_pre(self.pre(x))

    def after_pre(self, y: torch.Tensor) -> torch.Tensor:
        """The branch from its 1x1 convolution's output on."""
        return self.temporal(F.leaky_relu(y, LEAKY_SLOPE, inplace=True))


def _window3(x: torch.Tensor, stride: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Frames ``s*stride - 1``, ``s*stride``, ``s*stride + 1`` of ``x`` padded with -inf: three strided views."""
    t_out = (x.shape[2] - 1) // stride + 1
    end = (t_out - 1) * stride + 1
    p = F.pad(x, (0, 0, 1, 1), value=float("-inf"))
    return p[:, :, 0:end:stride], p[:, :, 1:end + 1:stride], p[:, :, 2:end + 2:stride]


class _TemporalMax3(torch.autograd.Function):
    """``max_pool2d(x, (3, 1), (stride, 1), (1, 0))`` with its gradient (the first maximum of a window takes
    it, as in max pooling). PyTorch's CPU max pooling over a (3, 1) window is about ten times slower than
    these element-wise maxima of shifted views."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, stride: int) -> torch.Tensor:  # noqa: ANN001
        a, b, c = _window3(x, stride)
        ab = torch.maximum(a, b)
        ctx.save_for_backward(b > a, c > ab)
        ctx.stride, ctx.shape = stride, x.shape
        return torch.maximum(ab, c)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # noqa: ANN001
        pick_b, pick_c = ctx.saved_tensors
        s, (n, ch, t, v) = ctx.stride, ctx.shape
        end = (grad.shape[2] - 1) * s + 1
        zero = grad.new_zeros(())
        gc = torch.where(pick_c, grad, zero)
        gb = torch.where(pick_b, grad - gc, zero)
        ga = grad - gc - gb
        padded = grad.new_zeros(n, ch, t + 2, v)
        padded[:, :, 0:end:s] += ga
        padded[:, :, 1:end + 1:s] += gb
        padded[:, :, 2:end + 2:s] += gc
        return padded[:, :, 1:-1], None


def temporal_max3(x: torch.Tensor, stride: int = 1) -> torch.Tensor:
    """Max over 3 frames (padding 1) with a temporal stride: ``nn.MaxPool2d((3, 1), (stride, 1), (1, 0))``."""
    if torch.is_grad_enabled() and x.requires_grad:
        return _TemporalMax3.apply(x, stride)
    a, b, c = _window3(x, stride)
    ab = torch.maximum(a, b)
    return torch.maximum(ab, c, out=ab)


class PoolBranch(nn.Module):
    """1x1 conv + BN -> LeakyReLU -> max pool over 3 frames -> BN."""

    def __init__(self, in_channels: int, channels: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.pre = ConvBN(in_channels, channels)
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.after_pre(self.pre(x))

    def after_pre(self, y: torch.Tensor) -> torch.Tensor:
        """The branch from its 1x1 convolution's output on."""
        return self.bn(temporal_max3(F.leaky_relu(y, LEAKY_SLOPE, inplace=True), self.stride))


class DeformableTemporalModule(nn.Module):
    """Four branches of ``channels/4``: DeTGC d=1, DeTGC d=2, max pool, strided 1x1; concatenated."""

    def __init__(self, channels: int, eta: int = 4, stride: int = 1) -> None:
        super().__init__()
        bc = channels // 4
        self.deform1 = DeformableBranch(channels, bc, eta, stride, dilation=1)
        self.deform2 = DeformableBranch(channels, bc, eta, stride, dilation=2)
        self.pool = PoolBranch(channels, bc, stride)
        self.point = ConvBN(channels, bc, stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        together = self._convs_together()
        if together is None:
            return torch.cat([self.deform1(x), self.deform2(x), self.pool(x), self.point(x)], dim=1)
        pres = folded_together(together, x)
        point = pres.pop() if len(pres) == 4 else self.point(x)
        branches = (self.deform1, self.deform2, self.pool)
        return torch.cat([b.after_pre(y) for b, y in zip(branches, pres, strict=True)] + [point], dim=1)

    def _convs_together(self) -> list[ConvBN] | None:
        """The branches' 1x1 convolutions that read the same frames (the strided branch's too at stride
        1), to be run as one product, or None: in inference only (about 3% of a pass). Not under
        autograd, as the branches overwrite their views of that one product in place, which autograd
        refuses; nor in training, where the merged product's weight gradient would be summed in
        another order for a gain within the noise."""
        layers = [self.deform1.pre, self.deform2.pre, self.pool.pre]
        layers += [self.point] if self.point.conv.stride[0] == 1 else []
        return None if torch.is_grad_enabled() or not can_fold_together(layers) else layers

    def count_cost(self, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> dict[str, int]:
        """The 1x1 convolutions run together (inference) without their modules: as thop counts them."""
        together = self._convs_together() or []
        return {"macs": sum(layer.folded_macs(inputs[0]) for layer in together), "macs_matmul": 0}


class DeGCNBlock(nn.Module):
    """graph conv -> LeakyReLU(x + res1) -> DeTGC module -> LeakyReLU(x + res2(input))."""

    def __init__(self, in_channels: int, out_channels: int, A: torch.Tensor, stride: int = 1, first: bool = False,
                 eta: int = 4, num_scale: int = 4) -> None:
        super().__init__()
        groups = 1 if first else num_scale
        if first:
            self.gcn: nn.Module = SubsetGraphConv(in_channels, out_channels, A)
        else:
            # in/8 relation channels (a multiple of the groups, so that narrow test models work)
            rel = max(in_channels // 8 // num_scale, 1) * num_scale
            self.gcn = CTRGraphConv(in_channels, out_channels, A, groups=num_scale, rel_channels=rel)
        self.gcn_residual = ConvBN(in_channels, out_channels, groups=groups) if in_channels != out_channels \
            else nn.Identity()
        self.tcn = DeformableTemporalModule(out_channels, eta, stride)
        if first:
            self.residual: nn.Module | None = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = ConvBN(in_channels, out_channels, stride=stride, groups=groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # the sums and activations go in place: each overwrites a fresh tensor whose producer's
        # backward does not read it (batch norm, concatenation), and LeakyReLU's gradient follows
        # from its output's sign, so training computes the same, with two passes fewer per block
        y = F.leaky_relu(self.gcn(x).add_(self.gcn_residual(x)), LEAKY_SLOPE, inplace=True)
        y = self.tcn(y)
        if self.residual is not None:
            y = y.add_(self.residual(x))
        return F.leaky_relu(y, LEAKY_SLOPE, inplace=True)


class DeGCN(SkeletonBackbone):
    """DeGCN single stream: 690,527 parameters at 60 classes on a 25-joint layout."""

    def __init__(self, layout: str | Layout = "ntu25", in_channels: int = 3, num_persons: int = 2,
                 num_classes: int = 60, base_channels: int = 64, dropout: float = 0.0, window: int = 64,
                 eta: int = 4) -> None:
        super().__init__(layout, in_channels, num_persons, num_classes, base_channels * 4, dropout, window)
        A = self.graph()
        self.blocks = nn.Sequential(*(
            DeGCNBlock(cin, cout, A, stride, first=i == 0, eta=eta)
            for i, (cin, cout, stride) in enumerate(stage_plan(in_channels, base_channels))
        ))
        for m in self.blocks.modules():
            if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
                nn.init.kaiming_normal_(m.weight, a=LEAKY_SLOPE, mode="fan_out", nonlinearity="leaky_relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)


@register_backbone
def degcn(**kwargs) -> DeGCN:
    """DeGCN single stream (myung2024degcn, public release: no DeSGC)."""
    return DeGCN(**kwargs)


# --- the public reference code's parameter names -------------------------------------------------
# Reference key (WoominM/DeGCN_pytorch, ``Model(num_stream=1)``)     ->  ours
#   data_bn.*                                                        ->  data_bn.*
#   streams.0.block-{i}_tcngcn.gcn.{A,conv,bn}         (ST_GC)       ->  blocks.{i}.gcn.{A,conv,bn}
#   ...gcn.conv1 / conv2 / conv3 / conv4, gcn.{A,alpha,bn} (CTR_GC)  ->  ...gcn.query / key / value / refine
#   ...residual1.{conv,bn}                                           ->  ...gcn_residual.{conv,bn}
#   ...residual2.{conv,bn}                                           ->  ...residual.{conv,bn}
#   ...tcn.tcn{1,2}.0.{conv,bn}                                      ->  ...tcn.deform{1,2}.pre.{conv,bn}
#   ...tcn.tcn{1,2}.2.tr                                             ->  ...tcn.deform{1,2}.temporal.offsets
#   ...tcn.tcn{1,2}.2.conv_out.0 (Conv3d) / .1 (BatchNorm3d)         ->  ...temporal.conv / .bn (BatchNorm2d)
#   ...tcn.maxpool3x1.0.{conv,bn} / .3 (BatchNorm2d)                 ->  ...tcn.pool.pre.{conv,bn} / .pool.bn
#   ...tcn.conv1x1.{conv,bn}                                         ->  ...tcn.point.{conv,bn}
#   fc.0.*                                                           ->  fc.*
# Tensor shapes are identical, so loading is a pure renaming.
# (reference name, our name) fragments; "{n}" stands for a number, "^" / "$" anchor a fragment.
# ST_GC's ``gcn.conv`` has the same name on both sides. Rules apply in this order both ways.
_NAME_PAIRS: list[tuple[str, str]] = [
    ("^streams.0.block-{n}_tcngcn.", "^blocks.{n}."),
    ("^fc.0.", "^fc."),
    (".gcn.conv1.", ".gcn.query."),
    (".gcn.conv2.", ".gcn.key."),
    (".gcn.conv3.", ".gcn.value."),
    (".gcn.conv4.", ".gcn.refine."),
    (".residual1.", ".gcn_residual."),
    (".residual2.", ".residual."),
    (".tcn.tcn{n}.0.", ".tcn.deform{n}.pre."),
    (".tcn.tcn{n}.2.tr$", ".tcn.deform{n}.temporal.offsets$"),
    (".tcn.tcn{n}.2.conv_out.0.", ".tcn.deform{n}.temporal.conv."),
    (".tcn.tcn{n}.2.conv_out.1.", ".tcn.deform{n}.temporal.bn."),
    (".tcn.maxpool3x1.0.", ".tcn.pool.pre."),
    (".tcn.maxpool3x1.3.", ".tcn.pool.bn."),
    (".tcn.conv1x1.", ".tcn.point."),
]


def _rule(source: str, target: str) -> tuple[str, str]:
    """A ``re.sub`` pattern and replacement that rename the fragment ``source`` to ``target``."""
    pattern = re.escape(source).replace(r"\{n\}", r"(\d+)").replace(r"\^", "^").replace(r"\$", "$")
    return pattern, target.strip("^$").replace("{n}", r"\1")


_REFERENCE_RULES = [_rule(reference, ours) for reference, ours in _NAME_PAIRS]
_OUR_RULES = [_rule(ours, reference) for reference, ours in _NAME_PAIRS]


def _rename(key: str, rules: list[tuple[str, str]]) -> str:
    for pattern, repl in rules:
        key = re.sub(pattern, repl, key)
    return key


def to_reference_degcn_state(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Our DeGCN state dict in the public reference code's naming (``Model(num_stream=1)``)."""
    return {_rename(k, _OUR_RULES): v for k, v in state_dict.items()}


def load_reference_degcn_state(model: DeGCN, state_dict: dict[str, torch.Tensor], strict: bool = True):
    """Load a state dict of the public DeGCN code (one stream, ``streams.0.*``, ``fc.0.*``) into ``model``.

    A ``module.`` prefix (from DataParallel checkpoints) is dropped. Returns ``load_state_dict``'s result.
    """
    renamed = {_rename(k.removeprefix("module."), _REFERENCE_RULES): v for k, v in state_dict.items()}
    return model.load_state_dict(renamed, strict=strict)


