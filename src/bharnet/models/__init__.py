"""Models: skeleton backbones, the BHaRNet family and the registries that name them."""

from bharnet.models import backbones  # noqa: F401  (registers the backbones)
from bharnet.models import bharnet as _variants  # noqa: F401  (registers the BHaRNet family)
from bharnet.models import fusion as _fusion  # noqa: F401  (registers the fused variants)
from bharnet.models import rgb as _rgb  # noqa: F401  (registers BHaRNet-M, after the skeleton models)
from bharnet.models.registry import (
    ActionModel,
    ModelInputs,
    ModelSpec,
    create_backbone,
    create_model,
    expert_for,
    guide_models,
    is_model,
    list_backbones,
    list_models,
    model_spec,
    register_backbone,
    register_model,
)

__all__ = ["ActionModel", "ModelInputs", "ModelSpec", "create_backbone", "create_model", "expert_for", "guide_models",
           "is_model", "list_backbones", "list_models", "model_spec", "register_backbone", "register_model"]
