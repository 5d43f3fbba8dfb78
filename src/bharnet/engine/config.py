"""Run configuration: one YAML file fully describes a run.

A file may list bases under ``_base_`` (paths relative to the file); they are merged in
order, then the file itself, then command-line overrides (``optim.lr=0.05``). Every key is
checked against the schema below, so a typo is an error, not a silently ignored setting.
The resolved configuration is saved beside the checkpoints as ``config.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from ..data.transforms import HAND_NORMS, MODALITIES
from ..errors import UserError
from ..models import list_models
from ..models.backbones import BACKBONES

__all__ = ["RunConfig", "load_config", "make_config", "to_dict"]


@dataclass
class SynthConfig:
    """BodyHand-Synth, generated into ``data.store`` when that folder does not exist yet."""

    num_samples: int = 6000
    seed: int = 0
    #: overrides of ``bharnet.data.synthetic.Variation`` (noise, camera, dropouts, ...)
    variation: dict[str, Any] = field(default_factory=dict)


@dataclass
class DataConfig:
    store: str = "???"
    synth: SynthConfig | None = None
    train_split: str = "train"
    val_split: str | None = "test"
    test_split: str = "test"
    window: int = 64
    modality: str = "joint"
    train_crop: list[float] = field(default_factory=lambda: [0.5, 1.0])
    test_crop: float = 0.95
    rotation: float = 0.3
    hand_rotation: float = 0.3
    hand_norm: str = "wrist"
    centre: bool = True
    batch_size: int = 16
    eval_batch_size: int = 64
    num_workers: int = 2


@dataclass
class InitConfig:
    """Two-stage training: start a dual-stream model from two trained experts."""

    body: str | None = None
    hand: str | None = None
    freeze: bool = False


@dataclass
class ModelConfig:
    name: str = "body-expert"
    backbone: str = "degcn"
    base_channels: int = 64
    dropout: float = 0.0
    #: extra keyword arguments of the model (e.g. lambda_cpl, label_smoothing)
    kwargs: dict[str, Any] = field(default_factory=dict)
    #: attention settings (heads, head_dim, nb_features, tokens, redraw_interval), given to the
    #: variants with attention only, so that one recipe serves every variant of an ablation
    attention: dict[str, Any] = field(default_factory=dict)
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
    return {"data.modality": MODALITIES, "data.hand_norm": HAND_NORMS, "optim.schedule": ("cosine", "step"),
            "model.backbone": BACKBONES, "model.name": tuple(m for m in list_models() if m not in BACKBONES)}


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


def load_config(path: str | Path, overrides: list[str] | None = None) -> DictConfig:
    """Read a YAML run description with its bases and overrides; validate it."""
    cfg = make_config(_read_yaml(Path(path)), overrides=overrides)
    if cfg.data.store == "???":
        raise UserError(f"{path}: data.store is not set")
    return cfg


def to_dict(cfg: DictConfig) -> dict:
    """Plain containers only: checkpoints must load with ``torch.load(weights_only=True)``."""
    return OmegaConf.to_container(cfg, resolve=True)
