"""The demo's machinery on a tiny BodyHand-Synth: every variant trains, results are written, resume skips."""

import json

import pytest

from bharnet.engine.evaluate import test_checkpoint
from bharnet.workflows.ablation import VARIANTS
from bharnet.workflows.demo import run_demo

TINY = ["data.synth.num_samples=260", "data.window=16", "data.batch_size=16", "model.base_channels=8",
        "trainer.max_epochs=1"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return out, run_demo(out, quick=True, overrides=TINY)


def test_demo_writes_results_for_every_variant(demo):
    out, results = demo
    on_disk = json.loads((out / "results.json").read_text())
    assert list(on_disk["models"]) == list(VARIANTS)
    for name, r in on_disk["models"].items():
        assert 0 <= r["top1"] <= 1, name
        assert {"top1_hand_classes", "top1_body_classes", "params", "macs", "train_seconds"} <= set(r), name
    assert (out / "report.md").read_text().count("|") > 20 and (out / "confusion.png").stat().st_size > 10_000


def test_expert_only_variant_is_lighter_than_bharnet_e(demo):
    _, results = demo
    models = results["models"]
    assert models["bharnet-e-expert"]["params"] < models["bharnet-e"]["params"]
    assert models["score-fusion"]["params"] == models["body-expert"]["params"] + models["hand-expert"]["params"]


def test_a_second_run_reuses_finished_variants(demo, capsys):
    out, results = demo
    again = run_demo(out, quick=True, overrides=TINY)
    assert again["models"]["joint"]["top1"] == results["models"]["joint"]["top1"]
    assert "done earlier" in capsys.readouterr().out


def test_derived_variants_have_checkpoints_that_bharnet_test_takes(demo):
    out, results = demo
    for variant in ("score-fusion", "bharnet-e-expert"):
        metrics = test_checkpoint(out / "runs" / variant / "checkpoints" / "last.ckpt")
        assert metrics["top1"] == pytest.approx(results["models"][variant]["top1"]), variant
