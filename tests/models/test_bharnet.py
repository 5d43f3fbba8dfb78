"""The BHaRNet family: the model contract, losses' gradients, expert loading, expert-only inference."""

from __future__ import annotations

import pytest
import torch

from bharnet.models import create_model
from bharnet.models.bharnet import BHaRNetE, expert_only, init_from_experts, valid_hand_tokens

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: one thread beats several

VARIANTS = ["body-expert", "hand-expert", "score-fusion", "joint", "cross-attention", "fast-attention", "bharnet-p",
            "bharnet-e", "bharnet-e-expert"]
DUAL = VARIANTS[2:]
BACKBONES = ["degcn", "ctrgcn", "stgcn"]
ATTENTION = dict(heads=2, head_dim=8, nb_features=16)
BRANCHES = {"body-expert": {"body"}, "hand-expert": {"hand"}, "bharnet-e": {"body_expert", "hand_expert", "body_inter",
            "hand_inter"}, "bharnet-e-expert": {"body_expert", "hand_expert"}}


def tiny(name: str, backbone: str = "degcn", **kwargs) -> torch.nn.Module:
    torch.manual_seed(0)
    options = dict(backbone=backbone, num_classes=5, base_channels=8, window=16, **kwargs)
    if name in DUAL and name not in ("score-fusion", "joint"):
        options.update(ATTENTION)
    return create_model(name, **options)


def random_inputs(model: torch.nn.Module, batch: int = 2) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    inputs = model.example_inputs(batch=batch, frames=16)
    return {k: (v if k == "hand_mask" else torch.randn(v.shape, generator=g)) for k, v in inputs.items()}


LABELS = torch.tensor([1, 3])


@pytest.mark.parametrize("backbone", BACKBONES)
@pytest.mark.parametrize("name", VARIANTS)
def test_forward_backward(name: str, backbone: str) -> None:
    model = tiny(name, backbone)
    inputs = random_inputs(model)
    assert set(model.streams) <= set(inputs)
    out = model(inputs)
    assert set(out) == {"logits"} | BRANCHES.get(name, {"body", "hand", "fused"})
    assert all(v.shape == (2, 5) for v in out.values())
    losses = model.compute_loss(out, LABELS)
    assert torch.isfinite(losses["loss"])
    losses["loss"].backward()
    for stream in model.streams:
        module = model.backbone if len(model.streams) == 1 else getattr(model, f"{stream}_backbone")
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters()), stream


def test_paper_sized_construction() -> None:
    model = create_model("bharnet-e", backbone="ctrgcn", num_classes=10, base_channels=16, window=32)
    assert model.num_classes == 10 and model.streams == ("body", "hand")


def test_logits_are_sums_of_branches() -> None:
    model = tiny("bharnet-e").eval()
    out = model(random_inputs(model))
    total = out["body_expert"] + out["hand_expert"] + out["body_inter"] + out["hand_inter"]
    assert torch.allclose(out["logits"], total)
    joint = tiny("joint").eval()
    out = joint(random_inputs(joint))
    assert torch.allclose(out["logits"], out["body"] + out["hand"])
    assert torch.allclose(out["fused"], (out["body"] + out["hand"]) / 2)


def _grad_norm(module: torch.nn.Module) -> float:
    return sum(float(p.grad.abs().sum()) for p in module.parameters() if p.grad is not None)


def test_complementary_gradient_reaches_both_experts() -> None:
    model = tiny("joint")
    losses = model.compute_loss(model(random_inputs(model)), LABELS)
    losses["cpl"].backward()
    for part in ("body_backbone", "hand_backbone", "body_head", "hand_head"):
        assert _grad_norm(getattr(model, part)) > 0, part


def test_score_fusion_trains_experts_apart() -> None:
    model = tiny("score-fusion")
    losses = model.compute_loss(model(random_inputs(model)), LABELS)
    assert "cpl" not in losses
    losses["ce_body"].backward()
    assert _grad_norm(model.body_backbone) > 0 and _grad_norm(model.hand_backbone) == 0


def test_bharnet_e_losses_by_branch() -> None:
    model = tiny("bharnet-e")
    out = model(random_inputs(model))
    losses = model.compute_loss(out, LABELS)
    assert set(losses) == {"loss", "ce_body_inter", "ce_hand_inter", "cpl"}
    mean4 = torch.stack([out[k] for k in ("body_expert", "hand_expert", "body_inter", "hand_inter")]).mean(0)
    assert torch.allclose(losses["cpl"], torch.nn.functional.cross_entropy(mean4, LABELS, label_smoothing=0.1))
    (losses["ce_body_inter"] + losses["ce_hand_inter"]).backward(retain_graph=True)
    assert _grad_norm(model.body_head) == 0 and _grad_norm(model.hand_head) == 0   # no individual CE on experts
    losses["cpl"].backward()
    assert _grad_norm(model.body_head) > 0 and _grad_norm(model.hand_head) > 0


