"""Training a run: its store made ready, its model started as the recipe says, Lightning's fit."""

from __future__ import annotations

import copy
import inspect
import logging
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import Callback, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from omegaconf import DictConfig, OmegaConf

from bharnet.core.errors import UserError
from bharnet.core.outputs import check_output_folder, holds_only
from bharnet.data.dataset import SkeletonDataset
from bharnet.data.splits import AUTO
from bharnet.data.view import AUTO_HAND_NORM, auto_hand_norm
from bharnet.engine.callbacks import EpochLines, RngStateCallback
from bharnet.engine.checkpoints import load_model_state, read_checkpoint
from bharnet.engine.config import to_dict
from bharnet.engine.module import ActionModule, SkeletonDataModule
from bharnet.models import list_models, model_spec
from bharnet.models.bharnet import init_from_experts
from bharnet.models.resnet import load_imagenet_weights, resolve_imagenet_weights
from bharnet.store.packed import SkeletonStore
from bharnet.synth.objects import select_classes
from bharnet.synth.store import write_synth_rgb_store, write_synth_store

__all__ = ["fit", "prepare_store", "settle_hand_norm", "check_splits", "run_dir", "FitResult", "RUN_FILES"]


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
    # BHaRNet-M's frozen guide stays in eval mode while the RGB stream trains, on purpose
    warnings.filterwarnings("ignore", message=r".*module\(s\) in eval mode at the start of training.*")


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
    cfg = settle_hand_norm(cfg, quiet)
    last = out / "checkpoints" / "last.ckpt"
    ckpt_path = _resumable(last) if resume and last.exists() else None
    out.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, out / "config.yaml")
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    config = to_dict(cfg)
    data = SkeletonDataModule(config["data"], streams=(), seed=cfg.seed)
    module = ActionModule(config, data.store.meta)
    data.streams = module.streams
    if not quiet:
        _warn_empty_streams(data, cfg.model.name)
    _initialise(module, cfg)
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


def settle_hand_norm(cfg: DictConfig, quiet: bool = True) -> DictConfig:
    """``cfg`` with ``data.hand_norm=auto`` made concrete for its training data (a copy; ``cfg``
    itself when the setting is concrete already). The run saves the concrete one, so its
    checkpoints test, export and predict with what they were trained on."""
    if cfg.data.hand_norm != AUTO_HAND_NORM:
        return cfg
    train = SkeletonDataset(SkeletonStore(cfg.data.store), cfg.data.train_split, ("body",))
    body_in_view = "body" not in train.empty_streams()
    settled = copy.deepcopy(cfg)
    settled.data.hand_norm = auto_hand_norm(body_in_view)
    if not quiet:
        why = "a body is in view" if body_in_view else "no body is in view, so the hands keep their path"
        print(f"data.hand_norm=auto: {settled.data.hand_norm} ({why} in the training samples)", file=sys.stderr)
    return settled


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


#: what to train instead when a stream the model reads is empty in the store
_INSTEAD = {"body": "the hand expert (model.name=hand-expert, as recipes/hand-gestures-cpu.yaml trains it)",
            "hand": "the body expert (model.name=body-expert)"}
_NOTHING = {"body": "no body in view", "hand": "no hand seen"}


def _warn_empty_streams(data: SkeletonDataModule, model: str) -> None:
    """Say so before training when a stream the model reads holds nothing in the training samples looked at."""
    for stream in data.dataset(data.cfg["train_split"]).empty_streams():
        print(f"warning: {data.store.path}: {_NOTHING[stream]} in any training sample looked at, so the {stream} "
              f"stream of {model} has nothing to learn from; for such clips train {_INSTEAD[stream]}",
              file=sys.stderr)


def _resumable(last: Path) -> str:
    """``last`` if it is a whole checkpoint that loads without running code; else a
    :class:`UserError` saying how to start afresh."""
    try:
        read_checkpoint(last)
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


def _initialise(module: ActionModule, cfg: DictConfig) -> None:
    """Start the model from what ``model.init`` names, each way only where its spec allows it."""
    init, name = cfg.model.init, cfg.model.name
    allowed = model_spec(name).init
    if init.get("rgb"):
        if "imagenet" not in allowed:
            raise UserError(f"model.init.rgb: {name} has no RGB stream")
        _init_rgb(module, init.rgb)
    if init.get("guide"):
        if "guide" not in allowed:
            raise UserError(f"model.init.guide: {name} takes no guide (only {', '.join(list_models(init='guide'))} "
                            "does)")
        try:
            module.model.load_guide(load_model_state(init.guide))
        except (ValueError, RuntimeError) as err:
            raise UserError(f"model.init.guide {init.guide}: {err}".splitlines()[0]) from err
    if not (init.body or init.hand):
        return
    if not (init.body and init.hand):
        raise UserError("model.init needs both a body and a hand expert checkpoint")
    if "experts" not in allowed:
        raise UserError(f"model.init.body / hand: {name} does not start from experts (the models that do: "
                        f"{', '.join(list_models(init='experts'))})")
    init_from_experts(module.model, load_model_state(init.body), load_model_state(init.hand), freeze=init.freeze)


def _init_rgb(module: ActionModule, weights: str) -> None:
    path = resolve_imagenet_weights(None if weights.startswith("imagenet") else weights,
                                    download=weights == "imagenet-download")
    load_imagenet_weights(module.model.rgb, path)
