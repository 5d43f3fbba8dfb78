"""Short real training runs: the engine end to end, exact resume, DDP, checkpoints."""

import os
import subprocess
import sys

import pytest
import torch
import yaml
from lightning.pytorch.callbacks import Callback

from bharnet.core.errors import UserError
from bharnet.engine.checkpoints import load_checkpoint
from bharnet.engine.config import load_config
from bharnet.engine.fit import fit

pytestmark = pytest.mark.integration  # trains


def state(module):
    return {k: v.clone() for k, v in module.model.state_dict().items()}


def test_short_run_writes_config_checkpoints_and_logs(tiny_config, store, tmp_path):
    result = fit(tiny_config(store, tmp_path), quiet=True)
    run = result["run_dir"]
    assert (run / "config.yaml").exists() and result["last"].exists() and result["best"].exists()
    assert (run / "csv" / "version_0" / "metrics.csv").exists() and any((run / "tensorboard").iterdir())
    assert "val/top1" in result["val"]
    ckpt = torch.load(result["last"], weights_only=True)  # never needs to run code to load
    assert ckpt["epoch"] == 1
    module = load_checkpoint(result["best"])
    out = module({"body": torch.zeros(2, 3, 16, 25, 2)})
    assert out["logits"].shape == (2, 3)


class StopAfterFirstEpoch(Callback):
    """Interrupts a run after its first epoch, as a killed job would (last.ckpt is written)."""

    def on_train_epoch_end(self, trainer, pl_module):
        trainer.should_stop = True


def test_resume_gives_the_weights_of_an_uninterrupted_run(tiny_config, store, tmp_path):
    full = fit(tiny_config(store, tmp_path, "full", trainer={"max_epochs": 3}), quiet=True)
    fit(tiny_config(store, tmp_path, "parted", trainer={"max_epochs": 3}), quiet=True,
        callbacks=[StopAfterFirstEpoch()])
    # the same run again resumes from its last.ckpt and continues to the end
    parted = fit(tiny_config(store, tmp_path, "parted", trainer={"max_epochs": 3}), quiet=True)
    a, b = state(load_checkpoint(full["last"])), state(load_checkpoint(parted["last"]))
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)


def test_config_files_compose_bases_and_reject_unknown_keys(tmp_path):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump({"optim": {"lr": 0.2}, "data": {"window": 32}}))
    (tmp_path / "run.yaml").write_text(yaml.safe_dump({"_base_": ["base.yaml"], "data": {"store": "x"}}))
    cfg = load_config(tmp_path / "run.yaml", ["optim.lr=0.05"])
    assert cfg.optim.lr == 0.05 and cfg.data.window == 32 and cfg.optim.nesterov

    with pytest.raises(UserError, match="invalid configuration"):
        load_config(tmp_path / "run.yaml", ["optim.learning_rate=1"])


def test_ddp_two_cpu_processes_train_and_the_checkpoint_loads_in_one(tiny_config, store, tmp_path):
    cfg = tiny_config(store, tmp_path, "ddp", trainer={"max_epochs": 1, "devices": 2, "strategy": "ddp"})
    path = tmp_path / "ddp.yaml"
    from omegaconf import OmegaConf

    OmegaConf.save(cfg, path)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "bharnet", "train", str(path)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    module = load_checkpoint(tmp_path / "ddp" / "checkpoints" / "last.ckpt")
    assert module({"body": torch.zeros(1, 3, 16, 25, 2)})["logits"].shape == (1, 3)
