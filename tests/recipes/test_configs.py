"""Every YAML under configs/ loads, validates and builds its model: a broken recipe fails here."""

from pathlib import Path

import pytest
import torch

from bharnet.engine.config import load_config, to_dict
from bharnet.engine.module import build_model

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
#: what `bharnet prepare` writes to meta.json, per store folder name (the rest: an NTU-like store)
STORE_META = {
    "ntu60": {"body_layout": "ntu25", "num_persons": 2, "channels": 3, "num_classes": 60},
    "ntu120": {"body_layout": "ntu25", "num_persons": 2, "channels": 3, "num_classes": 120},
    "ucla": {"body_layout": "ucla20", "num_persons": 1, "channels": 3, "num_classes": 10},
    "pku-mmd": {"body_layout": "ntu25", "num_persons": 2, "channels": 3, "num_classes": 51},
}
#: bases are fragments, not runs; every other file is a complete recipe
FRAGMENTS = ("base", "datasets", "models")
RECIPES = sorted(p for p in CONFIGS.rglob("*.yaml") if p.relative_to(CONFIGS).parts[0] not in FRAGMENTS)
ALL = sorted(CONFIGS.rglob("*.yaml"))


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models: one thread is faster than several competing ones."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_every_benchmark_has_every_model():
    benchmarks = {p.parent.name for p in RECIPES}
    assert {"ntu60-xsub", "ntu60-xview", "ntu120-xsub", "ntu120-xset", "ucla", "pku-xsub", "pku-xview"} <= benchmarks
    models = {p.stem for p in (CONFIGS / "models").glob("*.yaml")}
    for bench in benchmarks:
        assert models <= {p.stem for p in (CONFIGS / bench).glob("*.yaml")}, bench


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(CONFIGS)))
def test_every_config_file_loads(path, tmp_path):
    cfg = load_config(path, [f"data.store={tmp_path}"])  # fragments load too: the schema fills the rest
    assert to_dict(cfg)["data"]["store"] == str(tmp_path)


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: str(p.relative_to(CONFIGS)))
def test_every_recipe_builds_its_model(path, tmp_path):
    store = Path(load_config(path).data.store).name
    cfg = to_dict(load_config(path, [f"data.store={tmp_path}", "model.base_channels=8", "data.window=16"]))
    meta = STORE_META.get(store, STORE_META["ntu60"])
    model = build_model(cfg["model"], meta, cfg["data"]["window"]).eval()
    with torch.no_grad():
        out = model(model.example_inputs(batch=1, frames=16))
    assert out["logits"].shape == (1, meta["num_classes"])
    assert cfg["name"] == f"{cfg['model']['name']}-joint" or path.name == "degcn-j-cpu.yaml"
    run = Path(cfg["out_dir"])
    init = cfg["model"]["init"]
    if cfg["model"]["name"] == "bharnet-m":  # guided by the trained BHaRNet-E, ImageNet start
        assert init == {"body": None, "hand": None, "freeze": False, "rgb": "imagenet",
                        "guide": str(run / "bharnet-e-joint/checkpoints/best.ckpt")}
    elif cfg["model"]["name"] not in ("body-expert", "hand-expert"):  # second stage: starts from the experts
        assert init == {"body": str(run / "body-expert-joint/checkpoints/best.ckpt"),
                        "hand": str(run / "hand-expert-joint/checkpoints/best.ckpt"),
                        "freeze": False, "guide": None, "rgb": None}


def test_modality_is_a_command_line_setting():
    cfg = to_dict(load_config(CONFIGS / "ntu60-xsub/bharnet-p.yaml", ["data.modality=bone"]))
    assert cfg["name"] == "bharnet-p-bone" and cfg["out_dir"] == "runs/ntu60-xsub"
    assert cfg["model"]["init"]["body"] == "runs/ntu60-xsub/body-expert-bone/checkpoints/best.ckpt"


def test_documented_cpu_recipe_is_unchanged():
    cfg = to_dict(load_config(CONFIGS / "ucla/degcn-j-cpu.yaml"))
    assert (cfg["out_dir"], cfg["name"], cfg["data"]["store"]) == ("runs", "ucla-degcn-j-cpu", "data/ucla")
    assert (cfg["data"]["batch_size"], cfg["data"]["num_workers"], cfg["trainer"]["accelerator"]) == (16, 0, "cpu")
    assert cfg["trainer"]["max_epochs"] == 15 and cfg["model"]["name"] == "body-expert"
    assert cfg["model"]["base_channels"] == 32
