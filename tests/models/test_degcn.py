"""DeGCN: the folded DeTGC against a gather reference, and the reference state-dict naming."""

from __future__ import annotations

import pytest
import torch

from bharnet.models import create_backbone
from bharnet.models.backbones.degcn import (
    DeformableTemporalConv,
    DeformableTemporalModule,
    interpolation_matrix,
    load_reference_degcn_state,
    to_reference_degcn_state,
)
from tests.models.fixtures import with_running_statistics


def gather_detgc(layer: DeformableTemporalConv, x: torch.Tensor) -> torch.Tensor:
    """Straightforward DeTGC: gather the floor/ceil frames (indices clamped), interpolate, Conv3d, BN."""
    n, c, t, v = x.shape
    t0 = torch.arange(0, t, layer.stride, dtype=x.dtype)
    pos = (t0.view(1, -1) + layer.offsets.view(-1, 1)).reshape(-1)  # (eta * T_out)
    lo = pos.detach().floor()
    i1 = lo.clamp(0, t - 1).long().view(1, 1, -1, 1).expand(n, c, -1, v)
    i2 = (lo + 1).clamp(0, t - 1).long().view(1, 1, -1, 1).expand(n, c, -1, v)
    w_lo = (lo + 1 - pos).view(1, 1, -1, 1)
    sampled = x.gather(2, i1) * w_lo + x.gather(2, i2) * (1 - w_lo)
    sampled = sampled.view(n, c, layer.eta, -1, v)
    y = layer.conv(sampled).squeeze(2)
    return layer.bn(y)


@pytest.mark.parametrize(("stride", "dilation", "t"), [(1, 1, 16), (1, 2, 16), (2, 1, 16), (2, 2, 15)])
def test_fast_detgc_matches_gather_reference(stride: int, dilation: int, t: int) -> None:
    torch.manual_seed(stride * 10 + dilation)
    layer = DeformableTemporalConv(4, 6, eta=4, kernel_size=5, stride=stride, dilation=dilation).double()
    with torch.no_grad():  # non-integer offsets, some reaching past both ends of the sequence
        layer.offsets.copy_(torch.tensor([-5.3, -0.7, 0.45, 6.2], dtype=torch.float64))
    x = torch.randn(3, 4, t, 5, dtype=torch.float64, requires_grad=True)
    grad_out = torch.randn(3, 6, -(-t // stride), 5, dtype=torch.float64)

    outs, grads = [], []
    for fn in (layer, lambda inp: gather_detgc(layer, inp)):
        layer.zero_grad()
        x.grad = None
        y = fn(x)
        (y * grad_out).sum().backward()
        outs.append(y.detach())
        grads.append([x.grad.clone(), layer.offsets.grad.clone(), layer.conv.weight.grad.clone()])
    torch.testing.assert_close(outs[0], outs[1])
    for fast, ref in zip(*grads, strict=True):
        torch.testing.assert_close(fast, ref)
    assert grads[0][1].abs().sum() > 0  # the offsets do learn


def test_detgc_in_eval_mode_folds_its_batch_norm_into_the_kernel() -> None:
    torch.manual_seed(0)
    layer = DeformableTemporalConv(4, 6, eta=4, kernel_size=5, stride=2).double().eval()
    with_running_statistics(layer.bn)
    x = torch.randn(2, 4, 15, 5, dtype=torch.float64)
    torch.testing.assert_close(layer(x), gather_detgc(layer, x))  # there the batch norm runs after the conv


@pytest.mark.parametrize("stride", [1, 2])
def test_temporal_module_in_eval_mode_runs_its_branches_convolutions_as_one_product(stride: int) -> None:
    torch.manual_seed(0)
    module = DeformableTemporalModule(16, stride=stride).double().eval()
    for bn in module.modules():
        if isinstance(bn, torch.nn.BatchNorm2d):
            with_running_statistics(bn)
    x = torch.randn(2, 16, 12, 5, dtype=torch.float64)
    # each branch on its own, batch norm unfolded
    by_branch = torch.cat([module.deform1.temporal(torch.nn.functional.leaky_relu(
        module.deform1.pre.bn(module.deform1.pre.conv(x)), 0.1)), module.deform2.temporal(
        torch.nn.functional.leaky_relu(module.deform2.pre.bn(module.deform2.pre.conv(x)), 0.1)),
        module.pool(x), module.point.bn(module.point.conv(x))], dim=1)
    torch.testing.assert_close(module(x), by_branch)
    with torch.enable_grad():  # eval mode under autograd (as for saliency): views overwritten in place are allowed
        module(x.requires_grad_()).sum().backward()
    assert x.grad is not None


def test_interpolation_matrix_rows() -> None:
    mat = interpolation_matrix(torch.tensor([-1.25, 0.0, 2.5]), t_in=6, stride=2)
    assert mat.shape == (3, 3, 6)
    torch.testing.assert_close(mat.sum(-1), torch.ones(3, 3))  # interpolation weights sum to 1
    torch.testing.assert_close(mat[0, 0], torch.tensor([1.0, 0, 0, 0, 0, 0]))  # clamped at the start
    torch.testing.assert_close(mat[2, 1], torch.tensor([0, 0, 0, 0, 0.5, 0.5]))  # 2 + 2.5


def test_reference_state_dict_round_trip() -> None:
    torch.manual_seed(0)
    model = create_backbone("degcn", layout="ntu25", num_classes=10, base_channels=8).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    ref_state = to_reference_degcn_state(model.state_dict())
    assert "streams.0.block-4_tcngcn.tcn.tcn2.2.tr" in ref_state
    assert "streams.0.block-1_tcngcn.gcn.conv4.weight" in ref_state
    assert "fc.0.weight" in ref_state and "data_bn.running_mean" in ref_state
    assert not any(k.startswith("blocks.") for k in ref_state)

    other = create_backbone("degcn", layout="ntu25", num_classes=10, base_channels=8).eval()
    load_reference_degcn_state(other, {f"module.{k}": v for k, v in ref_state.items()})
    x = torch.randn(2, 3, 16, 25, 2)
    with torch.no_grad():
        torch.testing.assert_close(other(x), model(x), rtol=0, atol=0)
