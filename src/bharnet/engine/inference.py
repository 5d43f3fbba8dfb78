"""Running a trained module: one batch of inputs, or every batch of a loader."""

from __future__ import annotations

import numpy as np
import torch

from bharnet.core.errors import UserError
from bharnet.engine.module import ActionModule

__all__ = ["default_device", "available_devices", "check_device", "stack_inputs", "classify", "predict"]


def default_device() -> str:
    """Where a module runs when nobody says: the GPU when there is one, else the CPU."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def available_devices() -> list[str]:
    """The devices torch can run on here: ``cpu``, then every device of the machine's accelerator
    (``cuda:0``, ``cuda:1``, ..., or ``mps:0``)."""
    found = ["cpu"]
    if hasattr(torch, "accelerator"):  # torch >= 2.6: any accelerator (CUDA, ROCm, MPS, XPU, ...)
        if torch.accelerator.is_available():
            kind = torch.accelerator.current_accelerator().type
            found += [f"{kind}:{i}" for i in range(torch.accelerator.device_count())]
    elif torch.cuda.is_available():
        found += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    elif torch.backends.mps.is_available():
        found.append("mps:0")
    return found


def check_device(name: str, flag: str = "--device") -> torch.device:
    """``name`` (``cpu``, ``cuda``, ``cuda:N``, ``mps``, ...) as a device torch can use here; a device
    without an index is its first one. A name that is no device, or one this machine does not
    have, is a :class:`UserError` that lists what is available."""
    available = available_devices()
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"{flag} {name}: not a device name (available: {', '.join(available)})") from None
    if device.type == "cpu":
        return torch.device("cpu")
    device = torch.device(device.type, device.index or 0)
    if str(device) not in available:
        raise UserError(f"{flag} {name}: not available on this machine (available: {', '.join(available)})")
    return device


def stack_inputs(samples: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """A batch from the sample view's outputs of several samples."""
    return {key: torch.from_numpy(np.stack([s[key] for s in samples])) for key in samples[0]}


@torch.no_grad()
def classify(module: ActionModule, inputs: dict[str, torch.Tensor],
             device: str | torch.device | None = None) -> dict[str, np.ndarray]:
    """Every branch's logits of one batch of inputs (eval mode, on ``device``: default the GPU
    when there is one)."""
    device = device or default_device()
    module = module.to(device).eval()
    return {name: v.float().cpu().numpy() for name, v in module({k: t.to(device) for k, t in inputs.items()}).items()}


@torch.no_grad()
def predict(module: ActionModule, loader: torch.utils.data.DataLoader, transform=None,
            device: str | torch.device | None = None) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Run a module over a loader; returns store indices, labels and the logits of every branch.

    ``transform`` (optional) changes each batch's inputs first, e.g. a robustness perturbation.
    ``device``: where to run (default: the GPU when there is one, else the CPU).
    """
    device = device or default_device()
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
