"""Parameter and multiply-add counting.

Convention (``macs``): the one of thop, with which the paper's tables were made. One multiply-add
counts 1. Convolutions count ``output elements x (in_channels / groups) x kernel size`` (no bias),
linear layers ``output elements x in_features``, batch/layer/instance/group norms ``2 x input
elements``, doubled when affine (so 4 for an ordinary BatchNorm), average pooling one per output
element; activations, max pooling, dropout, additions, einsum and matmul count 0.

``macs_all`` adds the matrix products (matmul, bmm, einsum, attention) at one per multiply-add,
measured with a dispatch-level counter (``torch.utils.flop_counter`` formulas, FLOPs / 2).

Modules whose fast implementation differs from the published network's layers (DeTGC's folded
temporal conv, CTR-GC's query/key computed on the temporal mean) describe their cost with a
``count_cost(inputs, output) -> {"macs": ..., "macs_matmul": ...}`` method covering the work they do
outside submodule calls, counted as thop counts the published network; matrix products run
directly in such a module are replaced by its ``macs_matmul``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn
from lightning.fabric.utilities.apply_func import move_data_to_device
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

__all__ = ["count_cost", "conv_macs", "norm_macs"]

_aten = torch.ops.aten
_NOT_MATMUL = {_aten.convolution, _aten._convolution, _aten.convolution_backward, _aten.cudnn_convolution,
               _aten.convolution_overrideable, _aten._slow_conv2d_forward}
_NORMS = (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.modules.instancenorm._InstanceNorm, nn.GroupNorm)


def conv_macs(module: nn.modules.conv._ConvNd, output: torch.Tensor, in_channels: int | None = None) -> int:
    """thop's convolution count: output elements x (in / groups) x kernel size."""
    c_in = in_channels if in_channels is not None else module.in_channels
    return output.numel() * (c_in // module.groups) * module.weight[0, 0].numel()


def norm_macs(module: nn.Module, elements: int) -> int:
    """thop's normalisation count over ``elements`` inputs: 2 per element, 4 with an affine map."""
    affine = getattr(module, "affine", False) or getattr(module, "elementwise_affine", False)
    return 2 * elements * (2 if affine else 1)


def _module_macs(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> int:
    if isinstance(module, nn.modules.conv._ConvNd):
        return conv_macs(module, output, inputs[0].shape[1])
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    if isinstance(module, _NORMS):
        return norm_macs(module, inputs[0].numel())
    if isinstance(module, (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)):
        return output.numel()
    return 0


def _sdpa_cpu_flops(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *args: Any, **kwargs: Any) -> int:
    b, h, lq, e = q.shape
    return 2 * b * h * lq * k.shape[-2] * (e + v.shape[-1])


class _MatmulCounter(TorchDispatchMode):
    """Counts matrix-product FLOPs unless the innermost running module accounts for them itself."""

    def __init__(self, stack: list[nn.Module]) -> None:
        super().__init__()
        self.stack = stack
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        packet = func._overloadpacket
        owner = self.stack[-1] if self.stack else None
        if hasattr(owner, "count_cost") or isinstance(owner, (nn.Linear, nn.modules.conv._ConvNd)):
            return out  # counted by the module's own rule
        if packet in flop_registry and packet not in _NOT_MATMUL:
            self.flops += flop_registry[packet](*args, **kwargs, out_val=out)
        elif packet is _aten._scaled_dot_product_flash_attention_for_cpu:
            self.flops += _sdpa_cpu_flops(*args)
        return out


def count_cost(model: nn.Module, example_inputs: Any) -> dict[str, int]:
    """Parameters and multiply-adds of one forward pass of ``model`` on ``example_inputs``.

    ``example_inputs``: a tensor, a tuple of positional arguments, or a dict (passed as one
    argument, as dual-stream models take it). Returns ``{"params", "macs", "macs_all"}``; see the
    module docstring for the convention. The model runs in eval mode without gradients and is
    put back in its previous mode.
    """
    args = example_inputs if isinstance(example_inputs, tuple) else (example_inputs,)
    parameter = next(model.parameters(), None)
    if parameter is not None:  # a model trained on a GPU is counted where it is
        args = move_data_to_device(args, parameter.device)
    totals = {"macs": 0, "macs_matmul": 0}
    stack: list[nn.Module] = []
    handles = []

    def pre_hook(module: nn.Module, inputs: tuple[Any, ...]) -> None:
        stack.append(module)

    def hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        stack.pop()
        if hasattr(module, "count_cost"):
            cost = module.count_cost(inputs, output)
            totals["macs"] += int(cost.get("macs", 0))
            totals["macs_matmul"] += int(cost.get("macs_matmul", 0))
        else:
            totals["macs"] += _module_macs(module, inputs, output)

    for module in model.modules():
        handles.append(module.register_forward_pre_hook(pre_hook))
        handles.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    counter = _MatmulCounter(stack)
    try:
        with torch.no_grad(), counter:
            model(*args)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    params = sum(p.numel() for p in model.parameters())
    macs = totals["macs"]
    return {"params": params, "macs": macs, "macs_all": macs + totals["macs_matmul"] + counter.flops // 2}






