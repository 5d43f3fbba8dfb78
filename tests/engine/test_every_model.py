"""Every registered model from its spec alone: built for a store, profiled, trained one step,
saved, loaded (same logits) and exported to ONNX (same outputs)."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from bharnet.engine.checkpoints import load_checkpoint, save_checkpoint
from bharnet.engine.config import make_config, to_dict
from bharnet.engine.module import ActionModule
from bharnet.models import create_model, list_models, model_spec
from bharnet.models.cost import count_cost

#: a store's description as `bharnet prepare` writes it
STORE = {"num_classes": 4, "body_layout": "ntu25", "num_persons": 2, "channels": 3}
FRAMES = 8

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: one thread beats several


def tiny_module(name: str) -> ActionModule:
    """A narrow ``name`` for :data:`STORE`; what the spec says the model reads or takes decides the settings."""
    spec = model_spec(name)
    model = {"name": name, "base_channels": 4, "attention": {"heads": 2, "head_dim": 4, "nb_features": 8}}
    if "rgb" in spec.streams:
        model["kwargs"] = {"image_size": 30, "rgb_width": 4}
    torch.manual_seed(0)
    data = {"window": FRAMES, "store": "unused", "hand_norm": "wrist"}
    return ActionModule(to_dict(make_config({"data": data, "model": model})), STORE)


def random_inputs(module: ActionModule, batch: int = 2) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    inputs = module.model.example_inputs(batch=batch, frames=FRAMES)
    return {k: (v if k == "hand_mask" else torch.randn(v.shape, generator=g)) for k, v in inputs.items()}


def train_one_step(module: ActionModule) -> None:
    module.train()
    params = [p for p in module.parameters() if p.requires_grad]
    before = [p.detach().clone() for p in params]
    outputs = module(random_inputs(module, batch=4))
    loss = module.model.compute_loss(outputs, torch.tensor([0, 1, 2, 3]))["loss"]
    loss.backward()
    torch.optim.SGD(params, lr=0.1).step()
    assert torch.isfinite(loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, params, strict=True))


@pytest.mark.integration  # trains a step of every model
@pytest.mark.parametrize("name", list_models())
def test_every_model_builds_profiles_trains_saves_and_loads(name: str, tmp_path) -> None:
    module = tiny_module(name)
    spec = model_spec(name)
    assert module.streams == spec.streams_for(module.config["model"]["kwargs"])
    inputs = random_inputs(module)
    assert set(spec.streams) <= set(inputs)
    cost = count_cost(module.model, module.model.example_inputs(batch=1, frames=FRAMES))
    assert cost["params"] > 0 and cost["macs"] > 0
    train_one_step(module)
    module.eval()
    with torch.no_grad():
        want = module(inputs)
    assert want["logits"].shape == (2, STORE["num_classes"])
    loaded = load_checkpoint(save_checkpoint(module, tmp_path / "model.ckpt"))
    with torch.no_grad():
        got = loaded(inputs)
    assert list(got) == list(want)
    for branch in want:
        torch.testing.assert_close(got[branch], want[branch])


@pytest.mark.parametrize("name", [n for n in list_models() if model_spec(n).guideless_streams])
def test_a_guided_model_without_its_guide_reads_what_its_spec_says(name: str) -> None:
    model = create_model(name, guide="none", num_classes=4, window=FRAMES, image_size=30, rgb_width=4)
    assert model.streams == model_spec(name).streams_for({"guide": "none"}) != model_spec(name).streams


@pytest.mark.slow
@pytest.mark.parametrize("name", list_models())
def test_every_model_exports_to_onnx(name: str, tmp_path) -> None:
    for package in ("onnx", "onnxscript", "onnxruntime"):
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"ONNX export needs {package}")
    from bharnet.tools.export import export_onnx

    module = tiny_module(name).eval()
    result = export_onnx(module.model, tmp_path / "model.onnx", frames=FRAMES, batch=2)
    assert result["outputs"][0] == "logits" and result["max_abs_diff"] < 1e-3
