"""Models: skeleton backbones, the BHaRNet variants, and the registry that names them."""

from . import backbones, bharnet  # noqa: F401  (register the backbones and the BHaRNet variants)
from .registry import create_model, is_model, list_models, register_model

__all__ = ["create_model", "list_models", "register_model", "is_model"]
