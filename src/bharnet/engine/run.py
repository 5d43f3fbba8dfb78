"""Library entry points of the engine: train a run, load a checkpoint, predict a split."""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from omegaconf import DictConfig, OmegaConf

from bharnet.core.atomic import atomic_file
from bharnet.core.errors import UserError
from bharnet.engine.config import to_dict
from bharnet.engine.module import ActionModule, SkeletonDataModule
from bharnet.models.bharnet import init_from_experts
from bharnet.store.synthetic import write_synth_store

__all__ = ["fit", "load_checkpoint", "load_model_state", "save_checkpoint", "predict", "classify", "stack_inputs",
           "run_dir", "FitResult"]


class RngStateCallback(Callback):
    """Saves the global random states in checkpoints and restores them on resume, so that
    dropout and random-feature redraws continue exactly as in an uninterrupted run."""

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict) -> None:
        checkpoint["rng_torch"] = torch.get_rng_state()

    def on_load_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict) -> None:
        if "rng_torch" in checkpoint:
            torch.set_rng_state(checkpoint["rng_torch"])


class FitResult(dict):
    """What :func:`fit` returns: ``run_dir``, ``best`` and ``last`` checkpoints, ``seconds``,
    and the final ``val`` metrics."""


def run_dir(cfg: DictConfig | dict) -> Path:
    return Path(cfg["out_dir"]) / cfg["name"]


def _prepare_store(cfg: DictConfig) -> None:
    store = Path(cfg.data.store)
    if (store / "meta.json").exists():
        return
    if cfg.data.synth is None:
        raise UserError(f"data.store {store} is not a bharnet store (no meta.json); prepare it with "
                        "`bharnet prepare ...`, or set data.synth to generate BodyHand-Synth there")

    synth = cfg.data.synth
    write_synth_store(store, num_samples=synth.num_samples, seed=synth.seed, preset=synth.preset, **synth.variation)


def _quiet_lightning() -> None:
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch.accelerators.cuda",
                 "lightning.fabric.utilities.seed"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")
    warnings.filterwarnings("ignore", message=".*treespec.*")


def fit(cfg: DictConfig, resume: bool = True, quiet: bool = False, callbacks: list[Callback] = ()) -> FitResult:
    """Train the run ``cfg`` describes; resume from its ``last.ckpt`` when there is one.

    Writes ``<out_dir>/<name>/``: ``config.yaml`` (resolved), ``checkpoints/`` (best and last),
    ``tensorboard/`` and ``csv/`` logs.
    """
    _quiet_lightning()
    out = run_dir(cfg)
    out.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, out / "config.yaml")
    _prepare_store(cfg)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    config = to_dict(cfg)
    data = SkeletonDataModule(config["data"], streams=(), seed=cfg.seed)
    module = ActionModule(config, data.store.meta)
    data.streams = module.streams
    _init_from_experts(module, cfg)
    last = out / "checkpoints" / "last.ckpt"
    ckpt_path = str(last) if resume and last.exists() else None
    checkpoint = ModelCheckpoint(dirpath=out / "checkpoints", filename="best", monitor="val/top1", mode="max",
                                 save_top_k=1, auto_insert_metric_name=False, enable_version_counter=False)
    # every epoch, whatever the metric did: what a resumed run continues from
    every_epoch = ModelCheckpoint(dirpath=out / "checkpoints", filename="last", save_top_k=1,
                                  enable_version_counter=False)
    trainer = L.Trainer(
        **config["trainer"], default_root_dir=out, deterministic=False, num_sanity_val_steps=0,
        use_distributed_sampler=False,  # EpochSampler shards by rank itself
        callbacks=[*callbacks, checkpoint, every_epoch, RngStateCallback(), LearningRateMonitor("epoch")],
        logger=[TensorBoardLogger(out, name="tensorboard", version=""), CSVLogger(out, name="csv")],
        enable_model_summary=not quiet,
    )
    start = time.perf_counter()
    trainer.fit(module, datamodule=data, ckpt_path=ckpt_path)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
    return FitResult(run_dir=out, best=Path(checkpoint.best_model_path) if checkpoint.best_model_path else last,
                     last=last, seconds=time.perf_counter() - start, val=metrics, module=module)


def _init_from_experts(module: ActionModule, cfg: DictConfig) -> None:
    init = cfg.model.init
    if not (init.body or init.hand):
        return
    if not (init.body and init.hand):
        raise UserError("model.init needs both a body and a hand expert checkpoint")

    init_from_experts(module.model, load_model_state(init.body), load_model_state(init.hand), freeze=init.freeze)


def _read_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"checkpoint {path} not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise UserError(f"{path} is not a readable bharnet checkpoint: {err}".splitlines()[0]) from err
    if "hyper_parameters" not in ckpt or "state_dict" not in ckpt:
        raise UserError(f"{path} is not a bharnet checkpoint (no hyper_parameters / state_dict)")
    return ckpt


def load_model_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The model's own ``state_dict`` from a training checkpoint (the ``model.`` prefix removed)."""
    state = _read_checkpoint(path)["state_dict"]
    return {k.removeprefix("model."): v for k, v in state.items() if k.startswith("model.")}


def load_checkpoint(path: str | Path) -> ActionModule:
    """Rebuild the trained module from a checkpoint alone (no code runs while loading)."""
    ckpt = _read_checkpoint(path)
    hp = ckpt["hyper_parameters"]
    module = ActionModule(hp["config"], hp["store_meta"])
    module.load_state_dict(ckpt["state_dict"])
    return module.eval()


def save_checkpoint(module: ActionModule, path: str | Path) -> Path:
    """Save a module built without training (e.g. a score fusion of two experts) in the format
    of training checkpoints, so that :func:`load_checkpoint` and ``bharnet test`` take it."""
    with atomic_file(path) as f:
        torch.save({"hyper_parameters": {"config": module.config, "store_meta": module.store_meta},
                    "state_dict": module.state_dict()}, f)
    return Path(path)


def stack_inputs(samples: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """A batch from the sample view's outputs of several samples."""
    return {key: torch.from_numpy(np.stack([s[key] for s in samples])) for key in samples[0]}


@torch.no_grad()
def classify(module: ActionModule, inputs: dict[str, torch.Tensor],
             device: str | torch.device | None = None) -> dict[str, np.ndarray]:
    """Every branch's logits of one batch of inputs (eval mode, on ``device``: default the GPU
    when there is one)."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    module = module.to(device).eval()
    return {name: v.float().cpu().numpy() for name, v in module({k: t.to(device) for k, t in inputs.items()}).items()}


@torch.no_grad()
def predict(module: ActionModule, loader: torch.utils.data.DataLoader, transform=None,
            device: str | torch.device | None = None) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Run a module over a loader; returns store indices, labels and the logits of every branch.

    ``transform`` (optional) changes each batch's inputs first, e.g. a robustness perturbation.
    ``device``: where to run (default: the GPU when there is one, else the CPU).
    """
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    module = module.to(device).eval()
    indices, labels, logits = [], [], {}
    for batch in loader:
        inputs = {k: v.to(device) for k, v in batch.items() if k not in ("label", "index")}
        if transform is not None:
            inputs = transform(inputs)
        for name, value in module(inputs).items():
            logits.setdefault(name, []).append(value.float().cpu().numpy())
        indices.append(batch["index"].numpy())
        labels.append(batch["label"].numpy())
    return np.concatenate(indices), np.concatenate(labels), {k: np.concatenate(v) for k, v in logits.items()}
