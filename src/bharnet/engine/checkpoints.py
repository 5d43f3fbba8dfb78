"""Reading and writing bharnet training checkpoints: checked before anything loads, nothing run from them.

What a file that is not a checkpoint is instead (a folder, an archive, a pickled model) is told by
:mod:`bharnet.engine.checkpoint_files`.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path
from typing import Any

import torch

from bharnet.core.atomic import atomic_file
from bharnet.core.errors import UserError
from bharnet.engine.checkpoint_files import describe_contents, folder_message, foreign_file_kind
from bharnet.engine.module import ActionModule

__all__ = ["read_checkpoint", "checkpoint_epoch", "load_model_state", "load_checkpoint", "save_checkpoint"]


def read_checkpoint(path: str | Path) -> dict[str, Any]:
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
    return int(read_checkpoint(path).get("epoch", -1))


def load_model_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The model's own ``state_dict`` from a training checkpoint (the ``model.`` prefix removed)."""
    state = read_checkpoint(path)["state_dict"]
    return {k.removeprefix("model."): v for k, v in state.items() if k.startswith("model.")}


def load_checkpoint(path: str | Path) -> ActionModule:
    """Rebuild the trained module from a checkpoint alone (no code runs while loading)."""
    ckpt = read_checkpoint(path)
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
