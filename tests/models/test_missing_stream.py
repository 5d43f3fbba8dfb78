"""Two-stream models on samples whose body (or hands) is missing: no body in view, no hand seen.

The sample view gives a missing stream as zeros. A whole batch of zeros gives every batch norm of a
backbone no variance: unless the missing samples are kept out, its gradients overflow and leave NaN
weights after one step.
"""

from __future__ import annotations

import pytest
import torch

from bharnet.models import create_model, list_models, model_spec
from bharnet.models.bharnet import init_from_experts

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: one thread beats several

TWO_STREAM = [name for name in list_models() if {"body", "hand"} <= set(model_spec(name).streams)]
#: the two-stream models trained end to end (the derived ones wrap these or the experts)
TRAINED = [name for name in TWO_STREAM if model_spec(name).stage == "finetune"]
LABELS = torch.tensor([1, 3, 0, 4])


def tiny(name: str, backbone: str = "degcn") -> torch.nn.Module:
    torch.manual_seed(0)
    options = dict(backbone=backbone, num_classes=5, base_channels=8, window=16)
    if model_spec(name).attention:
        options.update(heads=2, head_dim=8, nb_features=16)
    return create_model(name, **options)


def batch(model: torch.nn.Module, body: bool = True, hands: bool = True) -> dict[str, torch.Tensor]:
    """Four random samples; a missing stream is zeros (and its hand mask zeros), as the sample view gives it."""
    g = torch.Generator().manual_seed(1)
    inputs = model.example_inputs(batch=len(LABELS), frames=16)
    inputs["body"] = torch.randn(inputs["body"].shape, generator=g) * body
    inputs["hand"] = torch.randn(inputs["hand"].shape, generator=g) * hands
    inputs["hand_mask"] = inputs["hand_mask"] * hands
    return inputs


def train_steps(model: torch.nn.Module, inputs: dict[str, torch.Tensor], steps: int = 3) -> list[float]:
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    losses = []
    for _ in range(steps):
        loss = model.compute_loss(model(inputs), LABELS)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def all_finite(model: torch.nn.Module) -> bool:
    return all(torch.isfinite(t).all() for t in model.state_dict().values() if t.is_floating_point())


def backbone_weights(model: torch.nn.Module, stream: str) -> dict[str, torch.Tensor]:
    """The float tensors (weights and running statistics) of a stream's backbone."""
    return {k: v.clone() for k, v in model.state_dict().items() if f"{stream}_backbone." in k and v.is_floating_point()}


@pytest.mark.parametrize(("name", "missing"), [(name, "body") for name in TWO_STREAM]
                         + [(name, "hand") for name in TRAINED])
def test_training_on_a_missing_stream_stays_finite(name: str, missing: str) -> None:
    model = tiny(name)
    present = "hand" if missing == "body" else "body"
    inputs = batch(model, body=missing != "body", hands=missing != "hand")
    before = {s: backbone_weights(model, s) for s in ("body", "hand")}
    losses = train_steps(model, inputs)
    assert all(torch.isfinite(torch.tensor(losses))), losses
    assert losses[-1] < losses[0]  # it learns from the stream it has
    assert all_finite(model)
    after = {s: backbone_weights(model, s) for s in ("body", "hand")}
    assert all(torch.equal(v, after[missing][k]) for k, v in before[missing].items())
    assert not all(torch.equal(v, after[present][k]) for k, v in before[present].items())
    out = model.eval()(inputs)
    assert all(torch.isfinite(v).all() for v in out.values())


@pytest.mark.parametrize("backbone", ["ctrgcn", "stgcn"])
def test_hand_only_training_leaves_the_body_alone_with_every_backbone(backbone: str) -> None:
    model = tiny("joint", backbone)
    before = backbone_weights(model, "body")
    train_steps(model, batch(model, body=False))
    assert all_finite(model)
    assert all(torch.equal(v, backbone_weights(model, "body")[k]) for k, v in before.items())


@pytest.mark.parametrize("name", TRAINED)
def test_a_bodyless_sample_is_classified_from_its_hands(name: str) -> None:
    model = tiny(name)
    train_steps(model, batch(model), steps=1)  # some running statistics of real bodies
    model.eval()
    inputs = batch(model)
    inputs["body"][1] = 0
    with torch.no_grad():
        out = model(inputs)
        alone = model({k: v[:1] for k, v in inputs.items()})
    body_branches = [k for k in out if k.startswith("body")]
    hand_branches = [k for k in out if k.startswith("hand")]
    assert body_branches and hand_branches
    for branch in body_branches:
        assert not out[branch][1].any() and out[branch][0].abs().sum() > 0
    assert torch.allclose(out["logits"][1], sum(out[b][1] for b in hand_branches))
    assert out["logits"][1].abs().sum() > 0
    # the other samples of the batch are unaffected by a body-less neighbour
    assert torch.allclose(out["logits"][:1], alone["logits"], atol=1e-5)


def test_a_batch_without_bodies_keeps_the_body_statistics() -> None:
    model = tiny("joint")
    norms = [m for m in model.body_backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    train_steps(model, batch(model), steps=1)
    seen = [m.running_var.clone() for m in norms]
    train_steps(model, batch(model, body=False), steps=1)
    assert all(torch.equal(m.running_var, v) for m, v in zip(norms, seen, strict=True))
    assert all(m.momentum == 0.1 for m in norms)
    train_steps(model, batch(model), steps=1)
    assert not all(torch.equal(m.running_var, v) for m, v in zip(norms, seen, strict=True))


def test_score_fusion_of_experts_is_the_sum_of_the_experts_with_a_stream_missing() -> None:
    fusion = tiny("score-fusion")
    experts = {stream: tiny(f"{stream}-expert") for stream in ("body", "hand")}
    for expert in experts.values():
        train_steps(expert, batch(fusion), steps=1)  # running statistics of data
    init_from_experts(fusion, experts["body"].state_dict(), experts["hand"].state_dict())
    inputs = batch(fusion)
    inputs["body"][1] = 0
    inputs["hand"][2], inputs["hand_mask"][2] = 0, 0
    with torch.no_grad():
        out = fusion.eval()(inputs)
        z_body, z_hand = (experts[s].eval()(inputs)["logits"] for s in ("body", "hand"))
    assert not z_body[1].any() and not z_hand[2].any()
    torch.testing.assert_close(out["logits"], z_body + z_hand)
