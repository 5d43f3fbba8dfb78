"""Run configuration: a run is composed from YAML files and validated against one schema.

The recipes ship with the package (``bharnet/configs``): bases (``base/``) and two groups, the
data set and its split (``dataset/``) and the model (``model/``). A run names one of each,
``dataset=ntu60-xsub model=bharnet-e``, on top of DeGCN's recipe (``base/degcn.yaml``), or
gives its own YAML file. A file may list bases under ``_base_`` (paths relative to the file);
they are merged in order, then the file itself, then the groups, then command-line overrides
(``optim.lr=0.05``). A model's stage is its spec's: the model group of a model trained from the
experts (stage ``finetune``) comes on top of the second stage's base (``base/finetune.yaml``).
Every key is checked against the schema below, so a typo is an error, not a silently ignored
setting. The resolved configuration is saved beside the checkpoints as
``config.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from bharnet.core.errors import UserError
from bharnet.data.transforms import HAND_NORMS, MODALITIES
from bharnet.data.view import AUTO_HAND_NORM, ViewConfig
from bharnet.models import expert_for, is_model, list_backbones, list_models, model_spec

__all__ = ["RunConfig", "AttentionConfig", "CONFIGS", "GROUPS", "list_group", "split_overrides", "parse_run_args",
           "load_config", "make_config", "to_dict"]

#: the recipes shipped with the package
CONFIGS = Path(str(resources.files("bharnet") / "configs"))
#: config groups: a run names one file of each (``dataset=ucla``)
GROUPS = ("dataset", "model")
#: what a run composed from groups alone starts from
DEFAULT_BASE = "base/degcn.yaml"
#: what the model group of a model trained from the experts comes on top of
FINETUNE_BASE = "base/finetune.yaml"


@dataclass
class SynthConfig:
    """BodyHand-Synth, generated into ``data.store`` when that folder does not exist yet."""

    num_samples: int = 6000
    seed: int = 0
    #: a named setting of ``bharnet.synth.variation.SYNTH_PRESETS`` (e.g. ``hand-dominant``), or none
    preset: str | None = None
    #: overrides of ``bharnet.synth.variation.Variation`` (noise, camera, dropouts, ...)
    variation: dict[str, Any] = field(default_factory=dict)
    #: rendered colour too: the object classes and an ST-ROI image per sample (``bharnet.synth.render``)
    rgb: bool = False
    #: a subset of the classes, by name (default: all)
    classes: list[str] | None = None


@dataclass
class DataConfig(ViewConfig):
    """The store, its splits and loading; the sample view's settings are inherited."""

    store: str = "???"
    synth: SynthConfig | None = None
    #: "auto": ``wrist`` where the training data has a body in view, else ``wrist+traj``
    #: (bharnet.data.view.auto_hand_norm); settled when training starts, and the run saves that
    hand_norm: str = AUTO_HAND_NORM
    train_split: str = "train"
    #: "auto": the store's ``val`` split, else a held-out slice of ``train_split`` (bharnet.data.splits)
    val_split: str | None = "auto"
    test_split: str = "test"
    #: share of the training split held out by ``val_split=auto`` when the store has no ``val``
    val_fraction: float = 0.1
    #: regular expression naming each sample's group (subject, session) for that slice; None: from the names
    val_group: str | None = None
    batch_size: int = 16
    eval_batch_size: int = 64
    num_workers: int = 2


@dataclass
class InitConfig:
    """Two-stage training: start a dual-stream model from two trained experts."""

    body: str | None = None
    hand: str | None = None
    freeze: bool = False
    #: BHaRNet-M: the trained body-expert / BHaRNet-E checkpoint whose body features guide the RGB stream
    guide: str | None = None
    #: BHaRNet-M: the RGB stream's starting weights: "imagenet" (from $BHARNET_RESNET18_WEIGHTS or the
    #: cache), "imagenet-download" (may download, checksum pinned), or a torchvision-format state dict path
    rgb: str | None = None


@dataclass
class AttentionConfig:
    """Cross-attention settings of the models that have attention (their spec says so); the
    others ignore them, so that one recipe serves every variant of an ablation. ``None`` keeps
    the model's default."""

    heads: int | None = None
    head_dim: int | None = None
    #: FAVOR+ random features
    nb_features: int | None = None
    #: which tokens attend: "tvm" (every time step, joint and person) or "tv" (persons averaged)
    tokens: str | None = None
    #: training steps between redraws of FAVOR+'s random features
    redraw_interval: int | None = None
    attention_dropout: float | None = None


