"""A registry of named models, in the style of timm.

``@register_model`` puts a factory function under a name; ``create_model(name, **kwargs)``
calls it. Backbones and the BHaRNet variants register themselves when their module is imported
(``bharnet.models`` imports them all).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, overload

import torch.nn as nn

from ..errors import UserError

__all__ = ["register_model", "create_model", "list_models", "is_model"]

F = TypeVar("F", bound=Callable[..., nn.Module])
_REGISTRY: dict[str, Callable[..., nn.Module]] = {}


@overload
def register_model(fn: F) -> F: ...
@overload
def register_model(name: str) -> Callable[[F], F]: ...


def register_model(fn_or_name):  # type: ignore[no-untyped-def]
    """Register a model factory, bare (``@register_model``: the function's name, ``_`` -> ``-``)
    or named (``@register_model("bharnet-e")``)."""

    def add(fn: F, name: str) -> F:
        if name in _REGISTRY and _REGISTRY[name] is not fn:
            raise ValueError(f"model {name!r} is registered twice")
        _REGISTRY[name] = fn
        return fn

    if isinstance(fn_or_name, str):
        return lambda fn: add(fn, fn_or_name)
    return add(fn_or_name, fn_or_name.__name__.replace("_", "-"))


def is_model(name: str) -> bool:
    """Whether ``name`` is registered."""
    return name in _REGISTRY


def list_models() -> list[str]:
    """The registered model names, sorted."""
    return sorted(_REGISTRY)


def create_model(name: str, **kwargs) -> nn.Module:
    """Build the model registered as ``name`` with the factory's keyword arguments."""
    if name not in _REGISTRY:
        raise UserError(f"unknown model {name!r}; known: {', '.join(list_models())}")
    return _REGISTRY[name](**kwargs)
