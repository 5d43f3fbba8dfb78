"""The demo's machinery on a tiny BodyHand-Synth: every variant trains, results are written, resume skips."""

import json

import numpy as np
import pytest

from bharnet.engine import evaluate  # the module: a bare test_checkpoint here would be collected as a test
from bharnet.eval.scores import load_scores
from bharnet.store.packed import SkeletonStore
from bharnet.workflows.ablation import RGB_FUSED
from bharnet.workflows.demo import DEMO_VARIANTS, QUICK_VARIANTS, demo_config, run_demo

pytestmark = pytest.mark.integration  # trains

TINY = ["data.synth.num_samples=260", "data.window=16", "data.batch_size=16", "model.base_channels=8",
        "trainer.max_epochs=1", "rgb_stage.trainer.max_epochs=1"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return out, run_demo(out, quick=True, variants=list(DEMO_VARIANTS), overrides=TINY)


def test_demo_writes_results_for_every_variant(demo):
    out, results = demo
    on_disk = json.loads((out / "results.json").read_text())
    assert list(on_disk["models"]) == [*DEMO_VARIANTS, *(f"{v} + RGB" for v in RGB_FUSED)]
    assert all("top1_object_classes" in r for r in on_disk["models"].values())
    for name, r in on_disk["models"].items():
        assert 0 <= r["top1"] <= 1, name
        assert {"top1_hand_classes", "top1_body_classes", "params", "macs", "train_seconds"} <= set(r), name
    assert (out / "report.md").read_text().count("|") > 20 and (out / "confusion.png").stat().st_size > 10_000


def test_expert_only_variant_is_lighter_than_bharnet_e(demo):
    _, results = demo
    models = results["models"]
    assert models["bharnet-e-expert"]["params"] < models["bharnet-e"]["params"]
    assert models["score-fusion"]["params"] == models["body-expert"]["params"] + models["hand-expert"]["params"]
    assert models["bharnet-e + RGB"]["params"] == models["bharnet-e"]["params"] + models["bharnet-m"]["params"]


def test_quick_demo_has_its_class_subset_and_a_few_variants(demo):
    out, results = demo
    cfg = demo_config(True, out)
    assert SkeletonStore(results["store"]).classes == list(cfg.data.synth.classes)
    assert len(cfg.data.synth.classes) == 14 and cfg.data.batch_size == 16 and cfg.data.synth.rgb
    assert "bharnet-m" in QUICK_VARIANTS and cfg.rgb_stage.model.kwargs.image_size == 120


def test_a_second_run_reuses_finished_variants(demo, capsys):
    out, results = demo
    scores = out / "runs" / "joint" / "test_scores.npz"
    before = load_scores(scores).branch()
    scores.unlink()  # as in a folder of an earlier version, which kept its test logits in another file
    again = run_demo(out, quick=True, variants=list(DEMO_VARIANTS), overrides=TINY)
    assert again["models"]["joint"]["top1"] == results["models"]["joint"]["top1"]
    assert again["models"]["joint + RGB"] == results["models"]["joint + RGB"]
    assert "done earlier" in capsys.readouterr().out
    assert np.array_equal(load_scores(scores).branch(), before)  # tested again from its checkpoint


def test_derived_variants_have_checkpoints_that_bharnet_test_takes(demo):
    out, results = demo
    for variant in ("score-fusion", "bharnet-e-expert", "reliability-fusion", "noisy-or", "bharnet-e-reliability"):
        metrics = evaluate.test_checkpoint(out / "runs" / variant / "checkpoints" / "last.ckpt")
        assert metrics["top1"] == pytest.approx(results["models"][variant]["top1"]), variant


def test_fused_variants_fit_on_the_validation_split_only(demo):
    from bharnet.engine.checkpoints import load_checkpoint
    from bharnet.engine.evaluate import evaluate_split
    from bharnet.engine.module import SkeletonDataModule
    from bharnet.models.fusion import fit_fusion

    out, results = demo
    fusion = results["models"]["noisy-or"]["fusion"]
    assert fusion["fitted_on"] == "val" and fusion["method"] == "noisy-or"
    source = load_checkpoint(out / "runs" / "score-fusion" / "checkpoints" / "last.ckpt")
    data = SkeletonDataModule(source.config["data"], source.streams, source.config["seed"])
    assert fusion["samples"] == len(data.store.split("val"))
    val = evaluate_split(source, data, "val")
    refit = fit_fusion(val.logits, val.labels, ["body", "hand"], "noisy-or")
    assert np.allclose(refit.temperature.numpy(), fusion["temperature"])
    chosen = results["models"]["reliability-fusion"]["fusion"]
    assert chosen["method"] in chosen["cv_top1"]


def test_fused_variant_refuses_to_fit_on_the_test_split(demo):
    from bharnet.core.errors import UserError
    from bharnet.engine.derived import build_derived
    from bharnet.workflows.ablation import ablation_config

    out, results = demo
    cfg = ablation_config(None, [f"data.store={results['store']}", "data.val_split=test",
                                 "model.name=reliability-fusion", f"out_dir={out / 'refused'}"])
    with pytest.raises(UserError, match="validation split"):
        build_derived(cfg, {})
    assert not (out / "refused").exists()


def test_the_experts_train_side_by_side_on_a_cpu_and_match_one_at_a_time(tmp_path, monkeypatch, capsys, one_thread):
    """Two processes give each expert the same weights as training it alone (same seed, same data)."""
    from bharnet.workflows import ablation

    overrides = [*TINY, "data.synth.num_samples=120"]
    together = run_demo(tmp_path / "together", quick=True, variants=["score-fusion"], overrides=overrides)
    assert all((tmp_path / "together/runs" / e / "checkpoints/best.ckpt").exists() for e in ablation.EXPERTS)
    assert "training side by side" in capsys.readouterr().out
    monkeypatch.setattr(ablation, "usable_cores", lambda: 1)
    alone = run_demo(tmp_path / "alone", quick=True, variants=["score-fusion"], overrides=overrides)
    assert "side by side" not in capsys.readouterr().out
    for variant in ("body-expert", "hand-expert", "score-fusion"):
        assert together["models"][variant]["top1"] == pytest.approx(alone["models"][variant]["top1"]), variant
