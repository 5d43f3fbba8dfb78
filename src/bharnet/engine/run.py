"""Library entry points of the engine: train a run, load a checkpoint, predict a split."""

from __future__ import annotations

import inspect
import logging
import pickle
import signal
import sys
import threading
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
from bharnet.core.outputs import check_output_folder, holds_only
from bharnet.data.splits import AUTO
from bharnet.engine.checkpoint_files import describe_contents, folder_message, foreign_file_kind
from bharnet.engine.config import to_dict
from bharnet.engine.module import ActionModule, SkeletonDataModule
from bharnet.models.bharnet import init_from_experts
from bharnet.models.resnet import load_imagenet_weights, resolve_imagenet_weights
from bharnet.store.packed import SkeletonStore
from bharnet.synth.objects import select_classes
from bharnet.synth.store import write_synth_rgb_store, write_synth_store

__all__ = ["fit", "load_checkpoint", "checkpoint_epoch", "load_model_state", "save_checkpoint", "predict", "classify",
           "stack_inputs", "run_dir", "FitResult"]


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


class FitResult(dict):
    """What :func:`fit` returns: ``run_dir``, ``best`` and ``last`` checkpoints, ``seconds``,
    the final ``val`` metrics, ``best_score`` (``val/top1`` of the best checkpoint) and
    ``resumed_from`` (the checkpoint a resumed run continued, else None)."""


#: what :func:`fit` writes in a run folder (and an ablation, ``export`` or ``live`` beside it)
RUN_FILES = ("*.yaml", "checkpoints", "tensorboard", "csv", "*.onnx", "*.json", "*.npz")


def run_dir(cfg: DictConfig | dict) -> Path:
    return Path(cfg["out_dir"]) / cfg["name"]


def prepare_store(cfg: DictConfig) -> None:
    """Make sure ``data.store`` exists: generate BodyHand-Synth there when ``data.synth`` asks for it."""
    store = Path(cfg.data.store)
    if (store / "meta.json").exists():
        return
    if cfg.data.synth is None:
        raise UserError(f"data.store {store} is not a bharnet store (no meta.json); prepare it with "
                        "`bharnet prepare ...`, or set data.synth to generate BodyHand-Synth there")

    synth = cfg.data.synth
    try:
        classes = select_classes(synth.get("classes"))
    except ValueError as err:
        raise UserError(f"data.synth.classes: {err}") from err
    if synth.get("rgb"):
        write_synth_rgb_store(store, num_samples=synth.num_samples, seed=synth.seed, classes=classes,
                              preset=synth.preset, **synth.variation)
    else:  # objects show only in colour; without a subset the preset / variation choose the classes
        subset = tuple(c for c in classes if c.group != "object") if synth.get("classes") else None
        write_synth_store(store, num_samples=synth.num_samples, seed=synth.seed, synth_classes=subset,
                          preset=synth.preset, **synth.variation)


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
    ``tensorboard/`` and ``csv/`` logs. An interruption (Ctrl-C) raises ``KeyboardInterrupt``
    with what to run to resume.
    """
    _quiet_lightning()
    out = check_output_folder(run_dir(cfg), flag="run folder (out_dir/name)", ours=holds_only(*RUN_FILES))
    prepare_store(cfg)
    check_splits(cfg, SkeletonStore(cfg.data.store))
    last = out / "checkpoints" / "last.ckpt"
    ckpt_path = _resumable(last) if resume and last.exists() else None
    out.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, out / "config.yaml")
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    config = to_dict(cfg)
    data = SkeletonDataModule(config["data"], streams=(), seed=cfg.seed)
    module = ActionModule(config, data.store.meta)
    data.streams = module.streams
    _init_from_experts(module, cfg)
    checkpoint = ModelCheckpoint(dirpath=out / "checkpoints", filename="best", monitor="val/top1", mode="max",
                                 save_top_k=1, auto_insert_metric_name=False, enable_version_counter=False)
    # every epoch, whatever the metric did: what a resumed run continues from
    every_epoch = ModelCheckpoint(dirpath=out / "checkpoints", filename="last", save_top_k=1,
                                  enable_version_counter=False)
    lines = [EpochLines()] if not quiet and not sys.stdout.isatty() else []
    trainer = L.Trainer(
        **config["trainer"], default_root_dir=out, deterministic=False, num_sanity_val_steps=0,
        use_distributed_sampler=False,  # EpochSampler shards by rank itself
        callbacks=[*callbacks, *lines, checkpoint, every_epoch, RngStateCallback(), LearningRateMonitor("epoch")],
        logger=[TensorBoardLogger(out, name="tensorboard", version=""), CSVLogger(out, name="csv")],
        enable_model_summary=not quiet,
    )
    if ckpt_path is not None and not quiet:
        print(f"resuming from {ckpt_path} (delete it or pass --no-resume to start afresh)", file=sys.stderr)
    start = time.perf_counter()
    _fit_interruptible(trainer, module, data, ckpt_path, last)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
    best_score = float(checkpoint.best_model_score) if checkpoint.best_model_score is not None else None
    return FitResult(run_dir=out, best=Path(checkpoint.best_model_path) if checkpoint.best_model_path else last,
                     last=last, seconds=time.perf_counter() - start, val=metrics, best_score=best_score,
                     resumed_from=ckpt_path, module=module)


def check_splits(cfg: DictConfig, store: SkeletonStore) -> None:
    """Every split the run names is in the store (before any work starts); ``val_split=auto`` is
    the store's ``val`` or a slice of train, always there."""
    for key in ("train_split", "val_split", "test_split"):
        split = cfg.data[key]
        if key == "val_split" and split == AUTO:
            continue
        if split is not None and split != "all" and split not in store.splits:
            raise UserError(f"invalid configuration: data.{key}: {split!r} is not a split of {store.path}; "
                            f"it has: {', '.join(sorted(store.splits)) or 'none'} (or 'all')")


