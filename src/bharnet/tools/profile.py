"""``bharnet profile``: parameters and MACs of a named model on one sample (the counting
convention is :mod:`bharnet.models.cost`'s)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
import torch.nn as nn

from bharnet.models import ModelInputs, create_model, expert_for, list_backbones
from bharnet.models.cost import count_cost

__all__ = ["build_named", "profile_model", "describe_inputs"]

def build_named(name: str, backbone: str = "degcn", num_classes: int = 60, frames: int = 64,
                persons: int | None = None) -> nn.Module:
    """A registered model by name, or a backbone name (``degcn``, ...) as the body expert on that
    backbone. ``persons``: body instances (default: the model's)."""
    if name in list_backbones():
        name, backbone = expert_for("body"), name
    inputs = ModelInputs(num_classes=num_classes, window=frames)
    if persons is not None:
        inputs = replace(inputs, body_persons=persons)
    return create_model(name, inputs, backbone=backbone)


def describe_inputs(example_inputs: dict[str, torch.Tensor]) -> dict[str, list[int]]:
    """Shapes of example inputs."""
    return {k: list(v.shape) for k, v in example_inputs.items()}


def profile_model(name: str, backbone: str = "degcn", num_classes: int = 60, frames: int = 64) -> dict[str, Any]:
    """Build a registered model (or a backbone as the body expert) and count its cost on one sample
    of ``frames`` frames (its ``example_inputs``). Returns ``variant``, ``backbone``,
    ``num_classes``, ``frames``, ``input`` (shapes), ``params``, ``macs``, ``macs_all``.
    """
    if name in list_backbones():
        backbone = name
    model = build_named(name, backbone, num_classes, frames)
    inputs = model.example_inputs(batch=1, frames=frames)
    cost = count_cost(model, inputs)
    return {"variant": name, "backbone": backbone, "num_classes": num_classes, "frames": frames,
            "input": describe_inputs(inputs), **cost}
