"""The packaged recipes: every file loads, every data set x model pair builds its model, and every
recipe resolves to what it resolved to before the recipes became groups."""

import json
from pathlib import Path

import pytest
import torch

from bharnet.core.errors import UserError
from bharnet.engine.config import CONFIGS, list_group, load_config, parse_run_args, to_dict
from bharnet.engine.module import build_model
from bharnet.models import model_spec

#: what `bharnet prepare` writes to meta.json, per store folder name (the rest: an NTU-like store)
STORE_META = {
    "ntu60": {"body_layout": "ntu25", "num_persons": 2, "channels": 3, "num_classes": 60},
    "ntu120": {"body_layout": "ntu25", "num_persons": 2, "channels": 3, "num_classes": 120},
    "ucla": {"body_layout": "ucla20", "num_persons": 1, "channels": 3, "num_classes": 10},
    "pku-mmd": {"body_layout": "ntu25", "num_persons": 2, "channels": 3, "num_classes": 51},
}
ALL = sorted(CONFIGS.rglob("*.yaml"))
PAIRS = [(d, m) for d in list_group("dataset") for m in list_group("model")]
#: every recipe as the product of files resolved it (``<dataset>/<model>`` and the CPU recipe),
#: written with ``data.store=STORE`` before the groups replaced the per-pair files
BEFORE = json.loads((Path(__file__).parent / "recipes_before_groups.json").read_text())

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: one thread beats several


def _now(recipe: str) -> dict:
    if recipe == "ucla/degcn-j-cpu":
        return to_dict(load_config(CONFIGS / "recipes" / "ucla-degcn-j-cpu.yaml", ["data.store=STORE"]))
    dataset, model = recipe.split("/")
    return to_dict(load_config(None, [f"dataset={dataset}", f"model={model}", "data.store=STORE"]))


def _as_before(cfg: dict) -> dict:
    """The resolved config in the old shape: attention settings lived in ``model.kwargs`` and the
    typed attention section, the second stage, the RGB stage and the validation hold-out settings
    did not exist (empty or default ones said nothing)."""
    cfg = json.loads(json.dumps(cfg))
    assert (cfg["data"].pop("val_fraction"), cfg["data"].pop("val_group")) == (0.1, None)
    attention = {k: v for k, v in cfg["model"].pop("attention").items() if v is not None}
    cfg["model"]["kwargs"].update(attention)
    cfg["model"]["attention"] = {}
    assert cfg.pop("second_stage") == {}
    assert cfg.pop("rgb_stage") == {}
    for key in ("guide", "rgb"):  # BHaRNet-M's starting points, unset for the skeleton models
        assert cfg["model"]["init"].pop(key) is None
    return cfg


def test_groups_cover_every_benchmark_and_model():
    assert {"ntu60-xsub", "ntu60-xview", "ntu120-xsub", "ntu120-xset", "ucla", "pku-xsub",
            "pku-xview"} <= set(list_group("dataset"))
    assert {"body-expert", "hand-expert", "joint", "cross-attention", "fast-attention", "bharnet-p",
            "bharnet-e"} <= set(list_group("model"))


@pytest.mark.parametrize("recipe", sorted(BEFORE))
def test_every_recipe_resolves_as_before(recipe):
    assert _as_before(_now(recipe)) == BEFORE[recipe]


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(CONFIGS)))
def test_every_config_file_loads(path, tmp_path):
    cfg = load_config(path, [f"data.store={tmp_path}"])  # fragments load too: the schema fills the rest
    assert to_dict(cfg)["data"]["store"] == str(tmp_path)


@pytest.mark.parametrize(("dataset", "model"), PAIRS, ids=lambda x: x)
def test_every_pair_builds_its_model(dataset, model, tmp_path):
    store = Path(load_config(None, [f"dataset={dataset}"]).data.store).name
    cfg = to_dict(load_config(None, [f"dataset={dataset}", f"model={model}", f"data.store={tmp_path}",
                                     "model.base_channels=8", "data.window=16"]))
    meta = STORE_META.get(store, STORE_META["ntu60"])
    net = build_model(cfg["model"], meta, cfg["data"]["window"]).eval()
    with torch.no_grad():
        out = net(net.example_inputs(batch=1, frames=16))
    assert out["logits"].shape == (1, meta["num_classes"])
    assert cfg["name"] == f"{model}-joint"
    run = Path(cfg["out_dir"])
    if model_spec(model).stage == "finetune":  # second stage: starts from the experts
        assert cfg["model"]["init"] == {"body": str(run / "body-expert-joint/checkpoints/best.ckpt"),
                                        "hand": str(run / "hand-expert-joint/checkpoints/best.ckpt"),
                                        "freeze": False, "guide": None, "rgb": None}
    if model_spec(model).stage == "guided":  # BHaRNet-M: guided by the trained BHaRNet-E, ImageNet start
        assert cfg["model"]["init"] == {"body": None, "hand": None, "freeze": False, "rgb": "imagenet",
                                        "guide": str(run / "bharnet-e-joint/checkpoints/best.ckpt")}


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
