"""What `bharnet train` tells its user: epochs in a log file, the best checkpoint's score, an
interruption and a resume."""

import csv
import os
import shutil
import signal

import pytest
import torch
from lightning.pytorch.callbacks import Callback
from omegaconf import OmegaConf

from bharnet.cli import main
from bharnet.core.errors import UserError
from bharnet.engine.fit import fit

pytestmark = pytest.mark.integration  # trains and runs bharnet train


class FixedPredictions(Callback):
    """Before each validation the head predicts one class for every sample: class 0 in the first
    epoch (3 of the 8 test samples right), class 1 after (2 of 8): the best epoch is the first."""

    def on_validation_epoch_start(self, trainer, pl_module):
        fc = pl_module.model.head.fc
        with torch.no_grad():
            fc.weight.zero_()
            fc.bias.copy_(torch.tensor([100.0, 0, 0] if trainer.current_epoch == 0 else [0, 100.0, 0]))


def test_train_prints_the_best_checkpoints_score_and_one_line_per_epoch(tiny_config, store, tmp_path, capsys,
                                                                         monkeypatch):
    import bharnet.engine.fit as run  # the command imports fit from it when it runs

    real_fit = run.fit
    monkeypatch.setattr(run, "fit", lambda cfg, **kw: real_fit(cfg, callbacks=[FixedPredictions()], **kw))
    path = tmp_path / "run.yaml"
    OmegaConf.save(tiny_config(store, tmp_path, trainer={"max_epochs": 2}), path)
    assert main(["train", str(path)]) == 0  # captured output is not a terminal
    out = capsys.readouterr().out
    epochs = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 2 and "val/top1=0.3750" in epochs[0] and "val/top1=0.2500" in epochs[1]
    assert "train/loss=" in epochs[0]
    assert "best.ckpt  val/top1=0.3750" in out and "last epoch: val/top1=0.2500" in out
    with open(tmp_path / "run" / "csv" / "version_0" / "metrics.csv") as f:
        logged = [float(r["val/top1"]) for r in csv.DictReader(f) if r["val/top1"]]
    assert max(logged) == 0.375


class CtrlCInSecondEpoch(Callback):
    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == 1:
            raise KeyboardInterrupt


def test_ctrl_c_says_how_to_resume_and_the_rerun_says_it_resumed(tiny_config, store, tmp_path, capsys, monkeypatch):
    import bharnet.engine.fit as run  # the command imports fit from it when it runs

    real_fit = run.fit
    monkeypatch.setattr(run, "fit", lambda cfg, **kw: real_fit(cfg, callbacks=[CtrlCInSecondEpoch()], **kw))
    path = tmp_path / "run.yaml"
    OmegaConf.save(tiny_config(store, tmp_path, trainer={"max_epochs": 2}), path)
    before = signal.getsignal(signal.SIGINT)
    assert main(["train", str(path)]) == 130
    err = capsys.readouterr().err
    assert "interrupted: training stopped; run the same command again to resume from" in err
    assert signal.getsignal(signal.SIGINT) == before  # Ctrl-C works again after the run
    monkeypatch.setattr(run, "fit", real_fit)
    assert main(["train", str(path)]) == 0
    assert f"resuming from {tmp_path / 'run' / 'checkpoints' / 'last.ckpt'}" in capsys.readouterr().err


@pytest.fixture(scope="module")
def one_epoch(tiny_config, store, tmp_path_factory):
    """A run folder after one epoch (last.ckpt), copied by each test that resumes it."""
    root = tmp_path_factory.mktemp("one-epoch")
    fit(tiny_config(store, root, trainer={"max_epochs": 1}), quiet=True)
    return root


def test_resume_never_unpickles_code(tiny_config, store, one_epoch, tmp_path, monkeypatch):
    """Whatever torch's default, a resumed run reads last.ckpt with weights_only=True."""
    shutil.copytree(one_epoch / "run", tmp_path / "run")
    real_load, seen = torch.load, []

    def recording_load(*args, **kwargs):
        seen.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", recording_load)
    result = fit(tiny_config(store, tmp_path, trainer={"max_epochs": 2}), quiet=True)
    assert result["resumed_from"] and seen and all(w is True for w in seen), seen


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("true",))


def test_a_last_checkpoint_that_would_run_code_is_refused(tiny_config, store, one_epoch, tmp_path):
    shutil.copytree(one_epoch / "run", tmp_path / "run")
    torch.save({"state_dict": {}, "hyper_parameters": {}, "code": _RunsCode()},
               tmp_path / "run" / "checkpoints" / "last.ckpt")
    with pytest.raises(UserError, match=r"last.ckpt is not a bharnet checkpoint: .*would run code.*--no-resume"):
        fit(tiny_config(store, tmp_path, trainer={"max_epochs": 2}), quiet=True)
