"""The packaged recipes: every file loads, and every data set x model pair resolves to its
benchmark's store and splits and its stage's schedule, and builds its model."""

from pathlib import Path

import pytest
import torch

from bharnet.core.errors import UserError
from bharnet.engine.config import CONFIGS, list_group, load_config, parse_run_args, to_dict
from bharnet.engine.module import build_model
from bharnet.models import model_spec
from bharnet.workflows.demo import load_spread

#: what `bharnet prepare` writes to meta.json, per store folder name (the rest: an NTU-like store)
STORE_META = {
    "ntu60": {"body_layout": "ntu25", "num_persons": 2, "channels": 3, "num_classes": 60},
    "ntu120": {"body_layout": "ntu25", "num_persons": 2, "channels": 3, "num_classes": 120},
    "ucla": {"body_layout": "ucla20", "num_persons": 1, "channels": 3, "num_classes": 10},
    "pku-mmd": {"body_layout": "ntu25", "num_persons": 2, "channels": 3, "num_classes": 51},
}
ALL = sorted(CONFIGS.rglob("*.yaml"))
PAIRS = [(d, m) for d in list_group("dataset") for m in list_group("model")]
#: each benchmark's store folder and split prefix (N-UCLA's splits are plain ``train`` / ``test``)
BENCHMARKS = {"ntu60-xsub": ("ntu60", "xsub"), "ntu60-xview": ("ntu60", "xview"), "ntu120-xsub": ("ntu120", "xsub"),
              "ntu120-xset": ("ntu120", "xset"), "pku-xsub": ("pku-mmd", "xsub"), "pku-xview": ("pku-mmd", "xview"),
              "ucla": ("ucla", "")}
#: each stage's (learning rate, warm-up epochs, epochs, schedule): the experts from scratch, the
#: second stage from them, BHaRNet-M's RGB stream on MMNet's step schedule
STAGES = {"expert": (0.1, 5.0, 80, "cosine"), "finetune": (0.05, 2.0, 30, "cosine"), "guided": (0.1, 0.0, 80, "step")}
#: the paper's attention: 8 heads of 64, 256 random features where the attention is linear
LINEAR = {"heads": 8, "head_dim": 64, "nb_features": 256}
ATTENTION = {"cross-attention": {"heads": 8, "head_dim": 64}, "fast-attention": LINEAR, "bharnet-p": LINEAR,
             "bharnet-e": LINEAR}
#: the named runs sized for a CPU
CPU_RECIPES = ["demo", "demo-quick", "gestures-cpu", "hand-gestures-cpu", "ucla-degcn-j-cpu"]

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: one thread beats several


def test_groups_cover_every_benchmark_and_model():
    assert {"ntu60-xsub", "ntu60-xview", "ntu120-xsub", "ntu120-xset", "ucla", "pku-xsub",
            "pku-xview"} <= set(list_group("dataset"))
    assert {"body-expert", "hand-expert", "joint", "cross-attention", "fast-attention", "bharnet-p",
            "bharnet-e"} <= set(list_group("model"))


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(CONFIGS)))
def test_every_config_file_loads(path, tmp_path):
    cfg = load_config(path, [f"data.store={tmp_path}"])  # fragments load too: the schema fills the rest
    assert to_dict(cfg)["data"]["store"] == str(tmp_path)


@pytest.mark.parametrize(("dataset", "model"), PAIRS, ids=lambda x: x)
def test_every_pair_resolves_to_its_benchmark_and_stage_and_builds_its_model(dataset, model):
    cfg = to_dict(load_config(None, [f"dataset={dataset}", f"model={model}"]))
    store, split = BENCHMARKS[dataset]
    train, test = (f"{split}_train", f"{split}_test") if split else ("train", "test")
    data, stage = cfg["data"], model_spec(model).stage
    assert (data["store"], data["train_split"], data["val_split"], data["test_split"]) == (f"data/{store}", train,
                                                                                          test, test)
    assert (cfg["name"], cfg["out_dir"], cfg["seed"], data["modality"]) == (f"{model}-joint", f"runs/{dataset}", 1,
                                                                            "joint")
    assert (data["window"], data["batch_size"], data["eval_batch_size"]) == (64, 16 if dataset == "ucla" else 64, 128)
    assert (cfg["model"]["backbone"], cfg["model"]["base_channels"]) == ("degcn", 64)
    optim = cfg["optim"]
    assert (optim["lr"], optim["warmup_epochs"], cfg["trainer"]["max_epochs"], optim["schedule"]) == STAGES[stage]
    assert {k: v for k, v in cfg["model"]["attention"].items() if v is not None} == ATTENTION.get(model, {})
    assert cfg["model"]["kwargs"].get("lambda_cpl") == (1.0 if stage == "finetune" else None)
    run = Path(cfg["out_dir"])
    if stage == "finetune":  # second stage: starts from the experts
        assert cfg["model"]["init"] == {"body": str(run / "body-expert-joint/checkpoints/best.ckpt"),
                                        "hand": str(run / "hand-expert-joint/checkpoints/best.ckpt"),
                                        "freeze": False, "guide": None, "rgb": None}
    if stage == "guided":  # BHaRNet-M: guided by the trained BHaRNet-E, ImageNet start
        assert cfg["model"]["init"] == {"body": None, "hand": None, "freeze": False, "rgb": "imagenet",
                                        "guide": str(run / "bharnet-e-joint/checkpoints/best.ckpt")}
    meta = STORE_META.get(store, STORE_META["ntu60"])
    net = build_model({**cfg["model"], "base_channels": 8}, meta, 16).eval()  # narrow and short: builds fast
    with torch.no_grad():
        out = net(net.example_inputs(batch=1, frames=16))
    assert out["logits"].shape == (1, meta["num_classes"])


