"""Backbones: shapes on every layout, parameter counts, the registry."""

from __future__ import annotations

import pytest
import torch

from bharnet.core.errors import UserError
from bharnet.core.layouts import get_layout
from bharnet.models import create_backbone, create_model, list_backbones
from bharnet.models.backbones.base import ConvBN
from bharnet.models.backbones.ctrgcn import CTRGraphConv
from bharnet.models.backbones.degcn import SubsetGraphConv
from tests.models.fixtures import with_running_statistics

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: one thread beats several

BACKBONES = ["degcn", "ctrgcn", "stgcn"]
LAYOUTS = ["ntu25", "ucla20", "hand21_pad25", "coco17"]


def num_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_registry_lists_backbones() -> None:
    assert set(BACKBONES) <= set(list_backbones())
    with pytest.raises(UserError, match="unknown model"):
        create_model("no-such-model")


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", BACKBONES)
def test_shapes(name: str, layout: str) -> None:
    torch.manual_seed(0)
    v = get_layout(layout).num_joints
    model = create_backbone(name, layout=layout, in_channels=3, num_persons=2, num_classes=7, base_channels=8,
                         window=16).eval()
    x = torch.randn(2, 3, 16, v, 2)
    with torch.no_grad():
        feats = model.forward_features(x)
        logits = model(x)
    assert feats.shape == (2, model.out_channels, 4, v, 2)
    assert model.out_channels == 32
    assert logits.shape == (2, 7)
    torch.testing.assert_close(logits, model.forward_head(feats))


def test_no_head_and_layout_object() -> None:
    model = create_backbone("degcn", layout=get_layout("ucla20"), num_persons=1, num_classes=0, base_channels=8).eval()
    with torch.no_grad():
        pooled = model(torch.randn(3, 3, 16, 20, 1))
    assert pooled.shape == (3, 32)


def test_example_inputs_match_model() -> None:
    model = create_backbone("stgcn", layout="hand21_pad25", base_channels=8, window=12)
    assert model.example_inputs().shape == (1, 3, 12, 25, 2)
    assert model.example_inputs(frames=20, batch=2).shape == (2, 3, 20, 25, 2)


@pytest.mark.parametrize("layout", ["ntu25", "hand21_pad25"])
def test_degcn_parameter_count_is_the_reference(layout: str) -> None:
    assert num_params(create_backbone("degcn", layout=layout, num_classes=60)) == 690_527


def test_degcn_out_channels() -> None:
    assert create_backbone("degcn", num_classes=0).out_channels == 256


def test_ctrgcn_parameter_count() -> None:
    assert num_params(create_backbone("ctrgcn", num_classes=60)) == pytest.approx(1.45e6, rel=0.01)


def test_stgcn_parameter_count() -> None:
    assert num_params(create_backbone("stgcn", num_classes=60)) == pytest.approx(3.1e6, rel=0.02)


@pytest.mark.parametrize("name", BACKBONES)
def test_backward_reaches_every_parameter(name: str) -> None:
    model = create_backbone(name, layout="coco17", num_persons=1, num_classes=5, base_channels=8)
    with torch.no_grad():  # DeGCN/CTR-GCN start with alpha = 0: give the topology refinement a gradient path
        for n, p in model.named_parameters():
            if n.endswith("alpha"):
                p.fill_(0.5)
    model(torch.randn(2, 3, 8, 17, 1)).square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing


def _topology_by_definition(conv: CTRGraphConv, x: torch.Tensor) -> torch.Tensor:
    """``alpha * refine(tanh(mean_T(q)_v - mean_T(k)_u)) + A[k, v, u]`` per group: ``(N, G, K, C/G, V, U)``."""
    n, c, t, v = x.shape
    g, k = conv.groups, conv.num_subsets
    conv2d = torch.nn.functional.conv2d
    q = conv2d(x, conv.query.weight, conv.query.bias, groups=g).mean(2).view(n, g, k, -1, v, 1)
    kk = conv2d(x, conv.key.weight, conv.key.bias, groups=g).mean(2).view(n, g, k, -1, 1, v)
    relations = torch.tanh(q - kk).reshape(n, -1, v, v)
    refined = conv2d(relations, conv.refine.weight, conv.refine.bias, groups=g * k).view(n, g, k, -1, v, v)
    return conv.alpha * refined + conv.A.view(1, 1, k, 1, v, v)


