"""BHaRNet-M: an RGB stream on ST-ROI images, guided by the body expert (after MMNet).

``forward({"rgb": (N, 3, S, S) in [0, 1], "body": (N, C, T, V, M)})`` returns ``{"logits", "rgb"}``.
The ST-ROI image (:mod:`bharnet.video.st_roi`) has one horizontal band per body part (head, hands,
feet). A skeleton network (the guide) reads the body; each part's weight is, as in MMNet:

1. the feature magnitude ``||F[:, t, v, m]||_2`` over channels of the guide's last feature map;
2. of the person with the larger mean magnitude;
3. min-max scaled over that person's frames and joints (0..1);
4. per part, the mean over its joints, then the mean of its ``top_k`` largest values over time;
5. times 2, so that the weights lie in [0, 2] around 1 (MMNet scales to 0..255, divides by 127).

The ImageNet-normalised image is multiplied band by band by these weights, then a ResNet-18
classifies it. Differences from MMNet: the scaling is per sample, not over the batch, so that a
prediction does not depend on its batch-mates; a part is the mean of its joints (wrist and hand
for a hand), not one joint.

``guide``: a model whose spec names where its body backbone is (``guide_prefix``):
``body-expert`` (a trained body expert's backbone), ``bharnet-e`` (the body backbone of a trained
BHaRNet-E, whose body-expertized branch reads exactly these features, as the paper does); or
``none`` (plain RGB: no skeleton input, every weight 1). Only the guide's body backbone is built;
:meth:`BHaRNetM.load_guide` takes the trained model's state dict. The guide is frozen by default:
it must keep giving the features of the trained skeleton model (trained through the RGB loss it
would drift towards whatever helps the image, and the J / B scores it is ensembled with would no
longer come from the network that guided the RGB stream), and a frozen guide costs no backward
pass. ``freeze_guide=False`` trains it too, through the weights.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from bharnet.core.layouts import get_layout
from bharnet.models.losses import BranchLoss
from bharnet.models.registry import ModelInputs, ModelSpec, create_backbone, guide_models, model_spec, register_model
from bharnet.models.resnet import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    ResNet18,
    load_imagenet_weights,
    resolve_imagenet_weights,
)
from bharnet.video.st_roi import part_joints

__all__ = ["guides", "BHaRNetM", "joint_guidance", "band_weights"]

#: the guide that is none: plain RGB
NO_GUIDE = "none"


def guides() -> tuple[str, ...]:
    """What ``guide`` may be: a model that can guide (its spec says where its body backbone is), or none."""
    return (*guide_models(), NO_GUIDE)


def joint_guidance(features: Tensor, parts: list[list[int]], top_k: int = 15) -> Tensor:
    """Per-part weights ``(N, P)`` in [0, 2] from guide features ``(N, C, T, V, M)`` (see the module doc)."""
    magnitude = features.pow(2).sum(1).clamp_min(1e-12).sqrt()        # (N, T, V, M)
    person = magnitude.mean((1, 2)).argmax(-1)                        # (N,)
    index = person.view(-1, 1, 1, 1).expand(-1, *magnitude.shape[1:3], 1)
    magnitude = magnitude.gather(3, index).squeeze(3)                 # (N, T, V)
    low = magnitude.amin((1, 2), keepdim=True)
    high = magnitude.amax((1, 2), keepdim=True)
    scaled = (magnitude - low) / (high - low).clamp_min(1e-6)
    per_part = torch.stack([scaled[:, :, joints].mean(-1) for joints in parts], -1)  # (N, T, P)
    k = min(top_k, per_part.shape[1])
    return 2.0 * per_part.topk(k, dim=1).values.mean(1)


def band_weights(weights: Tensor, size: int) -> Tensor:
    """``(N, P)`` part weights -> a ``(N, 1, size, 1)`` row-weight map (band p = rows of part p)."""
    parts = weights.shape[1]
    band = torch.div(torch.arange(size, device=weights.device) * parts, size, rounding_mode="floor")
    return weights[:, band].view(weights.shape[0], 1, size, 1)


class BHaRNetM(nn.Module):
    """The guided RGB stream (see the module docstring); ``pretrained``: ``None`` (random init),
    ``"imagenet"`` (weights from the environment or cache, no download), ``"imagenet-download"``
    (also download), or a path to a torchvision-format ResNet-18 state dict."""

    def __init__(self, guide: str = "body-expert", num_classes: int = 60, backbone: str = "degcn",
                 body_layout: str = "ntu25", in_channels: int = 3, body_persons: int = 2, base_channels: int = 64,
                 window: int = 64, dropout: float = 0.0, label_smoothing: float = 0.1, image_size: int = 225,
                 rgb_width: int = 64, pretrained: str | None = None, freeze_guide: bool = True,
                 top_k: int = 15, hand_layout: str | None = None, **_dual_settings) -> None:
        super().__init__()
        if guide not in guides():
            raise ValueError(f"guide must be one of {guides()}, not {guide!r}")
        self.guide, self.window, self.image_size, self.top_k = guide, window, image_size, top_k
        self.body_layout = get_layout(body_layout)
        self.in_channels, self.body_persons = in_channels, body_persons
        self.streams = ("rgb",) if guide == NO_GUIDE else ("body", "rgb")
        self.parts = part_joints(self.body_layout.name)
        self.rgb = ResNet18(num_classes=num_classes, width=rgb_width, dropout=dropout)
        if pretrained:
            weights = resolve_imagenet_weights(None if pretrained.startswith("imagenet") else pretrained,
                                               download=pretrained == "imagenet-download")
            load_imagenet_weights(self.rgb, weights)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.guide_backbone = None
        self.freeze_guide = freeze_guide
        if guide != NO_GUIDE:
            self.guide_backbone = create_backbone(backbone, layout=self.body_layout.name, in_channels=in_channels,
                                               num_persons=body_persons, num_classes=0, base_channels=base_channels,
                                               dropout=0.0, window=window)
            if freeze_guide:
                self.guide_backbone.requires_grad_(False)
        self.loss = BranchLoss(individual=("rgb",), lambda_cpl=0.0, label_smoothing=label_smoothing)

    def load_guide(self, state: dict[str, Tensor]) -> list[str]:
        """Load the guide from a trained ``body-expert`` / ``bharnet-e`` state dict (prefixes such as a
        training module's ``model.`` are accepted); returns the loaded keys."""
        if self.guide_backbone is None:
            raise ValueError("guide 'none' has no skeleton network to load")
        marker = model_spec(self.guide).guide_prefix
        keys = [k for k in state if marker in k and k.split(marker)[0] in ("", "model.")]
        if not keys:
            raise ValueError(f"the state dict has no '{marker}*' tensors: not a {self.guide} model")
        sub = {k.split(marker, 1)[1]: state[k] for k in keys}
        self.guide_backbone.load_state_dict(sub, strict=True)
        return keys

    def train(self, mode: bool = True) -> BHaRNetM:
        """As ``nn.Module.train``, but a frozen guide stays in eval mode (its BN statistics too)."""
        super().train(mode)
        if self.guide_backbone is not None and self.freeze_guide:
            self.guide_backbone.eval()
        return self

    def part_weights(self, inputs: dict[str, Tensor]) -> Tensor | None:
        """The per-part weights ``(N, P)`` the guide gives, or None without a guide."""
        if self.guide_backbone is None:
            return None
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze_guide):
            features = self.guide_backbone.forward_features(inputs["body"])
        return joint_guidance(features, self.parts, self.top_k)

    def forward(self, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
        x = (inputs["rgb"] - self.mean) / self.std
        weights = self.part_weights(inputs)
        if weights is not None:
            x = x * band_weights(weights, x.shape[2])
        z = self.rgb(x)
        return {"logits": z, "rgb": z}

    def compute_loss(self, outputs: dict[str, Tensor], labels: Tensor) -> dict[str, Tensor]:
        return self.loss(outputs, labels)

    def example_inputs(self, batch: int = 1, frames: int = 64) -> dict[str, Tensor]:
        inputs = {"rgb": torch.zeros(batch, 3, self.image_size, self.image_size)}
        if "body" in self.streams:
            inputs["body"] = torch.zeros(batch, self.in_channels, frames, self.body_layout.num_joints,
                                         self.body_persons)
        return inputs


@register_model("bharnet-m", ModelSpec(streams=("body", "rgb"), stage="guided", init=("guide", "imagenet"),
                                       guideless_streams=("rgb",), tags=("quick",)))
def bharnet_m(inputs: ModelInputs, **options) -> BHaRNetM:
    """BHaRNet-M: ResNet-18 on ST-ROI images, weighted per body part by the body expert's features."""
    return BHaRNetM(num_classes=inputs.num_classes, window=inputs.window, body_layout=inputs.body_layout,
                    body_persons=inputs.body_persons, in_channels=inputs.body_channels, image_size=inputs.image_size,
                    **options)