def _recipe(name: str) -> dict:
    return to_dict(load_config(CONFIGS / "recipes" / f"{name}.yaml", ["data.store=STORE"]))


@pytest.mark.parametrize("name", CPU_RECIPES)
def test_cpu_recipes_run_in_one_process_on_a_narrow_network(name):
    cfg = _recipe(name)
    assert (cfg["trainer"]["accelerator"], cfg["trainer"]["devices"], cfg["data"]["num_workers"]) == ("cpu", 1, 0)
    assert cfg["model"]["backbone"] == "degcn" and cfg["model"]["base_channels"] <= 32


def test_quick_demo_is_the_demo_on_fewer_samples_and_classes():
    full, quick = _recipe("demo"), _recipe("demo-quick")
    assert (full["data"]["window"], full["model"]["base_channels"]) == (16, 8)
    # the default run is `bharnet demo --seed N` for one of the seeds its documented spread is measured on
    assert full["seed"] == full["data"]["synth"]["seed"]
    assert all(full["seed"] in load_spread(mode)["seeds"] for mode in ("quick", "full"))
    assert (full["data"]["synth"]["num_samples"], quick["data"]["synth"]["num_samples"]) == (1500, 840)
    assert full["data"]["synth"]["classes"] is None and len(quick["data"]["synth"]["classes"]) == 14
    assert full["data"]["synth"]["rgb"] and quick["data"]["synth"]["rgb"]  # both have the RGB stream's images
    for key in ("window", "train_split", "val_split", "test_split"):
        assert quick["data"][key] == full["data"][key]


def test_modality_is_a_command_line_setting():
    cfg = to_dict(load_config(None, ["dataset=ntu60-xsub", "model=bharnet-p", "data.modality=bone"]))
    assert cfg["name"] == "bharnet-p-bone" and cfg["out_dir"] == "runs/ntu60-xsub"
    assert cfg["model"]["init"]["body"] == "runs/ntu60-xsub/body-expert-bone/checkpoints/best.ckpt"


def test_documented_cpu_recipe_is_unchanged():
    cfg = to_dict(load_config(CONFIGS / "recipes" / "ucla-degcn-j-cpu.yaml"))
    assert (cfg["out_dir"], cfg["name"], cfg["data"]["store"]) == ("runs", "ucla-degcn-j-cpu", "data/ucla")
    assert (cfg["data"]["batch_size"], cfg["data"]["num_workers"], cfg["trainer"]["accelerator"]) == (16, 0, "cpu")
    assert cfg["trainer"]["max_epochs"] == 15 and cfg["model"]["name"] == "body-expert"
    assert cfg["model"]["base_channels"] == 32


def test_unknown_group_names_and_attention_keys_are_errors():
    with pytest.raises(UserError, match="model=bharnet-x: no such model; choose one of .*bharnet-e"):
        load_config(None, ["dataset=ucla", "model=bharnet-x"])
    with pytest.raises(UserError, match="heds"):
        load_config(None, ["dataset=ucla", "model=bharnet-e", "model.attention.heds=4"])


def test_command_line_takes_one_file_then_groups_and_settings():
    assert parse_run_args(["run.yaml", "model=joint", "optim.lr=0.1"]) == ("run.yaml", ["model=joint", "optim.lr=0.1"])
    assert parse_run_args(["dataset=ucla"]) == (None, ["dataset=ucla"])
    with pytest.raises(UserError, match="one config file"):
        parse_run_args(["a.yaml", "b.yaml"])
