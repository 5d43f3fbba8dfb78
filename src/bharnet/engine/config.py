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

from ..errors import UserError

__all__ = ["RunConfig", "load_config", "make_config", "to_dict"]


@dataclass
class SynthConfig:
    """BodyHand-Synth, generated into ``data.store`` when that folder does not exist yet."""

    num_samples: int = 6000
    seed: int = 0
    #: a named setting of ``bharnet.data.synthetic.SYNTH_PRESETS`` (e.g. ``hand-dominant``), or none
    preset: str | None = None
    #: overrides of ``bharnet.data.synthetic.Variation`` (noise, camera, dropouts, ...)
    variation: dict[str, Any] = field(default_factory=dict)


@dataclass
class DataConfig:
    store: str = "???"
    synth: SynthConfig | None = None
    train_split: str = "train"
    #: "auto": the store's ``val`` split, else a held-out slice of ``train_split`` (bharnet.data.splits)
    val_split: str | None = "auto"
    test_split: str = "test"
    #: share of the training split held out by ``val_split=auto`` when the store has no ``val``
    val_fraction: float = 0.1
    #: regular expression naming each sample's group (subject, session) for that slice; None: from the names
    val_group: str | None = None
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
        raise UserError(f"invalid configuration: {err}".splitlines()[0]) from err
    return cfg


def load_config(path: str | Path, overrides: list[str] | None = None) -> DictConfig:
    """Read a YAML run description with its bases and overrides; validate it."""
    cfg = make_config(_read_yaml(Path(path)), overrides=overrides)
    if cfg.data.store == "???":
        raise UserError(f"{path}: data.store is not set")
    return cfg


def to_dict(cfg: DictConfig) -> dict:
    """Plain containers only: checkpoints must load with ``torch.load(weights_only=True)``."""
    return OmegaConf.to_container(cfg, resolve=True)