def _resumable(last: Path) -> str:
    """``last`` if it is a whole checkpoint that loads without running code; else a
    :class:`UserError` saying how to start afresh."""
    try:
        _read_checkpoint(last)
    except UserError as err:
        raise UserError(f"{err}; cannot resume from it: delete {last} or run `bharnet train` with --no-resume "
                        "to start afresh") from None
    return str(last)


def _fit_interruptible(trainer: L.Trainer, module: ActionModule, data: SkeletonDataModule, ckpt_path: str | None,
                       last: Path) -> None:
    """``trainer.fit``, with Lightning's exit on Ctrl-C (``SystemExit(1)``, no message) turned
    into a ``KeyboardInterrupt`` that says how to resume, and Ctrl-C working again afterwards."""
    handler = signal.getsignal(signal.SIGINT)
    # checked with weights_only=True above; Lightning versions that take the argument load it so too
    safe = {"weights_only": True} if "weights_only" in inspect.signature(trainer.fit).parameters else {}
    try:
        trainer.fit(module, datamodule=data, ckpt_path=ckpt_path, **safe)
    except SystemExit:
        if not trainer.interrupted:
            raise
        resume = (f"run the same command again to resume from {last}" if last.exists()
                  else "no epoch finished, so nothing is saved")
        raise KeyboardInterrupt(f"training stopped; {resume}") from None
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, handler)


def _init_from_experts(module: ActionModule, cfg: DictConfig) -> None:
    init = cfg.model.init
    if init.get("rgb"):
        _init_rgb(module, init.rgb)
    if init.get("guide"):
        if not hasattr(module.model, "load_guide"):
            raise UserError(f"model.init.guide: {cfg.model.name} takes no guide (only bharnet-m does)")
        try:
            module.model.load_guide(load_model_state(init.guide))
        except (ValueError, RuntimeError) as err:
            raise UserError(f"model.init.guide {init.guide}: {err}".splitlines()[0]) from err
    if not (init.body or init.hand):
        return
    if not (init.body and init.hand):
        raise UserError("model.init needs both a body and a hand expert checkpoint")
    init_from_experts(module.model, load_model_state(init.body), load_model_state(init.hand), freeze=init.freeze)