@dataclass
class ModelConfig:
    name: str = field(default_factory=lambda: expert_for("body"))
    backbone: str = "degcn"
    base_channels: int = 64
    dropout: float = 0.0
    #: extra keyword arguments of the model (e.g. lambda_cpl, label_smoothing)
    kwargs: dict[str, Any] = field(default_factory=dict)
    attention: AttentionConfig = field(default_factory=AttentionConfig)
    init: InitConfig = field(default_factory=InitConfig)


@dataclass
class OptimConfig:
    """SGD with Nesterov momentum, linear warm-up, then cosine or step decay (DeGCN's recipe)."""

    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 4e-4
    warmup_epochs: float = 5
    schedule: str = "cosine"
    milestones: list[int] = field(default_factory=lambda: [35, 55])
    gamma: float = 0.1
    min_lr: float = 0.0


@dataclass
class TrainerConfig:
    """Passed to ``lightning.Trainer``: CPU, one GPU or DDP over many by settings alone."""

    max_epochs: int = 80
    accelerator: str = "auto"
    devices: Any = "auto"
    strategy: str = "auto"
    num_nodes: int = 1
    precision: str = "32-true"
    log_every_n_steps: int = 20
    limit_train_batches: Any = 1.0
    limit_val_batches: Any = 1.0
    check_val_every_n_epoch: int = 1
    gradient_clip_val: float | None = None
    enable_progress_bar: bool = True


@dataclass
class RunConfig:
    name: str = "run"
    out_dir: str = "runs"
    seed: int = 1
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    #: settings of the second stage (the models trained from the experts) when one recipe trains
    #: both stages (``bharnet ablate``, ``bharnet demo``), e.g. ``{trainer: {max_epochs: 2}}``
    second_stage: dict[str, Any] = field(default_factory=dict)
    #: settings of the guided RGB stream's run (BHaRNet-M) when one recipe trains it with the
    #: skeleton models (``bharnet demo``), e.g. ``{trainer: {max_epochs: 6}, model: {kwargs: {...}}}``
    rgb_stage: dict[str, Any] = field(default_factory=dict)


def _read_yaml(path: Path, seen: tuple[Path, ...] = ()) -> DictConfig:
    path = path.resolve()
    if path in seen:
        raise UserError(f"{path}: _base_ cycle ({' -> '.join(map(str, seen + (path,)))})")
    if not path.is_file():
        raise UserError(f"config file {path} not found")
    try:
        cfg = OmegaConf.load(path)
    except Exception as err:  # YAML syntax errors come in several types
        raise UserError(f"{path}: not valid YAML: {err}") from err
    bases = cfg.pop("_base_", [])
    bases = [bases] if isinstance(bases, str) else list(bases)
    merged = [_read_yaml(path.parent / base, seen + (path,)) for base in bases]
    return OmegaConf.merge(*merged, cfg) if merged else cfg


def make_config(*layers: dict | DictConfig, overrides: list[str] | None = None) -> DictConfig:
    """Merge dictionaries (and ``key=value`` overrides) onto the schema's defaults."""
    try:
        cfg = OmegaConf.merge(OmegaConf.structured(RunConfig), *layers)
        if overrides:
            cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(list(overrides)))
    except OmegaConfBaseException as err:
        raise UserError(f"invalid configuration: {_describe(err)}") from None
    check_values(cfg)
    return cfg


_TYPE_WORDS = {"Integer": "is not a whole number", "Float": "is not a number", "valid bool": "is not true or false"}


def _describe(err: OmegaConfBaseException) -> str:
    """One line naming the key and the value (OmegaConf's message spans several lines)."""
    first = str(err).splitlines()[0]
    key = getattr(err, "full_key", None)
    if not key:
        return first
    value = getattr(err, "value", None)
    for word, text in _TYPE_WORDS.items():
        if word in first and value is not None:
            return f"{key}: {value!r} {text}"
    return f"{key}: {first}"


def _choices() -> dict[str, tuple[str, ...]]:
    return {"data.modality": MODALITIES, "data.hand_norm": (*HAND_NORMS, AUTO_HAND_NORM),
            "optim.schedule": ("cosine", "step"), "model.backbone": tuple(list_backbones()),
            "model.name": tuple(list_models())}


_AT_LEAST = {"data.window": 1, "data.batch_size": 1, "data.eval_batch_size": 1, "data.num_workers": 0,
             "trainer.max_epochs": 1, "trainer.num_nodes": 1, "trainer.check_val_every_n_epoch": 1}