def _perturbed(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Random weights and BN statistics, so that loaded tensors differ from fresh ones."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for t in [*model.parameters(), *(b for b in model.buffers() if b.is_floating_point())]:
            t.add_(0.1 * torch.randn(t.shape, generator=g)).abs_() if t.dim() == 1 else t.add_(
                0.1 * torch.randn(t.shape, generator=g))
    return model


@pytest.mark.parametrize("name", ["joint", "fast-attention", "bharnet-p", "bharnet-e"])
def test_init_from_experts_loads_weights(name: str) -> None:
    body = _perturbed(tiny("body-expert"), 1).state_dict()
    hand = _perturbed(tiny("hand-expert"), 2).state_dict()
    model = tiny(name)
    loaded = init_from_experts(model, body, hand)
    scale = model.expert_head_scale
    for stream, state in (("body", body), ("hand", hand)):
        target = model.state_dict()
        for key, value in state.items():
            if key.startswith("backbone."):
                assert torch.equal(target[f"{stream}_{key}"], value), key
        assert torch.allclose(target[f"{stream}_head.fc.weight"], state["head.fc.weight"] * scale)
        assert f"{stream}_head.fc.weight" in loaded[stream]
        assert len(loaded[stream]) == sum(k.startswith("backbone.") for k in state) + 2
    assert (scale == pytest.approx(1 / 3)) == (name == "bharnet-p")


def test_init_from_experts_freeze() -> None:
    model = tiny("bharnet-e")
    init_from_experts(model, tiny("body-expert").state_dict(), tiny("hand-expert").state_dict(), freeze=True)
    model.train()
    assert not any(p.requires_grad for p in model.body_backbone.parameters())
    assert not model.body_backbone.training and not model.hand_backbone.training
    assert model.attention.training and all(p.requires_grad for p in model.attention.parameters())


def test_init_from_experts_accepts_wrapped_state() -> None:
    body = {f"model.{k}": v for k, v in _perturbed(tiny("body-expert"), 4).state_dict().items()}
    model = tiny("joint")
    init_from_experts(model, body, tiny("hand-expert").state_dict())
    assert torch.equal(model.body_head.fc.weight, body["model.head.fc.weight"])


def test_init_from_experts_rejects_other_state() -> None:
    with pytest.raises(ValueError, match="backbone"):
        init_from_experts(tiny("joint"), {"x.weight": torch.zeros(1)}, {})


def test_expert_only_is_exactly_the_expertized_branches() -> None:
    model = _perturbed(tiny("bharnet-e"), 3).eval()
    inputs = random_inputs(model)
    with torch.no_grad():
        full = model(inputs)
        light = expert_only(model)(inputs)
        loaded = tiny("bharnet-e-expert")
        loaded.load_state_dict(model.state_dict())
        reloaded = loaded.eval()(inputs)
    expected = full["body_expert"] + full["hand_expert"]
    assert torch.equal(light["logits"], expected)
    assert torch.equal(reloaded["logits"], expected)
    assert not hasattr(loaded, "attention")
    assert sum(p.numel() for p in loaded.parameters()) < sum(p.numel() for p in model.parameters())
    assert isinstance(loaded, BHaRNetE) and loaded.expert_only


def test_valid_hand_tokens_pool_time_and_drop_dummies() -> None:
    hand_mask = torch.ones(1, 1, 16, 25, 2)
    hand_mask[..., 1] = 0                 # right hand never seen
    hand_mask[:, :, :8, :, 0] = 0         # left hand missing in the first half
    feats = torch.zeros(1, 4, 4, 25, 2)   # T_out = 4
    valid = valid_hand_tokens({"hand_mask": hand_mask}, feats, hand_dummy=(21, 22, 23, 24))
    assert valid.shape == (1, 4, 25, 2)
    assert not valid[..., 1].any()
    assert valid[0, 2:, :21, 0].all() and not valid[0, :2, :, 0].any()
    assert not valid[0, :, 21:].any()


@pytest.mark.parametrize("name", ["cross-attention", "fast-attention", "bharnet-p", "bharnet-e"])
def test_clip_without_any_hand_is_finite(name: str) -> None:
    model = tiny(name).eval()
    inputs = random_inputs(model)
    inputs["hand_mask"] = torch.zeros_like(inputs["hand_mask"])
    out = model(inputs)
    assert all(torch.isfinite(v).all() for v in out.values())


def test_missing_stream_is_named() -> None:
    model = tiny("joint")
    with pytest.raises(KeyError, match="hand"):
        model({"body": torch.zeros(1, 3, 16, 25, 2)})


@pytest.mark.parametrize("name", ["cross-attention", "fast-attention", "bharnet-p", "bharnet-e"])
def test_streams_of_different_layouts(name: str) -> None:
    model = tiny(name, body_layout="ucla20", body_persons=1, hand_layout="hand21")
    inputs = random_inputs(model)
    assert inputs["body"].shape[-2:] == (20, 1) and inputs["hand"].shape[-2:] == (21, 2)
    out = model(inputs)
    assert out["logits"].shape == (2, 5)
    model.compute_loss(out, LABELS)["loss"].backward()
