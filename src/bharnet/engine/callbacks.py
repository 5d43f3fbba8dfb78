"""Lightning callbacks of a training run: random states that survive a resume, one line per epoch."""

from __future__ import annotations

import time

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

__all__ = ["RngStateCallback", "EpochLines"]


class RngStateCallback(Callback):
    """Saves the global random states in checkpoints and restores them on resume, so that
    dropout and random-feature redraws continue exactly as in an uninterrupted run."""

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict) -> None:
        checkpoint["rng_torch"] = torch.get_rng_state()

    def on_load_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict) -> None:
        if "rng_torch" in checkpoint:
            torch.set_rng_state(checkpoint["rng_torch"])


class EpochLines(Callback):
    """One line per epoch (losses, accuracies, seconds) for output that is not a terminal (a
    batch job, nohup), where the progress bar shows nothing useful."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.global_rank != 0:
            return
        shown = {k: float(v) for k, v in sorted(trainer.callback_metrics.items())
                 if k.startswith(("train/", "val/")) and k != "train/top1_step" and v.numel() == 1}
        values = "  ".join(f"{k.removesuffix('_epoch')}={v:.4f}" for k, v in shown.items())
        print(f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}  {values}  "
              f"({time.perf_counter() - self._start:.0f} s)", flush=True)