_NOT_NEGATIVE = ("optim.lr", "optim.weight_decay", "optim.warmup_epochs", "optim.min_lr", "optim.momentum",
                 "data.rotation", "data.hand_rotation")


def check_values(cfg: DictConfig) -> None:
    """Values the schema's types cannot check: choices, ranges. ``UserError`` naming the key, the
    value and what is allowed, before any work starts."""
    for key, allowed in _choices().items():
        value = OmegaConf.select(cfg, key)
        if value not in allowed:
            raise UserError(f"invalid configuration: {key}: {value!r} is not one of {', '.join(allowed)}")
    for key, low in _AT_LEAST.items():
        value = OmegaConf.select(cfg, key)
        if value < low:
            raise UserError(f"invalid configuration: {key}: {value}, expected a whole number >= {low}")
    for key in _NOT_NEGATIVE:
        if OmegaConf.select(cfg, key) < 0:
            raise UserError(f"invalid configuration: {key}: {OmegaConf.select(cfg, key)}, expected a number >= 0")
    crops = [("data.test_crop", cfg.data.test_crop)] + [("data.train_crop", c) for c in cfg.data.train_crop]
    for key, value in crops:
        if not 0 < value <= 1:
            raise UserError(f"invalid configuration: {key}: {value}, expected a fraction in (0, 1]")
    if len(cfg.data.train_crop) != 2 or cfg.data.train_crop[0] > cfg.data.train_crop[1]:
        raise UserError(f"invalid configuration: data.train_crop: {list(cfg.data.train_crop)}, expected "
                        "[low, high] fractions with low <= high")


def list_group(group: str, configs: Path = CONFIGS) -> list[str]:
    """The names a group offers (``list_group("model")``)."""
    return sorted(p.stem for p in (configs / group).glob("*.yaml"))


def split_overrides(items: list[str]) -> tuple[dict[str, str], list[str]]:
    """``["dataset=ucla", "optim.lr=0.05"]`` -> group choices and ``key=value`` overrides."""
    groups, overrides = {}, []
    for item in items:
        key, sep, value = item.partition("=")
        if sep and key in GROUPS:
            groups[key] = value
        else:
            overrides.append(item)
    return groups, overrides


def parse_run_args(items: list[str]) -> tuple[str | None, list[str]]:
    """The command line of a run, ``[CONFIG] [GROUP=NAME ...] [KEY=VALUE ...]``: the config file
    (or None) and the rest."""
    files = [item for item in items if "=" not in item]
    if len(files) > 1:
        raise UserError(f"one config file at most, got {' '.join(files)} (settings are KEY=VALUE)")
    return (files[0] if files else None), [item for item in items if "=" in item]


def _group_file(group: str, name: str, configs: Path) -> Path:
    path = configs / group / f"{name}.yaml"
    if not path.is_file():
        raise UserError(f"{group}={name}: no such {group}; choose one of {', '.join(list_group(group, configs))}")
    return path


def _group_layers(group: str, name: str, configs: Path) -> list[DictConfig]:
    """A group's file, on top of the second stage's base for a model its spec trains from the experts."""
    layer = _read_yaml(_group_file(group, name, configs))
    if group == "model" and is_model(name) and model_spec(name).stage == "finetune":
        return [_read_yaml(configs / FINETUNE_BASE), layer]
    return [layer]


def load_config(path: str | Path | None = None, overrides: list[str] | None = None,
                configs: str | Path | None = None) -> DictConfig:
    """Compose a run: the YAML file ``path`` (default: DeGCN's recipe), then the groups named in
    ``overrides`` (``dataset=NAME``, ``model=NAME``, files under ``configs``, default: the packaged
    recipes), then the ``key=value`` overrides; validate it."""
    configs = Path(configs) if configs is not None else CONFIGS
    groups, overrides = split_overrides(list(overrides or []))
    layers = [_read_yaml(Path(path) if path is not None else configs / DEFAULT_BASE)]
    for group in (g for g in GROUPS if g in groups):
        layers += _group_layers(group, groups[group], configs)
    cfg = make_config(*layers, overrides=overrides)
    if cfg.data.store == "???":
        raise UserError(f"{path or 'the run'}: data.store is not set (give a dataset=NAME or data.store=PATH)")
    return cfg


def to_dict(cfg: DictConfig) -> dict:
    """Plain containers only: checkpoints must load with ``torch.load(weights_only=True)``."""
    return OmegaConf.to_container(cfg, resolve=True)
