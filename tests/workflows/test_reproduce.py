"""``bharnet reproduce``: the plan of a row, its commands, and a tiny real run that resumes."""

import argparse
import json

import numpy as np
import pytest

from bharnet.cli import reproduce as cli
from bharnet.core.errors import UserError
from bharnet.core.sequence import Sequence
from bharnet.store.packed import StoreWriter
from bharnet.store.rgb import write_rois
from bharnet.workflows.reproduce import list_rows, parse_modalities, plan, reproduce

TINY = ["model.base_channels=8", "data.window=16", "trainer.max_epochs=1", "optim.warmup_epochs=0",
        "data.batch_size=4", "data.eval_batch_size=8", "data.num_workers=0", "trainer.accelerator=cpu",
        "trainer.devices=1", "trainer.enable_progress_bar=false", "trainer.log_every_n_steps=1"]

# trains; tiny models: one thread beats several
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("one_thread")]


def titles(steps):
    return [s.title for s in steps]


def test_plan_trains_experts_then_the_variant_then_tests_and_ensembles(tmp_path):
    steps = plan("ntu120-xset/bharnet-p", data_root=tmp_path / "data", out=tmp_path / "out")
    assert titles(steps) == ["train body-expert (J)", "train body-expert (B)", "train hand-expert (J)",
                             "train hand-expert (B)", "train bharnet-p (J)", "train bharnet-p (B)",
                             "test bharnet-p (J)", "test bharnet-p (B)", "ensemble J+B"]
    runs = tmp_path / "out/runs/ntu120-xset"
    assert steps[4].command.startswith("bharnet train ")
    assert f"data.store={tmp_path / 'data/ntu120'}" in steps[4].argv and "data.modality=joint" in steps[4].argv
    assert f"out_dir={runs}" in steps[4].argv
    assert steps[6].argv[:2] == ["test", str(runs / "bharnet-p-joint/checkpoints/best.ckpt")]
    scores = tmp_path / "out/scores/ntu120-xset"
    assert steps[-1].argv == ["ensemble", str(scores / "bharnet-p-joint.npz"), str(scores / "bharnet-p-bone.npz"),
                              "--out", str(tmp_path / "out/reports/ntu120-xset/bharnet-p")]
    assert not any(s.done() for s in steps) and not (tmp_path / "out").exists()  # planning writes nothing


def test_rows_without_training_of_their_own():
    fusion = plan("ucla/score-fusion", modalities="J")
    assert titles(fusion) == ["train body-expert (J)", "train hand-expert (J)", "test body-expert (J)",
                              "test hand-expert (J)", "ensemble J"]
    light = plan("ntu60-xsub/bharnet-e-expert", modalities="J")
    assert light[-1].argv[1:3] == [f"{light[3].output}:body_expert", f"{light[3].output}:hand_expert"]
    assert titles(plan("ntu60-xview/body-expert")) == ["train body-expert (J)", "train body-expert (B)",
                                                       "test body-expert (J)", "test body-expert (B)", "ensemble J+B"]


def test_the_rgb_row_adds_the_guided_stream_to_its_guides_row(tmp_path):
    steps = plan("ntu60-xsub/bharnet-m", data_root=tmp_path / "data", out=tmp_path / "out")
    assert titles(steps) == ["train body-expert (J)", "train body-expert (B)", "train hand-expert (J)",
                             "train hand-expert (B)", "train bharnet-e (J)", "train bharnet-e (B)",
                             "train bharnet-m (RGB)", "test bharnet-e (J)", "test bharnet-e (B)",
                             "test bharnet-m (RGB)", "ensemble J+B+RGB"]
    scores = tmp_path / "out/scores/ntu60-xsub"
    assert steps[-1].argv[1:4] == [str(scores / f) for f in ("bharnet-e-joint.npz", "bharnet-e-bone.npz",
                                                             "bharnet-m-rgb.npz")]
    guide = tmp_path / "out/runs/ntu60-xsub/bharnet-e-joint/checkpoints/last.ckpt"
    last = plan("ntu60-xsub/bharnet-m", data_root=tmp_path / "data", out=tmp_path / "out", checkpoint="last")
    assert f"model.init.guide={guide}" in last[6].argv
    body_guided = plan("pku-xview/bharnet-m", modalities="J", overrides=["rgb_stage.model.kwargs.guide=body-expert"])
    assert titles(body_guided) == ["train body-expert (J)", "train bharnet-m (RGB)", "test body-expert (J)",
                                   "test bharnet-m (RGB)", "ensemble J+RGB"]
    with pytest.raises(UserError, match="joint stream"):
        plan("ntu60-xsub/bharnet-m", modalities="B")
    rows = {r["row"]: r for r in list_rows()}
    assert rows["ntu60-xview/bharnet-m"]["paper_jb"] == 99.0 and rows["pku-xsub/bharnet-m"]["paper_jb"] == 96.9


def test_last_checkpoint_option_and_overrides_reach_the_second_stage(tmp_path):
    steps = plan("pku-xsub/joint", out=tmp_path, modalities="B", checkpoint="last", overrides=["trainer.devices=4"])
    body = tmp_path / "runs/pku-xsub/body-expert-bone/checkpoints/last.ckpt"
    assert f"model.init.body={body}" in steps[2].argv and steps[2].argv[-1] == "trainer.devices=4"
    assert steps[3].argv[1].endswith("joint-bone/checkpoints/last.ckpt")


