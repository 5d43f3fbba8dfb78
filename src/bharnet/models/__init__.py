"""Models: skeleton backbones, the BHaRNet family and the registry that names them."""

from . import backbones  # noqa: F401  (registers the backbones)
from . import bharnet as _variants  # noqa: F401  (registers the BHaRNet family)
from . import fusion as _fusion  # noqa: F401  (registers the fused variants)
from .registry import create_model, is_model, list_models, register_model

__all__ = ["create_model", "list_models", "register_model", "is_model"]
