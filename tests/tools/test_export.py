"""ONNX export round trip: ONNX Runtime gives PyTorch's outputs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch

from bharnet.cli import export as export_cli
from bharnet.engine.config import make_config
from bharnet.engine.fit import fit
from bharnet.models import create_model
from bharnet.models.backbones.degcn import DeformableTemporalConv
from bharnet.tools.export import live_graph_path, onnx_session, prepare_for_export, written_by_export

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

pytestmark = pytest.mark.integration  # trains and exports


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


def test_checkpoint_export_round_trip(make_sequence, write_store, tmp_path, capsys, monkeypatch) -> None:
    """A short training run's checkpoint through ``bharnet export --json``: ONNX Runtime gives PyTorch's logits,
    and the graph is also where ``live`` looks for it."""
    monkeypatch.setenv("BHARNET_CACHE", str(tmp_path / "cache"))
    store = tmp_path / "store"
    write_store(store, [make_sequence(i, frames=20) for i in range(8)])
    config = {"data": {"window": 16, "batch_size": 4, "eval_batch_size": 8, "num_workers": 0, "val_split": "test"},
              "model": {"name": "body-expert", "backbone": "degcn", "base_channels": 8},
              "trainer": {"max_epochs": 1, "accelerator": "cpu", "devices": 1, "enable_progress_bar": False}}
    result = fit(make_config(config, {"name": "run", "out_dir": str(tmp_path), "data": {"store": str(store)}}),
                 quiet=True)
    parser = argparse.ArgumentParser()
    export_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["export", str(result["last"]), "--onnx", str(tmp_path / "m.onnx"), "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["inputs"] == {"body": [1, 3, 16, 25, 2]}
    assert out["outputs"] == ["logits", "body_logits"]  # graph names differ from the input "body"
    assert out["max_abs_diff"] <= 1e-4
    session = onnx_session(tmp_path / "m.onnx", threads=1)
    assert [o.name for o in session.get_outputs()] == out["outputs"]
    assert written_by_export(tmp_path / "m.onnx")  # marked: a later export may replace it
    assert out["cached"] == str(live_graph_path(result["last"])) and Path(out["cached"]).is_file()
    assert not any(p.name.endswith(".part") for p in tmp_path.iterdir())