def _init_rgb(module: ActionModule, weights: str) -> None:
    if not hasattr(module.model, "rgb"):
        raise UserError(f"model.init.rgb: {module.config['model']['name']} has no RGB stream")
    path = resolve_imagenet_weights(None if weights.startswith("imagenet") else weights,
                                    download=weights == "imagenet-download")
    load_imagenet_weights(module.model.rgb, path)


def _read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A bharnet training checkpoint, read without running code from it; ``UserError`` naming
    the file and what it is otherwise (never advice to load it in a way that would run code). Every
    command reads checkpoints through here."""
    path = Path(path)
    if path.is_dir():
        raise UserError(folder_message(path))
    if not path.is_file():
        raise UserError(f"checkpoint {path} not found")
    if path.stat().st_size == 0:
        raise UserError(f"{path} is empty (0 bytes), not a checkpoint: an interrupted save or copy?")
    try:
        kind = foreign_file_kind(path)
    except OSError as err:
        raise UserError(f"{path}: cannot read it ({err.strerror or err})") from None
    if kind is not None:
        raise UserError(f"{path} is not a bharnet checkpoint: {kind}")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols on its way to refusing
            warnings.simplefilter("ignore")
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise UserError(f"{path} is not a bharnet checkpoint: a PyTorch file holding Python objects beyond tensors "
                        "and plain containers (a whole pickled model?), which bharnet checkpoints never hold; "
                        "bharnet does not load it, as that would run code from the file") from None
    except Exception as err:  # noqa: BLE001 - torch reports a damaged file with several types
        raise UserError(f"{path} is not a readable checkpoint (truncated or damaged: {_first_line(err)})") from None
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise UserError(f"{path} is not a bharnet checkpoint: {describe_contents(ckpt)}")
    hp = ckpt.get("hyper_parameters")
    if not isinstance(hp, dict) or not isinstance(hp.get("config"), dict) or not isinstance(hp.get("store_meta"),
                                                                                             dict):
        raise UserError(f"{path} is not a bharnet checkpoint (no config and store description in its "
                        "hyper_parameters: saved by another program?)")
    return ckpt


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def checkpoint_epoch(path: str | Path) -> int:
    """The epoch a training checkpoint was saved at (-1 when it records none), read as every
    checkpoint is; ``UserError`` when it is not a whole bharnet checkpoint."""
    return int(_read_checkpoint(path).get("epoch", -1))


def load_model_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The model's own ``state_dict`` from a training checkpoint (the ``model.`` prefix removed)."""
    state = _read_checkpoint(path)["state_dict"]
    return {k.removeprefix("model."): v for k, v in state.items() if k.startswith("model.")}


def load_checkpoint(path: str | Path) -> ActionModule:
    """Rebuild the trained module from a checkpoint alone (no code runs while loading)."""
    ckpt = _read_checkpoint(path)
    hp = ckpt["hyper_parameters"]
    try:
        module = ActionModule(hp["config"], hp["store_meta"])
    except (KeyError, TypeError, ValueError) as err:
        raise UserError(f"{path}: its config does not describe a model this bharnet builds "
                        f"({_first_line(err)})") from None
    _load_weights(module, ckpt["state_dict"], path)
    return module.eval()


def _load_weights(module: torch.nn.Module, state: dict[str, torch.Tensor], path: str | Path) -> None:
    own = module.state_dict()
    differ = sorted(k for k in own.keys() | state.keys()
                    if k not in own or k not in state or own[k].shape != state[k].shape)
    if differ:
        raise UserError(f"{path}: its weights do not fit the model its config describes ({len(differ)} of "
                        f"{len(own)} tensors differ, e.g. {differ[0]}): an edited config, or another bharnet "
                        "version?")
    module.load_state_dict(state)


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
