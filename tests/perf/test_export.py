"""ONNX export round trip: ONNX Runtime gives PyTorch's outputs."""

from __future__ import annotations

import pytest
import torch

from bharnet.export import export_onnx, onnx_session, prepare_for_export
from bharnet.models import create_model
from bharnet.models.backbones.degcn import DeformableTemporalConv

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


def tiny(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    model = create_model(name, num_classes=5, base_channels=8, window=16)
    with torch.no_grad():  # batch-norm statistics of the data, so that the logits are of order one
        model.train()
        model(model.example_inputs(batch=4, frames=16) | {"body": torch.randn(4, 3, 16, 25, 2),
                                                           "hand": torch.randn(4, 3, 16, 25, 2)})
        for m in model.modules():
            if isinstance(m, DeformableTemporalConv):
                m.offsets.add_(torch.tensor([0.3, -0.2, 0.1, 0.45]))  # fractional taps, as after training
    return model.eval()


def test_fixed_kernel_gives_the_same_outputs() -> None:
    model = tiny("body-expert")
    fixed = prepare_for_export(model)
    x = {"body": torch.randn(2, 3, 16, 25, 2)}
    with torch.no_grad():
        torch.testing.assert_close(fixed(x)["logits"], model(x)["logits"])
    assert model.backbone.blocks[1].tcn.deform1.temporal.fixed_kernel is None  # the original is untouched


def test_onnx_round_trip(tmp_path) -> None:
    model = tiny("body-expert")
    result = export_onnx(model, tmp_path / "model.onnx", frames=16)
    assert result["outputs"] == ["logits", "body_logits"]  # graph names differ from the input "body"
    assert result["max_abs_diff"] <= 1e-4
    session = onnx_session(tmp_path / "model.onnx", threads=1)
    assert [o.name for o in session.get_outputs()] == result["outputs"]
