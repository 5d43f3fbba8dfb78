"""The public DeGCN code (github.com/WoominM/DeGCN_pytorch, a checkout supplied by the user) as a
reference for ``bharnet benchmark --reference``: its ``Model`` class loaded from the checkout,
built with our DeGCN's weights under its names, and what it can be compared with (our DeGCN body
expert at 64 frames)."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from bharnet.core.errors import UserError
from bharnet.models import expert_for
from bharnet.models.backbones.degcn import to_reference_degcn_state

__all__ = ["REFERENCE_VARIANTS", "load_reference_degcn", "reference_degcn", "check_reference", "calibrate"]

#: the DeGCN reference network compares with our DeGCN on the NTU-25 layout only
#: what the public DeGCN code implements: its single-stream body model
REFERENCE_VARIANTS = (expert_for("body"), "degcn")


def load_reference_degcn(path: str | os.PathLike) -> type:
    """The ``Model`` class of a checkout of the public DeGCN code (``model/degcn.py``, ``graph/``).

    The checkout's top-level packages are called ``model`` and ``graph``, so ``path`` goes first on
    ``sys.path`` and any other modules of those names are dropped from ``sys.modules`` first.
    """
    root = Path(path).expanduser().resolve()
    needed = [root / "model" / "degcn.py", root / "graph" / "ntu_rgb_d.py"]
    missing = [str(p.relative_to(root)) for p in needed if not p.is_file()]
    if missing:
        raise UserError(f"{root}: does not look like a checkout of the public DeGCN code "
                        f"(github.com/WoominM/DeGCN_pytorch): missing {', '.join(missing)}")
    for name in list(sys.modules):
        if name.split(".")[0] in ("model", "graph"):
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if not origin.startswith(str(root)):
                del sys.modules[name]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        module = importlib.import_module("model.degcn")
    except ImportError as err:
        raise UserError(f"{root}: importing its model/degcn.py failed: {err}") from err
    if not hasattr(module, "Model"):
        raise UserError(f"{root / 'model' / 'degcn.py'}: has no Model class")
    return module.Model


def _degcn_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """Our DeGCN state dict (``blocks.*``, ``fc.*``) of a bare DeGCN or a DeGCN body expert."""
    state = model.state_dict()
    if not any(k.startswith("backbone.") for k in state):
        return state
    out = {k.removeprefix("backbone."): v for k, v in state.items() if k.startswith("backbone.")}
    out.update({k.removeprefix("head."): v for k, v in state.items() if k.startswith("head.fc.")})
    return out


def reference_degcn(path: str | os.PathLike, model: nn.Module, num_classes: int, persons: int) -> nn.Module:
    """The public code's single-stream DeGCN with ``model``'s weights (see ``to_reference_degcn_state``)."""
    model_cls = load_reference_degcn(path)
    try:
        ref = model_cls(num_class=num_classes, num_point=25, num_person=persons, num_stream=1,
                        graph="graph.ntu_rgb_d.Graph", graph_args={"labeling_mode": "spatial"}, in_channels=3)
    except Exception as err:  # noqa: BLE001  (user-supplied code: any failure is the checkout's)
        raise UserError(f"{path}: building its Model(num_stream=1) failed: {err!r}") from err
    state = to_reference_degcn_state(_degcn_state(model))
    target = ref.state_dict()
    bad = sorted(k for k in state if k in target and target[k].shape != state[k].shape)
    if bad or set(state) != set(target):
        raise UserError(f"{path}: its Model's parameters do not match DeGCN's (unexpected "
                        f"{sorted(set(target) - set(state))[:5]}, missing {sorted(set(state) - set(target))[:5]}, "
                        f"shape differs {bad[:5]})")
    ref.load_state_dict(state)
    return ref


def check_reference(names: Sequence[str], backbone: str, frames: int) -> None:
    """Refuse what the public DeGCN code cannot compare with: other models, backbones, clip lengths."""
    wrong = [n for n in names if n not in REFERENCE_VARIANTS]
    if wrong or backbone != "degcn":
        raise UserError(f"--reference compares the DeGCN body expert only ({', '.join(REFERENCE_VARIANTS)} "
                        f"with backbone degcn), not {', '.join(wrong) or backbone}")
    if frames != 64:
        raise UserError(f"--reference needs --frames 64 (the public DeGCN code is fixed to 64 frames), "
                        f"got {frames}")


def calibrate(model: nn.Module, inputs: Any) -> None:
    """One training-mode forward pass so that batch-norm statistics match the data (a fresh network's
    eval-mode outputs are otherwise of the order of 1e3, and so are their rounding differences)."""
    model.train()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.reset_running_stats()
                m.momentum = None  # cumulative average: one batch sets the statistics
        model(inputs)
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.momentum = 0.1
