"""A body-and-hands recipe trained on clips with no body in view: it warns, stays finite and predicts
from the hands."""

import numpy as np
import pytest
import torch

from bharnet.engine import evaluate
from bharnet.engine.config import CONFIGS, load_config
from bharnet.engine.fit import fit
from bharnet.eval.scores import load_scores
from bharnet.synth.store import write_synth_store

pytestmark = pytest.mark.integration  # trains


@pytest.fixture(scope="module")
def hand_only_store(tmp_path_factory):
    return write_synth_store(tmp_path_factory.mktemp("synth") / "air", num_samples=42, preset="hand-only",
                             max_frames=40)


@pytest.mark.parametrize("model", ["joint", "bharnet-e"])
def test_a_two_stream_recipe_on_bodyless_clips(hand_only_store, tmp_path, capsys, one_thread, model):
    cfg = load_config(CONFIGS / "recipes" / "gestures-cpu.yaml",
                      [f"data.store={hand_only_store}", f"out_dir={tmp_path}", f"model.name={model}",
                       "trainer.max_epochs=2", "data.window=8"])
    result = fit(cfg, resume=False, quiet=False)
    err = capsys.readouterr().err
    assert f"warning: {hand_only_store}: no body in view" in err and "hand-gestures-cpu.yaml" in err
    state = torch.load(result["last"], map_location="cpu", weights_only=True)["state_dict"]
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())
    scores_file = tmp_path / "scores.npz"
    evaluate.test_checkpoint(result["last"], out=scores_file)
    scores = load_scores(scores_file)
    body = [b for b in scores.logits if b.startswith("body")]
    assert body and all(not np.any(scores.logits[b]) for b in body)
    assert np.isfinite(scores.logits["logits"]).all() and np.any(scores.logits["logits"])
