"""The BHaRNet family: body and hand experts, their fusions, cross-attention, PAM and expertized branches.

Every model here follows one contract (the training engine relies on it):

* ``forward(inputs)`` takes ``{"body": (N, C, T, V, M), "hand": (N, C, T, 25, 2), "hand_mask":
  (N, 1, T, 25, 2)}`` (only the keys of ``model.streams`` are needed; ``hand_mask`` is optional,
  1 = landmark present) and returns a dict of logits ``(N, K)``: ``"logits"`` (the prediction)
  plus its named branches.
* A stream that is all zeros in a sample (no body in view, no hand seen) is missing there: every
  model gives that stream's features and branch logits as zeros (:func:`stream_features`,
  :func:`silence`), so a dual model classifies the sample by the other stream.
* ``compute_loss(outputs, labels)`` returns ``{"loss": total, <each term>: ...}``.
* ``streams``: the input keys it needs; ``example_inputs(batch, frames)``: zero inputs of the
  right shapes.

Variants (registered names):

===================  ==========================================================================
``body-expert``      one backbone + GAP + FC on the body stream; CE
``hand-expert``      the same on the hand stream (layout ``hand21_pad25``)
``score-fusion``     two experts, ``logits = z_B + z_H``; loss CE(z_B) + CE(z_H) (trained apart)
``joint``            the same logits; CE(z_B) + CE(z_H) + lambda CE((z_B + z_H) / 2)
``cross-attention``  exact multi-head cross-attention both ways on the feature maps, then GAP+FC
``fast-attention``   the same with FAVOR+ (all T*V*M tokens)
``bharnet-p``        FAVOR+ Pooling Attention Module (``pam.py``), FC per stream
``bharnet-e``        expertized (GAP+FC on raw features) + interactive (FAVOR+, then GAP+FC)
                     branches; ``logits = z_BE + z_HE + z_BI + z_HI``;
                     CE(z_BI) + CE(z_HI) + lambda CE(mean of the four)
``bharnet-e-expert`` a BHaRNet-E that computes only ``z_BE + z_HE`` (loads a BHaRNet-E checkpoint)
===================  ==========================================================================

For the dual models ``"fused"`` is ``(z_B + z_H) / 2`` (the complementary classifier) and
``"logits"`` is ``z_B + z_H``: same ranking, the sum is the paper's score fusion.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bharnet.core.layouts import get_layout
from bharnet.models.attention import StreamCrossAttention
from bharnet.models.losses import BranchLoss
from bharnet.models.pam import PoolingAttention
from bharnet.models.registry import ModelInputs, ModelSpec, create_backbone, register_model

__all__ = ["ClassifierHead", "ExpertModel", "DualStreamModel", "ScoreFusion",
           "CrossAttentionFusion", "BHaRNetP", "BHaRNetE", "expert_only", "init_from_experts", "valid_hand_tokens",
           "has_data", "silence", "stream_features"]



def _build_backbone(name: str, layout: str, in_channels: int, num_persons: int, base_channels: int,
                    window: int) -> nn.Module:
    """A headless backbone (``num_classes=0``): the models here own their heads."""
    return create_backbone(name, layout=layout, in_channels=in_channels, num_persons=num_persons, num_classes=0,
                           base_channels=base_channels, dropout=0.0, window=window)


class ClassifierHead(nn.Module):
    """Global average pooling over every axis after the channels, dropout, linear classifier."""

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(in_channels, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """``(N, C, ...)`` -> ``(N, K)``."""
        if x.dim() > 2:
            x = x.flatten(2).mean(-1)
        return self.fc(self.drop(x))


def _require(inputs: dict[str, Tensor], keys: tuple[str, ...], model: str) -> None:
    missing = [k for k in keys if k not in inputs]
    if missing:
        raise KeyError(f"{model} needs input streams {keys}; missing {missing} (got {sorted(inputs)})")


def valid_hand_tokens(inputs: dict[str, Tensor], hand_feats: Tensor, hand_dummy: tuple[int, ...]) -> Tensor:
    """Valid hand tokens ``(N, T_out, V, M)`` (bool) for features ``(N, C, T_out, V, M)``.

    A token is valid unless its joint is a padding (``hand_dummy``) joint or, when ``inputs`` has a
    ``hand_mask (N, 1, T, V, M)``, no frame of its temporal window had the landmark (max-pooled
    over time to ``T_out``).
    """
    n, _, t_out, v, m = hand_feats.shape
    valid = torch.ones(n, t_out, v, m, dtype=torch.bool, device=hand_feats.device)
    if "hand_mask" in inputs:
        mask = inputs["hand_mask"][:, 0].to(hand_feats.dtype)            # (N, T, V, M)
        t = mask.shape[1]
        seq = mask.permute(0, 2, 3, 1).reshape(n * v * m, 1, t)
        pooled = F.adaptive_max_pool1d(seq, t_out).view(n, v, m, t_out).permute(0, 3, 1, 2)
        valid = pooled > 0.5
    if hand_dummy:
        valid[:, :, list(hand_dummy)] = False
    return valid


def has_data(x: Tensor) -> Tensor:
    """``(N,)`` bool: True where a sample's stream ``x (N, ...)`` holds any non-zero value.

    The sample view gives a stream with nothing in it (no body in view, no hand ever seen) as
    zeros, so an all-zero sample is one whose stream is missing.
    """
    return x.flatten(1).ne(0).any(1)


def _per_sample(present: Tensor, like: Tensor) -> Tensor:
    return present.view(-1, *([1] * (like.dim() - 1)))


def silence(logits: Tensor, present: Tensor) -> Tensor:
    """``logits (N, K)`` with the rows of samples whose stream is missing set to zero: no evidence."""
    return torch.where(_per_sample(present, logits), logits, 0.0)


def stream_features(backbone: nn.Module, x: Tensor, present: Tensor) -> Tensor:
    """``backbone``'s feature map of ``x``, zero for the samples whose stream is missing (``present`` False).

    A batch norm over a stream that is zeros in every sample of the batch sees no variance and
    multiplies the gradient by ``1/sqrt(eps)`` (~316); through DeGCN's stacked norms that
    overflows to inf, then NaN, in the first step. The missing samples' features are replaced by
    zeros (not multiplied by 0: inf * 0 is NaN), so no gradient reaches the backbone from them; a
    training batch without the stream at all leaves the running statistics as they were.
    """
    if backbone.training and not bool(present.any()):
        with _running_statistics_kept(backbone):
            features = backbone.forward_features(x)
    else:
        features = backbone.forward_features(x)
    return torch.where(_per_sample(present, features), features, 0.0)


@contextmanager
def _running_statistics_kept(module: nn.Module) -> Iterator[None]:
    """Within it, the batch norms of ``module`` normalise by the batch but keep their running statistics."""
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, momentum in zip(norms, momenta, strict=True):
            m.momentum = momentum


class ExpertModel(nn.Module):
    """One stream (``"body"`` or ``"hand"``): backbone features, GAP, FC."""

    def __init__(self, stream: str = "body", backbone: str = "degcn", num_classes: int = 60, layout: str | None = None,
                 in_channels: int = 3, num_persons: int = 2, base_channels: int = 64, window: int = 64,
                 dropout: float = 0.0, label_smoothing: float = 0.1) -> None:
        super().__init__()
        if stream not in ("body", "hand"):
            raise ValueError(f"stream must be 'body' or 'hand', got {stream!r}")
        self.stream = stream
        self.streams = (stream,)
        self.layout = get_layout(layout or ("ntu25" if stream == "body" else "hand21_pad25"))
        self.in_channels, self.num_persons, self.window = in_channels, num_persons, window
        self.backbone = _build_backbone(backbone, self.layout.name, in_channels, num_persons, base_channels, window)
        self.head = ClassifierHead(self.backbone.out_channels, num_classes, dropout)
        self.loss = BranchLoss(individual=(stream,), lambda_cpl=0.0, label_smoothing=label_smoothing)

    def forward(self, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
        _require(inputs, self.streams, type(self).__name__)
        x = inputs[self.stream]
        present = has_data(x)  # as in the dual models, so that their sum of experts is these experts' sum
        z = silence(self.head(stream_features(self.backbone, x, present)), present)
        return {"logits": z, self.stream: z}

    def compute_loss(self, outputs: dict[str, Tensor], labels: Tensor) -> dict[str, Tensor]:
        return self.loss(outputs, labels)

    def example_inputs(self, batch: int = 1, frames: int = 64) -> dict[str, Tensor]:
        shape = (batch, self.in_channels, frames, self.layout.num_joints, self.num_persons)
        return {self.stream: torch.zeros(shape)}


class DualStreamModel(nn.Module):
    """Body and hand backbones with a GAP+FC head each; subclasses decide how the streams meet.

    Attribute names are shared by every dual model so that :func:`init_from_experts` can load
    experts into any of them: ``body_backbone``, ``hand_backbone``, ``body_head``, ``hand_head``.
    """

    streams = ("body", "hand")
    #: what ``init_from_experts`` multiplies an expert's FC by when loading it into ``*_head``
    expert_head_scale = 1.0

    def __init__(self, backbone: str = "degcn", num_classes: int = 60, body_layout: str = "ntu25",
                 hand_layout: str = "hand21_pad25", in_channels: int = 3, body_persons: int = 2,
                 base_channels: int = 64, window: int = 64, dropout: float = 0.0, lambda_cpl: float = 1.0,
                 label_smoothing: float = 0.1, hand_channels: int = 3) -> None:
        super().__init__()
        #: constructor arguments (so that a sibling model, e.g. the expert-only one, can be built alike)
        self.config = dict(backbone=backbone, num_classes=num_classes, body_layout=body_layout,
                           hand_layout=hand_layout, in_channels=in_channels, body_persons=body_persons,
                           base_channels=base_channels, window=window, dropout=dropout, lambda_cpl=lambda_cpl,
                           label_smoothing=label_smoothing, hand_channels=hand_channels)
        self.num_classes = num_classes
        self.body_layout, self.hand_layout = get_layout(body_layout), get_layout(hand_layout)
        self.in_channels, self.body_persons, self.window = in_channels, body_persons, window
        self.hand_channels = hand_channels  # the hand view's: 6 with the wrist's trajectory (data.hand_norm)
        self.lambda_cpl, self.label_smoothing = lambda_cpl, label_smoothing
        self.body_backbone = _build_backbone(backbone, self.body_layout.name, in_channels, body_persons,
                                             base_channels, window)
        self.hand_backbone = _build_backbone(backbone, self.hand_layout.name, hand_channels, 2, base_channels, window)
        self.channels = self.body_backbone.out_channels
        self.body_head = ClassifierHead(self.channels, num_classes, dropout)
        self.hand_head = ClassifierHead(self.channels, num_classes, dropout)
        self.frozen: set[str] = set()
        self.loss = BranchLoss(individual=("body", "hand"), complementary=("body", "hand"), lambda_cpl=lambda_cpl,
                               label_smoothing=label_smoothing)

    def presence(self, inputs: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """Which samples have a body and which have hands, ``(N,)`` bool each (see :func:`has_data`)."""
        _require(inputs, self.streams, type(self).__name__)
        return has_data(inputs["body"]), has_data(inputs["hand"])

    def features(self, inputs: dict[str, Tensor],
                 presence: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        """Both backbones' feature maps ``(N, C, T_out, V, M)``, zero where a sample's stream is missing."""
        body_present, hand_present = self.presence(inputs) if presence is None else presence
        return (stream_features(self.body_backbone, inputs["body"], body_present),
                stream_features(self.hand_backbone, inputs["hand"], hand_present))

    def hand_token_mask(self, inputs: dict[str, Tensor], hand_feats: Tensor) -> Tensor:
        """Valid hand tokens of the feature map (see :func:`valid_hand_tokens`)."""
        return valid_hand_tokens(inputs, hand_feats, self.hand_layout.dummy)

    def _pair(self, z_body: Tensor, z_hand: Tensor, presence: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        """The dual outputs; a missing stream's logits are zero, so its sample is classified by the other."""
        z_body, z_hand = silence(z_body, presence[0]), silence(z_hand, presence[1])
        return {"logits": z_body + z_hand, "body": z_body, "hand": z_hand, "fused": (z_body + z_hand) / 2}

    def forward(self, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
        presence = self.presence(inputs)
        body, hand = self.features(inputs, presence)
        return self._pair(self.body_head(body), self.hand_head(hand), presence)

    def compute_loss(self, outputs: dict[str, Tensor], labels: Tensor) -> dict[str, Tensor]:
        return self.loss(outputs, labels)

    def example_inputs(self, batch: int = 1, frames: int = 64) -> dict[str, Tensor]:
        body = (batch, self.in_channels, frames, self.body_layout.num_joints, self.body_persons)
        hand = (batch, self.hand_channels, frames, self.hand_layout.num_joints, 2)
        return {"body": torch.zeros(body), "hand": torch.zeros(hand),
                "hand_mask": torch.ones(batch, 1, frames, self.hand_layout.num_joints, 2)}

    def train(self, mode: bool = True) -> DualStreamModel:
        """As ``nn.Module.train``, but frozen backbones stay in eval mode (their BN statistics too)."""
        super().train(mode)
        for name in self.frozen:
            getattr(self, name).eval()
        return self


class ScoreFusion(DualStreamModel):
    """Two experts side by side, ``logits = z_B + z_H``.

    ``complementary=False`` ("score-fusion"): the loss is CE(z_B) + CE(z_H), which trains the two
    experts exactly as apart (no parameter is shared). ``complementary=True`` ("joint") adds
    ``lambda_cpl * CE((z_B + z_H) / 2)``.
    """

    def __init__(self, complementary: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        if not complementary:
            self.loss = BranchLoss(individual=("body", "hand"), lambda_cpl=0.0, label_smoothing=self.label_smoothing)


class CrossAttentionFusion(DualStreamModel):
    """Cross-attention both ways between the feature maps, then each stream's GAP+FC.

    ``F_B' = F_B + Attn(F_B -> F_H)`` and ``F_H' = F_H + Attn(F_H -> F_B)`` over the tokens
    ``tokens`` (``"tvm"``: every (t, v, m) of the map; ``"tv"``: instances averaged) of
    :class:`~bharnet.models.attention.StreamCrossAttention`; padded hand joints and missing hands
    are masked as keys. ``kernel`` is ``"softmax"`` (exact) or ``"favor"`` (FAVOR+).
    Loss: individual CE on z_B and z_H plus ``lambda_cpl`` x complementary CE.
    """

    def __init__(self, kernel: str = "favor", tokens: str = "tvm", heads: int = 8, head_dim: int = 64,
                 nb_features: int = 256, redraw_interval: int | None = 1000, attention_dropout: float = 0.0,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.attention = StreamCrossAttention(self.channels, heads=heads, head_dim=head_dim, kernel=kernel,
                                              tokens=tokens, nb_features=nb_features,
                                              redraw_interval=redraw_interval, dropout=attention_dropout)

    def forward(self, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
        presence = self.presence(inputs)
        body, hand = self.features(inputs, presence)
        body, hand = self.attention(body, hand, hand_mask=self.hand_token_mask(inputs, hand))
        return self._pair(self.body_head(body), self.hand_head(hand), presence)


class BHaRNetP(DualStreamModel):
    """BHaRNet-P: the Pooling Attention Module (FAVOR+) on both streams, then one FC per stream.

    ``z_B = FC_B(p_T + p_V + p_M)`` for the body's three pooled views (see ``pam.py``), ``z_H``
    likewise; loss as ``joint``.
    """

    def __init__(self, heads: int = 8, head_dim: int = 64, nb_features: int = 256,
                 redraw_interval: int | None = 1000, attention_dropout: float = 0.0, kernel: str = "favor",
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.pam = PoolingAttention(self.channels, heads=heads, head_dim=head_dim, kernel=kernel,
                                    nb_features=nb_features, redraw_interval=redraw_interval,
                                    dropout=attention_dropout)
        # the FC reads the sum of the pooled views, each close to the expert's GAP
        self.expert_head_scale = 1.0 / len(self.pam.axes)

    def forward(self, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
        presence = self.presence(inputs)
        body, hand = self.features(inputs, presence)
        p_body, p_hand = self.pam(body, hand, hand_mask=self.hand_token_mask(inputs, hand))
        return self._pair(self.body_head(p_body), self.hand_head(p_hand), presence)


_INTERACTIVE_PREFIXES = ("attention.", "body_inter_head.", "hand_inter_head.")


class BHaRNetE(DualStreamModel):
    """BHaRNet-E: expertized and interactive branches on each backbone.

    ``z_BE = FC_BE(GAP(F_B))`` and ``z_HE = FC_HE(GAP(F_H))`` (``body_head``/``hand_head``: the
    expertized branches, raw features); ``z_BI = FC_BI(GAP(F_B + Attn(F_B -> F_H)))`` and
    ``z_HI`` likewise (FAVOR+ over all tokens; no residual between the branches besides the
    shared backbone). ``logits = z_BE + z_HE + z_BI + z_HI``.

    Loss: ``CE(z_BI) + CE(z_HI) + lambda_cpl * CE((z_BE + z_HE + z_BI + z_HI) / 4)`` - individual
    terms only on the interactive branches, the complementary term over the mean of all four.

    ``expert_only=True`` ("bharnet-e-expert") builds no interactive part and returns
    ``logits = z_BE + z_HE``; it loads a full BHaRNet-E state dict (the interactive weights are
    skipped), so it gives exactly the trained model's ``z_BE + z_HE``.
    """

    def __init__(self, expert_only: bool = False, kernel: str = "favor", tokens: str = "tvm", heads: int = 8,
                 head_dim: int = 64, nb_features: int = 256, redraw_interval: int | None = 1000,
                 attention_dropout: float = 0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.expert_only = expert_only
        self.config.update(kernel=kernel, tokens=tokens, heads=heads, head_dim=head_dim, nb_features=nb_features,
                           redraw_interval=redraw_interval, attention_dropout=attention_dropout)
        if expert_only:
            self._register_load_state_dict_pre_hook(_drop_interactive_keys)
            self.loss = BranchLoss(individual=("body_expert", "hand_expert"), lambda_cpl=0.0,
                                   label_smoothing=self.label_smoothing)
            return
        dropout = self.config["dropout"]
        self.attention = StreamCrossAttention(self.channels, heads=heads, head_dim=head_dim, kernel=kernel,
                                              tokens=tokens, nb_features=nb_features,
                                              redraw_interval=redraw_interval, dropout=attention_dropout)
        self.body_inter_head = ClassifierHead(self.channels, self.num_classes, dropout)
        self.hand_inter_head = ClassifierHead(self.channels, self.num_classes, dropout)
        branches = ("body_expert", "hand_expert", "body_inter", "hand_inter")
        self.loss = BranchLoss(individual=("body_inter", "hand_inter"), complementary=branches,
                               lambda_cpl=self.lambda_cpl, label_smoothing=self.label_smoothing)

    def forward(self, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
        (body_present, hand_present) = presence = self.presence(inputs)
        body, hand = self.features(inputs, presence)
        z_be, z_he = silence(self.body_head(body), body_present), silence(self.hand_head(hand), hand_present)
        if self.expert_only:
            return {"logits": z_be + z_he, "body_expert": z_be, "hand_expert": z_he}
        body_i, hand_i = self.attention(body, hand, hand_mask=self.hand_token_mask(inputs, hand))
        z_bi = silence(self.body_inter_head(body_i), body_present)
        z_hi = silence(self.hand_inter_head(hand_i), hand_present)
        return {"logits": z_be + z_he + z_bi + z_hi, "body_expert": z_be, "hand_expert": z_he,
                "body_inter": z_bi, "hand_inter": z_hi}


def _drop_interactive_keys(state_dict: dict, prefix: str, *args) -> None:
    """Load-state-dict pre-hook of an expert-only BHaRNet-E: ignore the interactive branches' weights."""
    for key in [k for k in state_dict if k.startswith(prefix) and k[len(prefix):].startswith(_INTERACTIVE_PREFIXES)]:
        del state_dict[key]


def expert_only(model: BHaRNetE) -> BHaRNetE:
    """The light inference model of a trained BHaRNet-E: same backbones and expertized FCs, ``z_BE + z_HE``.

    The copy shares no tensors with ``model``; it is in ``model``'s train/eval mode.
    """
    if not isinstance(model, BHaRNetE):
        raise TypeError(f"expert_only needs a BHaRNetE, got {type(model).__name__}")
    light = BHaRNetE(expert_only=True, **model.config)
    light.load_state_dict(model.state_dict())
    device = next(model.parameters()).device
    return light.to(device).train(model.training)


def _strip_to_expert(state: dict[str, Tensor], stream: str) -> dict[str, Tensor]:
    """An expert's tensors with keys as ``ExpertModel.state_dict()`` names them.

    Accepts a wrapped state dict too (e.g. a training module's ``model.backbone.*``): the prefix in
    front of ``backbone.`` is removed.
    """
    prefixes = {k[: k.index("backbone.")] for k in state if "backbone." in k}
    prefixes = {p for p in prefixes if p == "" or p.endswith(".")}
    if len(prefixes) != 1:
        found = sorted({k.split(".")[0] for k in state})
        raise ValueError(f"the {stream} state dict is not one expert's state_dict(): expected 'backbone.*' "
                         f"tensors under one prefix, found prefixes {sorted(prefixes)} (top-level keys {found})")
    prefix = prefixes.pop()
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def init_from_experts(model: DualStreamModel, body_state: dict[str, Tensor], hand_state: dict[str, Tensor],
                      freeze: bool = False) -> dict[str, list[str]]:
    """Load two trained experts (``ExpertModel.state_dict()`` of "body-expert" / "hand-expert") into a dual model.

    The expert's ``backbone.*`` go to ``body_backbone.*`` / ``hand_backbone.*`` (strictly: every
    backbone tensor must be present and of the same shape). The expert's FC goes to the dual
    model's ``body_head`` / ``hand_head`` when the shapes match (for BHaRNet-E the expertized
    branches; for BHaRNet-P scaled by 1/3 since its FC reads the sum of three views). With
    ``freeze=True`` the backbones stop learning: no gradients, and they stay in eval mode (BN
    statistics fixed) through ``model.train()``.

    A state dict wrapped under a prefix (``model.backbone.*``, as a training module saves it) is
    accepted. Returns ``{"body": [loaded keys of model], "hand": [...]}``.
    """
    loaded: dict[str, list[str]] = {}
    for stream, full_state in (("body", body_state), ("hand", hand_state)):
        state = _strip_to_expert(full_state, stream)
        backbone: nn.Module = getattr(model, f"{stream}_backbone")
        sub = {k[len("backbone."):]: v for k, v in state.items() if k.startswith("backbone.")}
        backbone.load_state_dict(sub, strict=True)
        keys = [f"{stream}_backbone.{k}" for k in sub]
        head: ClassifierHead = getattr(model, f"{stream}_head")
        weight, bias = state.get("head.fc.weight"), state.get("head.fc.bias")
        if weight is not None and bias is not None and weight.shape == head.fc.weight.shape:
            with torch.no_grad():
                head.fc.weight.copy_(weight * model.expert_head_scale)
                head.fc.bias.copy_(bias * model.expert_head_scale)
            keys += [f"{stream}_head.fc.weight", f"{stream}_head.fc.bias"]
        loaded[stream] = keys
        if freeze:
            backbone.requires_grad_(False)
            model.frozen.add(f"{stream}_backbone")
    model.train(model.training)
    return loaded


# ---------------------------------------------------------------- registered variants

DUAL = ("body", "hand")
#: the state-dict prefix of a body backbone, for the models that can guide BHaRNet-M
EXPERT_BODY, DUAL_BODY = "backbone.", "body_backbone."


def _expert_sizes(inputs: ModelInputs, stream: str) -> dict:
    """An expert's constructor sizes for one stream (a hand stream: the two hands)."""
    if stream == "body":
        sizes = dict(layout=inputs.body_layout, num_persons=inputs.body_persons, in_channels=inputs.body_channels)
    else:
        sizes = dict(layout=inputs.hand_layout, num_persons=2, in_channels=inputs.hand_channels)
    return dict(num_classes=inputs.num_classes, window=inputs.window, **sizes)


def _dual_sizes(inputs: ModelInputs) -> dict:
    """A dual-stream model's constructor sizes."""
    return dict(num_classes=inputs.num_classes, window=inputs.window, body_layout=inputs.body_layout,
                body_persons=inputs.body_persons, in_channels=inputs.body_channels, hand_layout=inputs.hand_layout,
                hand_channels=inputs.hand_channels)


@register_model("body-expert", ModelSpec(streams=("body",), stage="expert", guide_prefix=EXPERT_BODY, tags=("quick",)))
def body_expert(inputs: ModelInputs, **options) -> ExpertModel:
    """The body expert: one backbone (default DeGCN) on ``inputs["body"]``, layout ``ntu25``."""
    return ExpertModel(stream="body", **_expert_sizes(inputs, "body"), **options)


@register_model("hand-expert", ModelSpec(streams=("hand",), stage="expert", tags=("quick",)))
def hand_expert(inputs: ModelInputs, **options) -> ExpertModel:
    """The hand expert: the same network on ``inputs["hand"]``, layout ``hand21_pad25``, two hands."""
    return ExpertModel(stream="hand", **_expert_sizes(inputs, "hand"), **options)


@register_model("score-fusion", ModelSpec(
    DUAL, stage="derived", sources=(("body-expert", "logits"), ("hand-expert", "logits")),
    tags=("quick", "rgb-fused")))
def score_fusion(inputs: ModelInputs, **options) -> ScoreFusion:
    """Two experts trained apart, predicting ``z_B + z_H``."""
    return ScoreFusion(complementary=False, **_dual_sizes(inputs), **options)


@register_model("joint", ModelSpec(DUAL, tags=("quick", "rgb-fused")))
def joint(inputs: ModelInputs, **options) -> ScoreFusion:
    """Two experts trained jointly with the complementary loss."""
    return ScoreFusion(complementary=True, **_dual_sizes(inputs), **options)


@register_model("cross-attention", ModelSpec(DUAL, attention=True))
def cross_attention(inputs: ModelInputs, **options) -> CrossAttentionFusion:
    """Exact (softmax) cross-attention both ways; instance-averaged tokens (T*V) by default."""
    options.setdefault("tokens", "tv")
    return CrossAttentionFusion(kernel="softmax", **_dual_sizes(inputs), **options)


@register_model("fast-attention", ModelSpec(DUAL, attention=True))
def fast_attention(inputs: ModelInputs, **options) -> CrossAttentionFusion:
    """FAVOR+ cross-attention both ways over all T*V*M tokens."""
    return CrossAttentionFusion(kernel="favor", **_dual_sizes(inputs), **options)


@register_model("bharnet-p", ModelSpec(DUAL, attention=True))
def bharnet_p(inputs: ModelInputs, **options) -> BHaRNetP:
    """BHaRNet-P: FAVOR+ Pooling Attention Module."""
    return BHaRNetP(**_dual_sizes(inputs), **options)


@register_model("bharnet-e", ModelSpec(DUAL, attention=True, guide_prefix=DUAL_BODY, tags=("rgb-fused",)))
def bharnet_e(inputs: ModelInputs, **options) -> BHaRNetE:
    """BHaRNet-E: expertized + interactive (FAVOR+) branches."""
    return BHaRNetE(expert_only=False, **_dual_sizes(inputs), **options)


@register_model("bharnet-e-expert", ModelSpec(
    DUAL, stage="derived", attention=True, sources=(("bharnet-e", "body_expert"), ("bharnet-e", "hand_expert"))))
def bharnet_e_expert(inputs: ModelInputs, **options) -> BHaRNetE:
    """BHaRNet-E's light inference model (``z_BE + z_HE``); load a trained BHaRNet-E state dict into it."""
    return BHaRNetE(expert_only=True, **_dual_sizes(inputs), **options)
