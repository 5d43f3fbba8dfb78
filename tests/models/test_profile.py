"""Cost counting and the ``profile`` command."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn as nn

from bharnet.cli import main
from bharnet.models import create_backbone, create_model
from bharnet.models.cost import count_cost


def test_degcn_cost_is_the_papers() -> None:
    model = create_backbone("degcn", num_classes=60)
    cost = count_cost(model, torch.randn(1, 3, 64, 25, 2))
    assert cost["params"] == 690_527
    assert cost["macs"] == pytest.approx(830_767_360, rel=0.01)
    # with every matrix product of the published network once (docs/models.md), however computed
    assert cost["macs_all"] == 1_015_087_360


def test_conventions_on_small_layers() -> None:
    class Tiny(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(2, 4, (3, 1), padding=(1, 0))
            self.bn = nn.BatchNorm2d(4)
            self.fc = nn.Linear(4, 5)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.bn(self.conv(x))  # (1, 4, 6, 3)
            z = torch.einsum("nctv,nctw->nvw", y, y)  # matmul: 3 * 3 * 24 multiply-adds
            return self.fc(y.mean((2, 3))) + z.sum()

    cost = count_cost(Tiny(), torch.randn(1, 2, 6, 3))
    conv = 4 * 6 * 3 * 2 * 3
    bn = 4 * (4 * 6 * 3)
    fc = 5 * 4
    assert cost["macs"] == conv + bn + fc
    assert cost["macs_all"] == conv + bn + fc + 3 * 3 * 24


def test_count_cost_restores_training_mode() -> None:
    model = create_backbone("stgcn", base_channels=8, num_classes=3).train()
    count_cost(model, model.example_inputs(16))
    assert model.training


def test_a_model_is_counted_on_its_own_device() -> None:
    """A model trained on a GPU was counted with CPU example inputs: a device mismatch ended the
    demo there. The meta device stands in for the GPU."""
    here = create_model("body-expert", num_classes=5, base_channels=8, backbone="stgcn")
    elsewhere = create_model("body-expert", num_classes=5, base_channels=8, backbone="stgcn").to("meta")
    assert count_cost(elsewhere, elsewhere.example_inputs(batch=1, frames=16)) == \
        count_cost(here, here.example_inputs(batch=1, frames=16))


@pytest.mark.integration  # the command end to end
def test_profile_command_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "hand-expert", "--frames", "16", "--num-classes", "11", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["variant"] == "hand-expert" and out["backbone"] == "degcn"
    assert out["input"] == {"hand": [1, 3, 16, 25, 2]}
    assert out["params"] == 690_527 - (60 - 11) * 257  # only the classifier changes
    assert 0 < out["macs"] < out["macs_all"]


@pytest.mark.integration  # the command end to end
def test_profile_command_table_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "ctrgcn", "--frames", "8"]) == 0
    assert "params" in capsys.readouterr().out
    assert main(["profile", "no-such-model"]) == 2
    assert "unknown model" in capsys.readouterr().err
