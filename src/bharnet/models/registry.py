"""Two registries, in the style of timm: backbones and the models the engine trains.

A **backbone** is a plain module, ``(N, C, T, V, M)`` tensor -> features (``forward_features``)
-> logits (``forward_head``); ``@register_backbone`` names its factory.

A **model** is what the engine trains, tests, profiles and exports: it follows the
:class:`ActionModel` contract (a dict of input streams -> a dict of logits, its own loss, its own
example inputs) and is registered with a :class:`ModelSpec` that tells every tool what it is
(its streams, how it is trained, what it is built from), so that nothing else branches on names.
Importing :mod:`bharnet.models` registers everything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar, runtime_checkable

import torch.nn as nn
from torch import Tensor

from bharnet.core.errors import UserError

__all__ = ["ActionModel", "ModelSpec", "register_backbone", "create_backbone", "list_backbones", "register_model",
           "create_model", "list_models", "is_model", "model_spec", "expert_for"]

F = TypeVar("F", bound=Callable[..., nn.Module])
Stage = Literal["expert", "finetune", "derived", "guided"]


@runtime_checkable
class ActionModel(Protocol):
    """What the engine trains: input streams in, every branch's logits out (``"logits"`` is the
    prediction), and the model's own loss over its outputs."""

    streams: tuple[str, ...]

    def __call__(self, inputs: dict[str, Tensor]) -> dict[str, Tensor]: ...

    def compute_loss(self, outputs: dict[str, Tensor], labels: Tensor) -> dict[str, Tensor]: ...

    def example_inputs(self, batch: int = 1, frames: int = 64) -> dict[str, Tensor]: ...


@dataclass(frozen=True)
class ModelSpec:
    """What a registered model is.

    - ``streams``: the input streams it reads (``"body"``, ``"hand"``, ``"rgb"``); a body stream takes
      the store's body layout and persons, a hand stream the two padded hands, an rgb stream the
      store's ST-ROI images.
    - ``stage``: ``"expert"`` trains from scratch; ``"finetune"`` starts from the trained body and
      hand experts (the paper's second stage); ``"derived"`` is assembled from trained models
      without training of its own; ``"guided"`` trains a stream of its own (BHaRNet-M's RGB) that
      reads a trained body expert's features (``model.init.guide``).
    - ``sources``: for a derived model, the ``(model, branch)`` pairs whose logits it sums.
    - ``attention``: whether it takes the run's attention settings (``model.attention``).
    - ``fusion``: for a derived model, how its sources' branches are combined when not summed: a
      method of :mod:`bharnet.models.fusion` (or ``"auto"``), fitted on the validation split.
    """

    streams: tuple[str, ...]
    stage: Stage = "finetune"
    sources: tuple[tuple[str, str], ...] = ()
    attention: bool = False
    fusion: str | None = None

    def __post_init__(self) -> None:
        if (self.stage == "derived") != bool(self.sources):
            raise ValueError("a derived model names its sources, and only a derived model does")


_BACKBONES: dict[str, Callable[..., nn.Module]] = {}
_MODELS: dict[str, tuple[Callable[..., nn.Module], ModelSpec]] = {}


def register_backbone(fn: F) -> F:
    """Register a backbone factory under its function's name (``_`` -> ``-``)."""
    name = fn.__name__.replace("_", "-")
    if name in _BACKBONES and _BACKBONES[name] is not fn:
        raise ValueError(f"backbone {name!r} is registered twice")
    _BACKBONES[name] = fn
    return fn


def create_backbone(name: str, **kwargs) -> nn.Module:
    """Build the backbone registered as ``name``."""
    if name not in _BACKBONES:
        raise UserError(f"unknown backbone {name!r}; known: {', '.join(list_backbones())}")
    return _BACKBONES[name](**kwargs)


def list_backbones() -> list[str]:
    """The registered backbones, in registration order."""
    return list(_BACKBONES)


def register_model(name: str, spec: ModelSpec) -> Callable[[F], F]:
    """Register a model factory under ``name`` with its spec."""

    def add(fn: F) -> F:
        if name in _MODELS and _MODELS[name][0] is not fn:
            raise ValueError(f"model {name!r} is registered twice")
        _MODELS[name] = (fn, spec)
        return fn

    return add


def is_model(name: str) -> bool:
    """Whether ``name`` is a registered model."""
    return name in _MODELS


def list_models(stage: Stage | None = None) -> list[str]:
    """The registered models (of one ``stage``), in registration order: experts first, then the
    models trained from them, then the derived ones, as the paper's tables list them."""
    return [name for name, (_, spec) in _MODELS.items() if stage is None or spec.stage == stage]


def model_spec(name: str) -> ModelSpec:
    """The spec of a registered model."""
    if name not in _MODELS:
        raise UserError(f"unknown model {name!r}; known: {', '.join(list_models())}")
    return _MODELS[name][1]


def expert_for(stream: str) -> str:
    """The expert model of one input stream (``"body"`` -> ``"body-expert"``)."""
    for name in list_models("expert"):
        if model_spec(name).streams == (stream,):
            return name
    raise UserError(f"no expert model reads the {stream!r} stream")


def create_model(name: str, **kwargs) -> nn.Module:
    """Build the model registered as ``name`` with the factory's keyword arguments."""
    model_spec(name)  # a clear error for an unknown name
    return _MODELS[name][0](**kwargs)
