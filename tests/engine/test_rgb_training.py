"""BHaRNet-M through the engine: a guided run from a trained body expert, its scores file, J + RGB fused."""

from __future__ import annotations

import pytest
import torch

from bharnet.core.errors import UserError
from bharnet.engine.checkpoints import load_checkpoint, load_model_state
from bharnet.engine.evaluate import test_checkpoint as score_checkpoint
from bharnet.engine.fit import fit
from bharnet.eval.ensemble import ensemble
from bharnet.synth.objects import select_classes
from bharnet.synth.store import write_synth_rgb_store

pytestmark = pytest.mark.integration  # trains

RGB = {"image_size": 120, "rgb_width": 8}


@pytest.fixture(scope="module")
def rgb_store(tmp_path_factory):
    classes = select_classes(["squat", "hold_red_cup", "hold_blue_cup"])
    return write_synth_rgb_store(tmp_path_factory.mktemp("rgb") / "s", num_samples=24, seed=0, classes=classes,
                                 min_frames=20, max_frames=30)


@pytest.mark.slow  # two short trainings and two test passes: minutes on a shared 2-core machine
def test_guided_run_scores_file_and_ensemble(rgb_store, tmp_path, tiny_config):
    expert = fit(tiny_config(rgb_store, tmp_path, "body", trainer={"max_epochs": 1}), quiet=True)["last"]
    cfg = tiny_config(rgb_store, tmp_path, "m", trainer={"max_epochs": 1},
                      model={"name": "bharnet-m", "kwargs": RGB, "init": {"guide": str(expert)}})
    result = fit(cfg, quiet=True)
    module = load_checkpoint(result["last"])
    assert module.streams == ("body", "rgb")
    guide = load_model_state(expert)
    for name, tensor in module.model.guide_backbone.state_dict().items():  # frozen: still the expert's
        torch.testing.assert_close(tensor, guide[f"backbone.{name}"])
    rgb_scores, body_scores = tmp_path / "rgb.npz", tmp_path / "body.npz"
    metrics = score_checkpoint(result["last"], out=rgb_scores)
    assert "top1_rgb" in metrics
    score_checkpoint(expert, out=body_scores)
    fused = ensemble([str(body_scores), str(rgb_scores)], mode="softmax")
    assert fused.fused.shape == (len(fused.labels), 3)


def test_a_guide_that_is_not_a_skeleton_model_is_a_clear_error(rgb_store, tmp_path, tiny_config):
    plain = fit(tiny_config(rgb_store, tmp_path, "plain", trainer={"max_epochs": 1},
                            model={"name": "bharnet-m", "kwargs": {**RGB, "guide": "none"}}), quiet=True)["last"]
    cfg = tiny_config(rgb_store, tmp_path, "bad", model={"name": "bharnet-m", "kwargs": RGB,
                                                         "init": {"guide": str(plain)}})
    with pytest.raises(UserError, match="not a body-expert model"):
        fit(cfg, quiet=True)