def test_user_errors():
    with pytest.raises(UserError, match="unknown row"):
        plan("ntu60-xsub/bharnet-x")
    with pytest.raises(UserError, match="unknown modality"):
        parse_modalities("J,RGB")
    assert parse_modalities("J,BM") == ("joint", "bone_motion")


def test_list_gives_the_paper_figures():
    rows = {r["row"]: r for r in list_rows()}
    assert rows["ntu120-xsub/bharnet-p"]["paper_jb"] == 94.3 and rows["ucla/bharnet-p"]["paper_jb"] == 95.3
    assert rows["ntu120-xsub/bharnet-e"]["paper_j"] == 93.0 and rows["pku-xview/joint"]["paper_jb"] is None
    assert "ntu60-xsub/bharnet-e-expert" in cli.format_rows(list(rows.values()))


def test_dry_run_prints_commands_and_runs_nothing(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["reproduce", "ntu60-xsub/bharnet-e", "--dry-run", "--out", str(tmp_path / "o")])
    assert args.func(args) == 0
    lines = capsys.readouterr().out.splitlines()
    commands = [line for line in lines if not line.startswith("#")]
    assert len(commands) == 9 and all(c.startswith("bharnet ") for c in commands)
    assert commands[-1].startswith("bharnet ensemble ") and not (tmp_path / "o").exists()


def _write_store(path, n=16):
    rng = np.random.default_rng(0)
    with StoreWriter(path, body_layout="ntu25", num_persons=2, arrays=("hands",), classes=["a", "b"]) as w:
        for i in range(n):
            frames = 12 + i % 5
            seq = Sequence(name=f"S001C001P{i:03d}R001A00{i % 2 + 1}", label=i % 2,
                           body=rng.normal(size=(frames, 2, 25, 3)).astype(np.float32),
                           hands=rng.normal(size=(frames, 2, 21, 3)).astype(np.float32),
                           hand_conf=np.ones((frames, 2, 21), np.float32),
                           splits=frozenset({"xsub_train" if i % 4 else "xsub_test"}))
            w.add(seq)
            w.source_done(seq.name)


def test_tiny_run_finishes_and_resumes_where_it_stopped(tmp_path):
    _write_store(tmp_path / "data/ntu60")
    kwargs = dict(data_root=tmp_path / "data", out=tmp_path / "out", modalities="J", overrides=TINY, log=lambda _: 0)
    first = reproduce("ntu60-xsub/bharnet-e-expert", **kwargs)
    assert [s["status"] for s in first["steps"]] == ["ran"] * 5
    report = tmp_path / "out/reports/ntu60-xsub/bharnet-e-expert"
    summary = json.loads((report / "summary.json").read_text())
    assert summary == first["summary"] and summary["modalities"] == ["J"] and 0 <= summary["top1"] <= 100
    assert summary["per_modality"]["J"] == pytest.approx(summary["top1"])
    checkpoint = tmp_path / "out/runs/ntu60-xsub/bharnet-e-joint/checkpoints/last.ckpt"
    stamp = checkpoint.stat().st_mtime_ns

    again = reproduce("ntu60-xsub/bharnet-e-expert", **kwargs)
    assert [s["status"] for s in again["steps"]] == ["done"] * 5 and checkpoint.stat().st_mtime_ns == stamp

    (report / "report.json").unlink()  # an interrupted ensemble: only that step runs again
    resumed = reproduce("ntu60-xsub/bharnet-e-expert", **kwargs)
    assert [s["status"] for s in resumed["steps"]] == ["done"] * 4 + ["ran"]
    assert resumed["summary"]["top1"] == pytest.approx(summary["top1"])

    # a longer recipe: the finished 1-epoch run is not done for 2 epochs, so it trains on from last.ckpt
    longer = plan("ntu60-xsub/bharnet-e-expert", tmp_path / "data", tmp_path / "out", modalities="J",
                  overrides=[*TINY, "trainer.max_epochs=2"])
    assert [s.done() for s in longer] == [False, False, False, True, True]


def test_tiny_rgb_row_runs_to_a_summary_with_the_rgb_stream(tmp_path):
    _write_store(tmp_path / "data/ntu60")
    store = tmp_path / "data/ntu60"
    names = json.loads((store / "names.json").read_text())
    write_rois(store, names, lambda i, _: np.full((32, 32, 3), 8 * i, np.uint8), 32)
    overrides = [*TINY, *(f"rgb_stage.model.{key}" for key in ("kwargs.guide=body-expert", "kwargs.image_size=32",
                                                                 "kwargs.rgb_width=8", "init.rgb=null"))]
    result = reproduce("ntu60-xsub/bharnet-m", data_root=tmp_path / "data", out=tmp_path / "out", modalities="J",
                       overrides=overrides, log=lambda _: 0)
    assert [s["status"] for s in result["steps"]] == ["ran"] * 5
    summary = result["summary"]
    assert summary["modalities"] == ["J", "RGB"] and set(summary["per_modality"]) == {"J", "RGB"}
    assert 0 <= summary["top1"] <= 100
