"""Two registries, in the style of timm: backbones and the models the engine trains.

A **backbone** is a plain module, ``(N, C, T, V, M)`` tensor -> features (``forward_features``)
-> logits (``forward_head``); ``@register_backbone`` names its factory.

A **model** is what the engine trains, tests, profiles and exports: it follows the
:class:`ActionModel` contract (a dict of input streams -> a dict of logits, its own loss, its own
example inputs) and is registered with a :class:`ModelSpec` that tells every tool what it is
(its streams, how it is trained and started, what it is built from, the lists it belongs to), so
that nothing else branches on names. Every model factory has one signature,
``factory(inputs: ModelInputs, **options)``: the data's sizes in :class:`ModelInputs`, the
network's settings (backbone, widths, attention, losses) as keyword options.
Importing :mod:`bharnet.models` registers everything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Literal, Protocol, TypeVar, runtime_checkable

import torch.nn as nn
from torch import Tensor

from bharnet.core.errors import UserError

__all__ = ["ActionModel", "ModelSpec", "ModelInputs", "register_backbone", "create_backbone", "list_backbones",
           "register_model", "create_model", "list_models", "is_model", "model_spec", "expert_for", "guide_models"]

F = TypeVar("F", bound=Callable[..., nn.Module])
Stage = Literal["expert", "finetune", "derived", "guided"]
#: how a model's training may start: from the two trained experts (``model.init.body`` /
#: ``hand``, loaded by ``models.bharnet.init_from_experts``), from a guide's trained body features
#: (``model.init.guide``, loaded by the model's ``load_guide(state)``), from ImageNet weights of its
#: RGB network, the model's ``rgb`` (``model.init.rgb``)
Init = Literal["experts", "guide", "imagenet"]
#: what a stage starts from unless the spec says otherwise
_STAGE_INIT: dict[str, tuple[Init, ...]] = {"finetune": ("experts",), "guided": ("guide",)}


@runtime_checkable
class ActionModel(Protocol):
    """What the engine trains: input streams in, every branch's logits out (``"logits"`` is the
    prediction), and the model's own loss over its outputs."""

    streams: tuple[str, ...]

    def __call__(self, inputs: dict[str, Tensor]) -> dict[str, Tensor]: ...

    def compute_loss(self, outputs: dict[str, Tensor], labels: Tensor) -> dict[str, Tensor]: ...

    def example_inputs(self, batch: int = 1, frames: int = 64) -> dict[str, Tensor]: ...


@dataclass(frozen=True)
class ModelInputs:
    """What a model is sized for, the same for every registered model: built in one place from a
    store's description (:meth:`from_store`), or from a request's sizes (``profile``, tests).

    A model takes the fields of the streams it reads: a body stream the body layout, persons and
    channels; a hand stream the hand layout and the hand view's channels (two hands); an RGB
    stream the ST-ROI image's side.
    """

    num_classes: int = 60
    #: frames per sample (``data.window``)
    window: int = 64
    body_layout: str = "ntu25"
    body_persons: int = 2
    body_channels: int = 3
    hand_layout: str = "hand21_pad25"
    #: the hand view's channels: 6 with the wrist's trajectory (``data.hand_norm``)
    hand_channels: int = 3
    image_size: int = 225

    @classmethod
    def from_store(cls, meta: dict, window: int, hand_channels: int = 3) -> ModelInputs:
        """The sizes of a packed store's samples (its ``meta.json``) seen through a ``window``."""
        return cls(num_classes=meta["num_classes"], window=window, body_layout=meta["body_layout"],
                   body_persons=meta["num_persons"], body_channels=meta["channels"], hand_channels=hand_channels)

    def take(self, kwargs: dict) -> tuple[ModelInputs, dict]:
        """These sizes with those named in ``kwargs`` replaced, and the rest of ``kwargs`` (the options)."""
        names = {f.name for f in fields(self)}
        sizes = {k: v for k, v in kwargs.items() if k in names}
        return replace(self, **sizes), {k: v for k, v in kwargs.items() if k not in names}


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
    - ``init``: how its training may start (:data:`Init`); default: from the experts for
      ``finetune``, from a guide for ``guided``, from nothing otherwise.
    - ``guide_prefix``: for a model whose trained body features can guide a ``guided`` model,
      where its body backbone's weights are in its state dict (``"backbone."``).
    - ``guideless_streams``: for a ``guided`` model, the streams it reads when built without a
      guide (``guide="none"``); see :meth:`streams_for`.
    - ``tags``: the lists it belongs to, queried with ``list_models(tag=...)``: ``"quick"`` (the
      quick demo's models), ``"rgb-fused"`` (the skeleton models whose scores the ablation also
      fuses with the guided RGB stream's, as ``"<name> + RGB"``).
    """

    streams: tuple[str, ...]
    stage: Stage = "finetune"
    sources: tuple[tuple[str, str], ...] = ()
    attention: bool = False
    fusion: str | None = None
    init: tuple[Init, ...] | None = None
    guide_prefix: str | None = None
    guideless_streams: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.stage == "derived") != bool(self.sources):
            raise ValueError("a derived model names its sources, and only a derived model does")
        if self.init is None:
            object.__setattr__(self, "init", _STAGE_INIT.get(self.stage, ()))

    def streams_for(self, options: dict) -> tuple[str, ...]:
        """The streams the model built with ``options`` reads (without a guide, a guided model
        reads only its own stream)."""
        if self.guideless_streams and options.get("guide") == "none":
            return self.guideless_streams
        return self.streams


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
    """Register a model factory, ``factory(inputs: ModelInputs, **options)``, under ``name`` with its spec."""

    def add(fn: F) -> F:
        if name in _MODELS and _MODELS[name][0] is not fn:
            raise ValueError(f"model {name!r} is registered twice")
        _MODELS[name] = (fn, spec)
        return fn

    return add


def is_model(name: str) -> bool:
    """Whether ``name`` is a registered model."""
    return name in _MODELS


def list_models(stage: Stage | None = None, tag: str | None = None, init: Init | None = None) -> list[str]:
    """The registered models (of one ``stage``, with a ``tag``, that may start from ``init``), in
    registration order: experts first, then the models trained from them, then the derived ones,
    as the paper's tables list them."""
    return [name for name, (_, spec) in _MODELS.items()
            if (stage is None or spec.stage == stage) and (tag is None or tag in spec.tags)
            and (init is None or init in spec.init)]


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


def guide_models() -> list[str]:
    """The models whose trained body features can guide a ``guided`` model."""
    return [name for name, (_, spec) in _MODELS.items() if spec.guide_prefix]


def create_model(name: str, inputs: ModelInputs | None = None, **kwargs) -> nn.Module:
    """Build the model registered as ``name`` for ``inputs`` (default: :class:`ModelInputs`'s
    sizes); keyword arguments named like a field of :class:`ModelInputs` (``num_classes=10``,
    ``window=32``) replace that size, the others are the factory's options."""
    model_spec(name)  # a clear error for an unknown name
    inputs, options = (inputs or ModelInputs()).take(kwargs)
    return _MODELS[name][0](inputs, **options)
