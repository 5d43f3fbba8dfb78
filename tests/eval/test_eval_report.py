import json

import numpy as np
import pytest

from bharnet.cli import main
from bharnet.core.errors import UserError
from bharnet.eval.ensemble import ensemble
from bharnet.eval.report import load_expert_pair, robustness_curves, write_ensemble_report, write_report
from bharnet.eval.scores import load_scores, save_scores

from .eval_helpers import make_logits, make_set

K = 12
PNG = b"\x89PNG"


@pytest.fixture
def synth(tmp_path):
    """A BHaRNet-E-like test file on a synthetic store: body classes 0-5, hand classes 6-11."""
    names, labels, rng = make_set(240, K, seed=4)
    body = make_logits(labels, K, 3.0, rng)
    hand = make_logits(labels, K, 3.0, rng)
    body[labels >= 6] = rng.normal(size=(int((labels >= 6).sum()), K))  # the body expert misses hand classes
    hand[labels < 6] = rng.normal(size=(int((labels < 6).sum()), K))
    meta = {"classes": [f"class {i}" for i in range(K)], "dataset": "bodyhand-synth", "split": "test",
            "variant": "bharnet-e", "backbone": "degcn", "modality": "joint", "params": 2_750_000, "macs": 2.72e9,
            "class_groups": {"body": list(range(6)), "hand": list(range(6, 12))}}
    path = save_scores(tmp_path / "e_joint.npz", names, labels,
                       {"logits": body + hand, "body_expert": body, "hand_expert": hand}, meta)
    bone = save_scores(tmp_path / "e_bone.npz", names, labels, {"logits": make_logits(labels, K, 2.0, rng)},
                       {**meta, "modality": "bone"})
    return path, bone


def test_report_has_every_section_and_png(synth, tmp_path):
    out = tmp_path / "rep"
    report = write_report(load_scores(synth[0]), out)
    assert {"top1", "top5", "mean_class_top1", "per_class", "subsets", "most_confused", "branches", "experts",
            "model", "files"} <= set(report)
    assert set(report["subsets"]) == {"group:body", "group:hand"}
    assert report["experts"]["body_branch"] == "body_expert"
    totals = report["experts"]["totals"]
    assert sum(totals.values()) == 240 and totals["body_only"] > totals["both"] and totals["hand_only"] > 0
    # the body expert is right on body classes only
    rows = {r["index"]: r for r in report["experts"]["per_class"]}
    assert rows[0]["body_only"] > rows[0]["hand_only"] and rows[11]["hand_only"] > rows[11]["body_only"]
    assert report["model"]["params"] == 2_750_000 and report["model"]["modality"] == "joint"
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk["top1"] == pytest.approx(report["top1"])
    for png in ("confusion.png", "experts.png"):
        assert (out / png).read_bytes()[:4] == PNG
    md = (out / "report.md").read_text()
    for heading in ("# Evaluation report", "## Which expert is right", "## Most confused pairs", "## Per-class"):
        assert heading in md


def test_experts_from_two_files(synth, tmp_path):
    s = load_scores(synth[0])
    report = write_report(load_scores(synth[1]), tmp_path / "two",
                          experts=load_expert_pair(f"{synth[0]}:body_expert", f"{synth[0]}:hand_expert"))
    assert report["experts"]["totals"] == write_report(s, tmp_path / "one")["experts"]["totals"]


def test_ensemble_report_writes_a_loadable_fused_file(synth, tmp_path):
    out = tmp_path / "ens"
    res = ensemble([str(synth[0]), str(synth[1])], weights=[1.0, 0.5])
    report = write_ensemble_report(res, out, subsets=[])
    assert report["ensemble"]["weights"] == [1.0, 0.5] and report["ensemble"]["weights_from"] == "given"
    assert report["model"]["params"] == 5_500_000  # two files, summed
    fused = load_scores(out / "fused.npz")
    np.testing.assert_allclose(fused.logits["logits"], res.fused)
    assert fused.meta["ensemble"]["members"][1]["weight"] == 0.5
    assert fused.meta["class_groups"]["hand"] == list(range(6, 12))
    assert (out / "confusion.png").read_bytes()[:4] == PNG
    assert "## Ensemble" in (out / "report.md").read_text()


def test_cli_ensemble_and_report(synth, tmp_path, capsys):
    assert main(["ensemble", str(synth[0]), f"{synth[1]}:logits", "--fuse", "softmax", "--out",
                 str(tmp_path / "e")]) == 0
    assert json.loads((tmp_path / "e" / "report.json").read_text())["ensemble"]["fuse"] == "softmax"
    subset = tmp_path / "few.txt"
    subset.write_text("0\n1\n")
    assert main(["report", f"{synth[0]}:hand_expert", "--subset", str(subset), "--order", "cluster",
                 "--out", str(tmp_path / "r")]) == 0
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["branch"] == "hand_expert" and "few" in report["subsets"]
    assert "report:" in capsys.readouterr().out
    assert main(["ensemble", str(synth[0]), "--search", str(synth[1]), "--out", str(tmp_path / "x")]) == 2
    assert "never searched on a test split" in capsys.readouterr().err


def test_robustness_curves_and_report(tmp_path, capsys):
    names, labels, rng = make_set(100, K, seed=6)
    files = []
    for model, base in (("dual", 3.0), ("body", 2.0)):
        for pert, signal in (("none", base), ("noise=0.01", base - 0.5), ("noise=0.05", base - 1.5),
                             ("drop-frames=0.3", base - 1.0)):
            files.append(save_scores(tmp_path / f"{model}_{pert}.npz", names, labels,
                                     {"logits": make_logits(labels, K, signal, rng)},
                                     {"variant": model, "modality": "joint", "perturbation": pert}))
    curves = robustness_curves(files)
    assert set(curves) == {"noise", "drop-frames"}
    assert [s for s, _ in curves["noise"]["dual joint"]] == [0.0, 0.01, 0.05]
    assert [s for s, _ in curves["drop-frames"]["body joint"]] == [0.0, 0.3]
    assert main(["robustness", *map(str, files), "--out", str(tmp_path / "rob")]) == 0
    assert (tmp_path / "rob" / "robustness.png").read_bytes()[:4] == PNG
    data = json.loads((tmp_path / "rob" / "robustness.json").read_text())
    assert data["curves"]["noise"]["dual joint"][0]["strength"] == 0.0
    with pytest.raises(UserError, match="no perturbed"):
        robustness_curves(files[:1])


def test_robustness_refuses_two_models_under_one_name(tmp_path):
    names, labels, rng = make_set(50, K, seed=7)
    files = [save_scores(tmp_path / f"{i}.npz", names, labels, {"logits": make_logits(labels, K, s, rng)},
                         {"variant": "same", "perturbation": "noise=0.1"}) for i, s in enumerate((0.0, 5.0))]
    with pytest.raises(UserError, match="distinct names"):
        robustness_curves(files)