def _graph_conv_by_definition(conv: CTRGraphConv, x: torch.Tensor) -> torch.Tensor:
    """CTR-GC as written: ``y[c, t, v] = sum_k sum_u topology[k, c, v, u] * value_k[c, t, u]``, then BN."""
    n, c, t, v = x.shape
    g, k = conv.groups, conv.num_subsets
    topology = _topology_by_definition(conv, x).transpose(1, 2).reshape(n, k, -1, v, v)  # (N, K, C_out, V, U)
    value = torch.nn.functional.conv2d(x, conv.value.weight, conv.value.bias, groups=g)
    value = value.view(n, g, k, -1, t, v).transpose(1, 2).reshape(n, k, -1, t, v)
    return conv.bn(torch.einsum("nkcvu,nkctu->nctv", topology, value))


@pytest.mark.parametrize(("in_channels", "rel_channels"), [(16, 4), (64, 8)], ids=["one-relation", "two-relations"])
@pytest.mark.parametrize("frames", [8, 40], ids=["T<V", "T>V"])
def test_ctr_graph_conv_is_its_definition_in_values_and_gradients(in_channels: int, rel_channels: int,
                                                                   frames: int) -> None:
    """Both aggregation paths (a shared relation matrix per group, per-channel topologies) equal the
    definition, gradients of the input and of every parameter included."""
    torch.manual_seed(0)
    A = torch.rand(3, 25, 25, dtype=torch.float64)
    conv = CTRGraphConv(in_channels, 32, A, groups=4, rel_channels=rel_channels).double()
    with torch.no_grad():
        conv.alpha.fill_(0.7)
    x = torch.randn(3, in_channels, frames, 25, dtype=torch.float64, requires_grad=True)
    _assert_same_values_and_gradients(conv, lambda inputs: _graph_conv_by_definition(conv, inputs), x)
    torch.testing.assert_close(conv.topology(x), _topology_by_definition(conv, x))


def _values_and_gradients(module: torch.nn.Module, forward, x: torch.Tensor) -> list[torch.Tensor]:
    """``forward(x)``, and the gradients of a fixed weighted sum of it for ``x`` and each parameter."""
    module.zero_grad()
    x.grad = None
    y = forward(x)
    y.mul(torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view_as(y)).sum().backward()
    return [y.detach(), x.grad.clone(), *(p.grad.clone() for p in module.parameters())]


def _assert_same_values_and_gradients(module: torch.nn.Module, definition, x: torch.Tensor) -> None:
    got, expected = _values_and_gradients(module, module, x), _values_and_gradients(module, definition, x)
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("in_channels", [3, 24], ids=["aggregate-first", "convolve-first"])
def test_subset_graph_conv_is_its_definition_in_values_and_gradients(in_channels: int) -> None:
    """DeGCN's first graph convolution, ``y_v = sum_k sum_u A[k, v, u] W_k x_u`` then BN, computed
    one subset at a time (or, with fewer inputs than outputs, on the input aggregated first),
    equals the definition, gradients of the input and the parameters included."""
    torch.manual_seed(0)
    conv = SubsetGraphConv(in_channels, 16, torch.rand(3, 25, 25, dtype=torch.float64)).double()
    x = torch.randn(2, in_channels, 12, 25, dtype=torch.float64, requires_grad=True)

    def by_definition(inputs: torch.Tensor) -> torch.Tensor:
        n, _, t, v = inputs.shape
        y = torch.nn.functional.conv2d(inputs, conv.conv.weight, conv.conv.bias).view(n, 3, -1, t, v)
        return conv.bn(torch.einsum("kvu,nkctu->nctv", conv.A, y))

    _assert_same_values_and_gradients(conv, by_definition, x)


@pytest.mark.parametrize(("stride", "groups"), [(1, 1), (2, 4)])
def test_conv_bn_in_eval_mode_is_one_product_with_batch_norm_folded(stride: int, groups: int) -> None:
    torch.manual_seed(0)
    layer = ConvBN(8, 12, stride=stride, groups=groups).double().eval()
    with_running_statistics(layer.bn)
    x = torch.randn(2, 8, 9, 5, dtype=torch.float64)
    torch.testing.assert_close(layer(x), layer.bn(layer.conv(x)))
    layer.train()  # training normalises with the batch's statistics: nothing folded
    torch.testing.assert_close(layer(x), layer.bn(layer.conv(x)))
