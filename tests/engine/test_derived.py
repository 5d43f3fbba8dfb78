"""Derived models: a checkpoint assembled from trained ones, equal to the sum of their scores files."""

import numpy as np
import pytest

from bharnet.core.errors import UserError
from bharnet.engine.checkpoints import load_checkpoint
from bharnet.engine.derived import build_derived, fused_scores, sources, summed_branches
from bharnet.engine.evaluate import evaluate_split
from bharnet.engine.evaluate import test_checkpoint as run_test
from bharnet.engine.fit import fit
from bharnet.engine.module import SkeletonDataModule
from bharnet.eval.ensemble import ensemble, member_spec
from bharnet.eval.scores import load_scores

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: one thread beats several


@pytest.fixture(scope="module")
def experts(make_sequence, tiny_config, write_store, tmp_path_factory):
    root = tmp_path_factory.mktemp("derived")
    write_store(root / "s", [make_sequence(i, frames=20) for i in range(12)])
    return root / "s", {name: fit(tiny_config(root / "s", root / "runs", name=name, model={"name": name},
                                              trainer={"max_epochs": 1}), quiet=True)["last"]
                        for name in ("body-expert", "hand-expert")}


def test_what_a_derived_model_sums():
    assert summed_branches("joint") == (("joint", "logits"),)
    assert summed_branches("bharnet-e-expert") == (("bharnet-e", "body_expert"), ("bharnet-e", "hand_expert"))
    assert sources("score-fusion") == ["body-expert", "hand-expert"] and sources("noisy-or") == ["score-fusion"]
    with pytest.raises(UserError, match="fitted on a validation split"):
        summed_branches("noisy-or")


@pytest.mark.integration  # trains
def test_score_fusion_checkpoint_predicts_the_sum_of_its_experts_scores(experts, tiny_config, tmp_path):
    store, checkpoints = experts
    cfg = tiny_config(store, tmp_path, name="score-fusion", model={"name": "score-fusion"})
    module, info = build_derived(cfg, checkpoints)
    assert info is None and load_checkpoint(tmp_path / "score-fusion/checkpoints/last.ckpt").streams == module.streams
    evaluation = evaluate_split(module, SkeletonDataModule(module.config["data"], (), cfg.seed), "test")
    evaluation.save(tmp_path / "fusion.npz", checkpoint="in memory")
    for name, checkpoint in checkpoints.items():
        run_test(checkpoint, out=tmp_path / f"{name}.npz")
    summed = ensemble([member_spec(tmp_path / f"{m}.npz", b) for m, b in summed_branches("score-fusion")])
    fused = load_scores(tmp_path / "fusion.npz").sorted_by_name()
    assert fused.names.tolist() == summed.names.tolist() and fused.meta["variant"] == "score-fusion"
    np.testing.assert_allclose(fused.branch(), summed.fused, rtol=1e-5, atol=1e-5)
    assert evaluation.metrics["top1"] == float(np.mean(summed.fused.argmax(1) == summed.labels))
    assert {"logits", "body", "hand"} <= set(evaluation.metrics["branches"])


@pytest.mark.integration  # trains
def test_a_fused_model_fits_on_the_validation_split_and_refuses_the_test_split(experts, tiny_config, tmp_path):
    store, checkpoints = experts
    source = tiny_config(store, tmp_path, name="score-fusion", model={"name": "score-fusion"})
    build_derived(source, checkpoints)
    fused_on = {"score-fusion": tmp_path / "score-fusion/checkpoints/last.ckpt"}
    cfg = tiny_config(store, tmp_path, name="noisy-or", model={"name": "noisy-or"}, data={"val_split": "train"})
    module, info = build_derived(cfg, fused_on)
    assert info["fitted_on"] == "train" and info["samples"] == 6 and info["method"] == "noisy-or"
    saved = tmp_path / "noisy-or/checkpoints/last.ckpt"
    assert load_checkpoint(saved).model.fusion.method == "noisy-or"
    run_test(saved, out=tmp_path / "direct.npz")
    run_test(fused_on["score-fusion"], out=tmp_path / "source.npz")
    fused_scores(saved, load_scores(tmp_path / "source.npz"), tmp_path / "from-scores.npz")
    direct, from_scores = load_scores(tmp_path / "direct.npz"), load_scores(tmp_path / "from-scores.npz")
    assert from_scores.meta["variant"] == "noisy-or"
    np.testing.assert_allclose(from_scores.branch(), direct.branch(), rtol=1e-5, atol=1e-5)
    refused = tiny_config(store, tmp_path / "refused", name="noisy-or", model={"name": "noisy-or"})
    with pytest.raises(UserError, match="validation split"):
        build_derived(refused, fused_on)
    assert not (tmp_path / "refused").exists()
