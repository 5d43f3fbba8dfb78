"""`bharnet test` on a trained checkpoint: metrics per branch, scores files, perturbations."""

import numpy as np
import pytest

from bharnet.cli import main
from bharnet.engine.evaluate import test_checkpoint as run_test
from bharnet.engine.fit import fit
from bharnet.eval.scores import load_scores

pytestmark = pytest.mark.integration  # trains, then tests


@pytest.fixture(scope="module")
def checkpoint(make_sequence, tiny_config, write_store, tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    write_store(root / "s", [make_sequence(i, frames=20) for i in range(12)])
    return fit(tiny_config(root / "s", root, name="joint", model={"name": "joint"},
                           trainer={"max_epochs": 1}), quiet=True)["last"]


def test_scores_file_holds_every_branch_and_sample(checkpoint, tmp_path):
    metrics = run_test(checkpoint, out=tmp_path / "scores.npz")
    assert metrics["samples"] == 6 and {"top1", "top1_body", "top1_hand", "top1_fused"} <= set(metrics)
    scores = load_scores(tmp_path / "scores.npz")
    assert sorted(scores.names) == [f"s{i:03d}" for i in range(0, 12, 2)]
    assert {"logits", "body", "hand", "fused"} <= set(scores.logits)
    assert scores.meta["variant"] == "joint" and scores.meta["params"] > 0 and scores.meta["perturbation"] == "none"


def test_perturbation_changes_scores_deterministically(checkpoint, tmp_path):
    clean = run_test(checkpoint, out=tmp_path / "clean.npz", split="test")
    run_test(checkpoint, out=tmp_path / "a.npz", perturb="noise=0.5")
    run_test(checkpoint, out=tmp_path / "b.npz", perturb="noise=0.5")
    a, b = load_scores(tmp_path / "a.npz"), load_scores(tmp_path / "b.npz")
    np.testing.assert_array_equal(a.logits["logits"], b.logits["logits"])
    assert not np.allclose(a.logits["logits"], load_scores(tmp_path / "clean.npz").logits["logits"])
    assert clean["samples"] == 6


def test_test_time_augmentation_averages_views(checkpoint, tmp_path):
    one = run_test(checkpoint, out=tmp_path / "one.npz")
    three = run_test(checkpoint, out=tmp_path / "three.npz", clips=3)
    assert three["samples"] == one["samples"] and load_scores(tmp_path / "three.npz").meta["clips"] == 3
    assert not np.allclose(load_scores(tmp_path / "one.npz").logits["logits"],
                           load_scores(tmp_path / "three.npz").logits["logits"])


def test_cli_test_reports_a_missing_checkpoint_without_traceback(tmp_path, capsys):
    assert main(["test", str(tmp_path / "nope.ckpt")]) == 2
    assert "nope.ckpt not found" in capsys.readouterr().err


def test_cli_test_prints_json_metrics_on_the_device_asked(checkpoint, capsys):
    import json

    assert main(["test", str(checkpoint), "--json", "--device", "cpu"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["samples"] == 6 and 0 <= metrics["top1"] <= 1
