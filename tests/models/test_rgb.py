"""BHaRNet-M: guidance weights follow the body features, plain RGB without a guide, training, loading, export."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bharnet.core.errors import UserError
from bharnet.models import create_model
from bharnet.models.resnet import ResNet18, load_imagenet_weights, resolve_imagenet_weights
from bharnet.models.rgb import band_weights, joint_guidance
from bharnet.video.st_roi import ROI_PARTS, part_joints

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: one thread beats several

TINY = dict(num_classes=5, base_channels=8, window=16, image_size=45, rgb_width=8)


def _inputs(model, batch: int = 2) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    inputs = model.example_inputs(batch=batch, frames=16)
    return {k: torch.rand_like(v) for k, v in inputs.items()}


def test_raising_one_joints_features_raises_its_bands_weight() -> None:
    parts = part_joints("ntu25")
    torch.manual_seed(0)
    features = torch.rand(1, 16, 8, 25, 2) + 1.0
    before = joint_guidance(features, parts)
    right_hand = ROI_PARTS.index("right_hand")
    louder = features.clone()
    louder[:, :, :, parts[right_hand], 0] *= 3.0
    after = joint_guidance(louder, parts)
    assert after[0, right_hand] > before[0, right_hand] + 0.3
    assert after[0, right_hand] == after.max()
    assert ((after >= 0) & (after <= 2)).all()


def test_the_louder_person_guides() -> None:
    parts = part_joints("ntu25")
    features = torch.ones(1, 4, 6, 25, 2)
    features[..., 1] *= 5.0                                  # person 2 moves more
    features[:, :, :, parts[0], 1] *= 2.0                     # and its head stands out
    weights = joint_guidance(features, parts)
    assert weights[0, 0] == weights.max()


def test_band_weights_cover_the_rows_of_each_part() -> None:
    weights = torch.tensor([[0.0, 0.5, 1.0, 1.5, 2.0]])
    rows = band_weights(weights, 225)[0, 0, :, 0]
    assert rows[:45].eq(0).all() and rows[45:90].eq(0.5).all() and rows[180:].eq(2.0).all()


def test_guide_none_is_plain_rgb() -> None:
    model = create_model("bharnet-m", guide="none", **TINY).eval()
    assert model.streams == ("rgb",)
    inputs = _inputs(model)
    x = (inputs["rgb"] - model.mean) / model.std
    torch.testing.assert_close(model(inputs)["logits"], model.rgb(x))


def test_the_guide_weights_the_image_it_classifies() -> None:
    model = create_model("bharnet-m", **TINY).eval()
    inputs = _inputs(model)
    weights = model.part_weights(inputs)
    assert weights.shape == (2, len(ROI_PARTS))
    x = (inputs["rgb"] - model.mean) / model.std * band_weights(weights, 45)
    torch.testing.assert_close(model(inputs)["logits"], model.rgb(x))


@pytest.mark.parametrize("freeze", [True, False])
def test_forward_backward_trains_the_rgb_stream_and_the_guide_when_asked(freeze: bool) -> None:
    model = create_model("bharnet-m", freeze_guide=freeze, **TINY).train()
    out = model(_inputs(model))
    assert out["logits"].shape == (2, 5) and set(out) == {"logits", "rgb"}
    model.compute_loss(out, torch.tensor([0, 3]))["loss"].backward()
    assert model.rgb.conv1.weight.grad.abs().sum() > 0
    guide_grads = [p.grad for p in model.guide_backbone.parameters()]
    assert all(g is None for g in guide_grads) if freeze else any(g is not None for g in guide_grads)
    assert model.guide_backbone.training is not freeze


@pytest.mark.parametrize("guide,prefix", [("body-expert", ""), ("bharnet-e", "")])
def test_load_guide_from_the_trained_models_state(guide: str, prefix: str) -> None:
    model = create_model("bharnet-m", guide=guide, **TINY)
    kwargs = dict(num_classes=5, base_channels=8, window=16)
    trained = create_model("body-expert" if guide == "body-expert" else "bharnet-e", **kwargs,
                           **({} if guide == "body-expert" else {"heads": 2, "head_dim": 4, "nb_features": 8}))
    state = {f"model.{k}": v for k, v in trained.state_dict().items()}
    keys = model.load_guide(state)
    assert keys
    source = trained.backbone if guide == "body-expert" else trained.body_backbone
    for name, tensor in model.guide_backbone.state_dict().items():
        torch.testing.assert_close(tensor, source.state_dict()[name])
    with pytest.raises(ValueError, match="not a"):
        model.load_guide({"fc.weight": torch.zeros(1)})


def test_imagenet_weights_come_from_a_path_or_the_environment_never_a_download(tmp_path: Path,
                                                                                monkeypatch) -> None:
    weights = tmp_path / "resnet18.pth"
    source = ResNet18(num_classes=1000)
    torch.save(source.state_dict(), weights)
    monkeypatch.setenv("BHARNET_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("BHARNET_RESNET18_WEIGHTS", raising=False)
    with pytest.raises(UserError, match="no ImageNet ResNet-18 weights"):
        resolve_imagenet_weights()
    monkeypatch.setenv("BHARNET_RESNET18_WEIGHTS", str(weights))
    assert resolve_imagenet_weights() == weights
    model = create_model("bharnet-m", guide="none", num_classes=7, image_size=64, pretrained="imagenet")
    torch.testing.assert_close(model.rgb.layer4[1].conv2.weight, source.layer4[1].conv2.weight)
    assert model.rgb.fc.out_features == 7
    with pytest.raises(UserError, match="does not fit"):
        load_imagenet_weights(ResNet18(width=8), weights)
    (tmp_path / "noise.pth").write_bytes(bytes(range(256)) * 8)
    with pytest.raises(UserError, match=r"noise.pth is not a ResNet-18 state dict: not a PyTorch file") as info:
        load_imagenet_weights(ResNet18(width=8), tmp_path / "noise.pth")
    assert "weights_only" not in str(info.value)  # never the advice to load it in a way that runs code


@pytest.mark.slow  # the dynamo exporter takes minutes on a shared 2-core machine
def test_onnx_export_matches_pytorch(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from bharnet.tools.export import export_onnx

    model = create_model("bharnet-m", **TINY).eval()
    result = export_onnx(model, tmp_path / "m.onnx", frames=16)
    assert result["max_abs_diff"] < 1e-4
