"""CPU or GPU throughput of the models: inference and training samples/s, memory, achieved GFLOP/s.

:func:`benchmark_variants` times every named model on random inputs of one batch shape (median of
repeated runs after warm-up) and reports the machine next to the numbers: the CPU, its threads,
the device, the speed of a 2048 x 2048 matrix product on that device in the run's precision (what
the BLAS can reach), the software versions. Models, inputs and the reference network live on
``BenchConfig.device``; every timed call ends with a synchronisation of that device (its kernels
run asynchronously), and ``BenchConfig.amp`` runs inference and training under
``torch.autocast`` in bfloat16 or float16 (float16 training with a gradient scaler).
With ``reference=PATH`` (a checkout of the public DeGCN code, supplied by the user:
:mod:`bharnet.tools.reference_degcn`) the reference network runs on the same inputs with the same
weights, in the same process, timed in alternation with ours so that a change of machine load
affects both alike.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from bharnet import __version__
from bharnet.core.errors import UserError
from bharnet.core.machine import freed_memory_kept, usable_cores
from bharnet.engine.inference import check_device
from bharnet.models.cost import count_cost
from bharnet.tools.profile import build_named
from bharnet.tools.reference_degcn import calibrate, check_reference, load_reference_degcn, reference_degcn

__all__ = ["AMP_DTYPES", "BenchConfig", "machine_info", "synchronizer", "matmul_gflops", "peak_rss_mb",
           "reset_device_peak", "peak_device_mb", "build_variant", "make_inputs", "step_functions", "check_amp",
           "benchmark_variant", "benchmark_variants"]

#: ``--amp`` names and the autocast dtype of each
AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}

@dataclass
class BenchConfig:
    """Shape and repetition of a benchmark run."""

    batch: int = 16
    frames: int = 64
    persons: int = 2
    num_classes: int = 60
    backbone: str = "degcn"
    repeats: int = 5
    warmup: int = 1
    threads: int | None = None
    device: str = "cpu"
    amp: str | None = None

    def dtype(self) -> torch.dtype:
        """The precision of the run's matrix products: the autocast dtype, else float32."""
        return AMP_DTYPES[self.amp] if self.amp else torch.float32


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version() -> str:
    return __version__


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return _cpu_model() if device.type == "cpu" else device.type


def machine_info(device: torch.device | str = "cpu") -> dict[str, Any]:
    """CPU model, logical cores, usable cores, torch threads, load average, whether freed memory is
    kept in the process (:func:`~bharnet.core.machine.keep_freed_memory`), the device the models run
    on and its name (the GPU's model), software versions."""
    device = torch.device(device)
    return {
        "cpu": _cpu_model(), "logical_cores": os.cpu_count(), "usable_cores": usable_cores(),
        "torch_threads": torch.get_num_threads(), "load_average": [round(x, 2) for x in os.getloadavg()],
        "freed_memory_kept": freed_memory_kept(), "device": str(device), "device_name": _device_name(device),
        "torch": torch.__version__, "python": platform.python_version(), "bharnet": _version(),
        "platform": platform.platform(),
    }


def synchronizer(device: torch.device) -> Callable[[], None]:
    """A function that waits for the device's queued work (nothing to wait for on the CPU)."""
    if device.type == "cpu":
        return lambda: None
    if hasattr(torch, "accelerator"):  # torch >= 2.6
        return lambda: torch.accelerator.synchronize(device)
    return lambda: getattr(torch, device.type).synchronize()


def matmul_gflops(size: int = 2048, repeats: int = 5, device: torch.device | str = "cpu",
                  dtype: torch.dtype = torch.float32) -> float:
    """Achieved GFLOP/s of a ``size x size`` matrix product on ``device`` in ``dtype`` (median of
    ``repeats`` after one warm-up)."""
    device = torch.device(device)
    a, b = (torch.randn(size, size, device=device, dtype=dtype) for _ in range(2))
    times = time_calls(lambda: torch.mm(a, b), repeats, warmup=1, sync=synchronizer(device))
    return 2 * size ** 3 / statistics.median(times) / 1e9


def peak_rss_mb() -> float:
    """The process's resident-memory high-water mark in MiB (``getrusage``; KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def _allocator_stats(device: torch.device) -> Any:
    """The module with ``max_memory_allocated`` / ``reset_peak_memory_stats`` for ``device``, or None
    where its allocator keeps no such statistics (the CPU)."""
    if device.type == "cpu":
        return None
    if hasattr(torch, "accelerator") and hasattr(torch.accelerator, "max_memory_allocated"):
        return torch.accelerator
    return torch.cuda if device.type == "cuda" else None


def reset_device_peak(device: torch.device) -> None:
    """Start the device allocator's high-water mark afresh (nothing on the CPU)."""
    stats = _allocator_stats(device)
    if stats is not None:
        with suppress(RuntimeError):  # an accelerator whose allocator keeps no statistics
            stats.reset_peak_memory_stats(device)


def peak_device_mb(device: torch.device) -> float | None:
    """The device allocator's high-water mark in MiB since :func:`reset_device_peak`, or None where the
    device has no allocator statistics (the CPU: there :func:`peak_rss_mb` is the figure)."""
    stats = _allocator_stats(device)
    if stats is None:
        return None
    try:
        return stats.max_memory_allocated(device) / (1 << 20)
    except RuntimeError:
        return None


def time_calls(fn: Callable[[], Any], repeats: int, warmup: int,
               sync: Callable[[], None] = lambda: None) -> list[float]:
    """Seconds of each of ``repeats`` calls of ``fn()`` after ``warmup`` untimed ones; ``sync`` waits for
    the device before each clock reading, so that a call's time is its work's, queued kernels included."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return times


def build_variant(name: str, config: BenchConfig) -> nn.Module:
    """A registered model (``backbone``, ``persons`` body instances), or a backbone name as the
    body expert on that backbone."""
    return build_named(name, config.backbone, config.num_classes, config.frames, persons=config.persons)


def make_inputs(model: nn.Module, batch: int, frames: int, seed: int = 0,
                device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """Random inputs of the model's ``example_inputs`` shapes on ``device`` (drawn on the CPU, so the
    same seed gives the same values everywhere); masks stay all ones."""
    example = model.example_inputs(batch=batch, frames=frames)
    gen = torch.Generator().manual_seed(seed)

    def fill(key: str, t: torch.Tensor) -> torch.Tensor:
        return t if key.endswith("mask") else torch.randn(t.shape, generator=gen)

    return {k: fill(k, v).to(device) for k, v in example.items()}


def _logits(output: Any) -> torch.Tensor:
    if isinstance(output, dict):
        return output["logits"]
    if isinstance(output, (list, tuple)):
        return output[0]
    return output


def _loss(model: nn.Module, output: Any, labels: torch.Tensor) -> torch.Tensor:
    if hasattr(model, "compute_loss"):
        return model.compute_loss(output, labels)["loss"]
    return F.cross_entropy(_logits(output), labels)


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _autocast(device: torch.device, amp: str | None) -> Callable[[], AbstractContextManager]:
    if amp is None:
        return nullcontext
    return lambda: torch.autocast(device.type, dtype=AMP_DTYPES[amp])


def step_functions(model: nn.Module, inputs: Any, labels: torch.Tensor, device: torch.device,
                   amp: str | None = None, optimizer: torch.optim.Optimizer | None = None
                   ) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(inference, training step) closures; a training step is forward, the model's loss, backward and
    an update by ``optimizer`` (default: SGD with momentum). With ``amp`` both run under autocast;
    float16 training scales the loss (its gradients would underflow), as mixed-precision training does."""
    if optimizer is None:
        optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-4, momentum=0.9)
    autocast = _autocast(device, amp)
    scaler = torch.amp.GradScaler(device.type) if amp == "fp16" else None

    def infer() -> None:
        model.eval()
        with torch.inference_mode(), autocast():
            model(inputs)

    def train() -> None:
        model.train()
        optimizer.zero_grad(set_to_none=True)
        with autocast():
            loss = _loss(model, model(inputs), labels)
        if scaler is None:
            loss.backward()
            optimizer.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()

    return infer, train


def benchmark_variant(name: str, config: BenchConfig, reference: str | os.PathLike | None = None,
                      seed: int = 0) -> dict[str, Any]:
    """Time one model on ``config.device``: inference and training samples/s (median of ``repeats``
    after ``warmup``), the process's peak RSS and, on a device with allocator statistics, its peak
    memory (``peak_device_mb``), achieved GFLOP/s (multiply-adds x 2 of ``count_cost`` over the median
    time; a training step counted as 3 forward passes). With ``reference``: the public DeGCN code on
    the same device, inputs and weights (``reference_*`` keys, the ratios, ``max_abs_diff`` of the
    eval-mode logits, computed in float32 without autocast: it compares the two codes, not the
    precisions)."""
    device = check_device(config.device)
    check_amp(config.amp, device)
    torch.manual_seed(seed)
    model = build_variant(name, config)
    macs = count_cost(model, make_inputs(model, 1, config.frames, seed))["macs_all"]  # counted on the CPU
    model.to(device)
    inputs = make_inputs(model, config.batch, config.frames, seed, device)
    labels = torch.randint(0, config.num_classes, (config.batch,),
                           generator=torch.Generator().manual_seed(seed)).to(device)
    result: dict[str, Any] = {"variant": name, "backbone": config.backbone, "batch": config.batch,
                              "frames": config.frames, "persons": config.persons, "device": str(device),
                              "dtype": _dtype_name(config.dtype()),
                              "params": sum(p.numel() for p in model.parameters()), "gmacs_per_sample": macs / 1e9}
    reset_device_peak(device)
    ours = step_functions(model, inputs, labels, device, config.amp)
    pairs: list[tuple[str, Callable[[], Any], Callable[[], Any] | None]] = [("infer", ours[0], None),
                                                                             ("train", ours[1], None)]
    if reference is not None:
        check_reference([name], config.backbone, config.frames)
        calibrate(model, inputs)
        ref = reference_degcn(reference, model, config.num_classes, config.persons).to(device)
        x = inputs["body"] if isinstance(inputs, dict) else inputs
        model.eval()
        ref.eval()
        with torch.no_grad():
            result["max_abs_diff"] = float((_logits(model(inputs)) - _logits(ref(x))).abs().max())
            result["logit_scale"] = float(_logits(model(inputs)).abs().max())
        theirs = step_functions(ref, x, labels, device, config.amp)
        pairs = [("infer", ours[0], theirs[0]), ("train", ours[1], theirs[1])]
    sync = synchronizer(device)
    for kind, fn, ref_fn in pairs:
        if ref_fn is None:
            seconds = statistics.median(time_calls(fn, config.repeats, config.warmup, sync))
        else:
            seconds, ref_seconds = _alternating(fn, ref_fn, config.repeats, config.warmup, sync)
            result[f"reference_{kind}_samples_per_s"] = config.batch / ref_seconds
            result[f"{kind}_speedup"] = ref_seconds / seconds
        result[f"{kind}_samples_per_s"] = config.batch / seconds
        result[f"{kind}_ms_per_batch"] = seconds * 1e3
        passes = 1 if kind == "infer" else 3
        result[f"{kind}_gflops"] = 2 * macs * passes * config.batch / seconds / 1e9
    result["peak_rss_mb"] = peak_rss_mb()
    device_peak = peak_device_mb(device)
    if device_peak is not None:
        result["peak_device_mb"] = device_peak
    return result


def _alternating(fn: Callable[[], Any], other: Callable[[], Any], repeats: int, warmup: int,
                 sync: Callable[[], None] = lambda: None) -> tuple[float, float]:
    """Median seconds of ``fn`` and ``other`` run in turn (warm-up for both first)."""
    for _ in range(warmup):
        fn()
        other()
    a, b = [], []
    for _ in range(repeats):
        a += time_calls(fn, 1, 0, sync)
        b += time_calls(other, 1, 0, sync)
    return statistics.median(a), statistics.median(b)


def check_amp(amp: str | None, device: torch.device) -> None:
    """Refuse a precision the device cannot run well: an unknown name, float16 on the CPU (its
    float16 kernels are slow fallbacks: a large matrix product takes minutes), bfloat16 on a GPU
    without it (before Ampere)."""
    if amp is None:
        return
    if amp not in AMP_DTYPES:
        raise UserError(f"--amp must be one of {', '.join(AMP_DTYPES)}, got {amp!r}")
    if amp == "fp16" and device.type == "cpu":
        raise UserError("--amp fp16 is for a GPU (--device cuda): the CPU's float16 kernels are slow "
                        "fallbacks; on the CPU use --amp bf16")
    if amp == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise UserError(f"--amp bf16: {torch.cuda.get_device_name(device)} ({device}) has no bfloat16; "
                        f"use --amp fp16")


def benchmark_variants(names: Sequence[str], config: BenchConfig | None = None,
                       reference: str | os.PathLike | None = None) -> dict[str, Any]:
    """Benchmark each model of ``names`` on ``config.device``; returns ``{"machine", "matmul_gflops",
    "dtype", "config", "variants"}``. Every setting, the device included, is checked before any work."""
    config = config or BenchConfig()
    device = check_device(config.device)
    check_amp(config.amp, device)
    if config.threads is not None:
        if config.threads < 1:
            raise UserError(f"--threads must be at least 1, got {config.threads}")
        torch.set_num_threads(config.threads)
    for field, value in (("batch", config.batch), ("frames", config.frames), ("persons", config.persons),
                         ("repeats", config.repeats)):
        if value < 1:
            raise UserError(f"--{field} must be at least 1, got {value}")
    if reference is not None:
        load_reference_degcn(reference)  # a wrong path fails before any timing
        check_reference(names, config.backbone, config.frames)
    info = machine_info(device)
    gflops = matmul_gflops(device=device, dtype=config.dtype())
    variants = {name: benchmark_variant(name, config, reference) for name in names}
    info["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return {"machine": info, "matmul_gflops": gflops, "dtype": _dtype_name(config.dtype()),
            "config": asdict(config), "variants": variants}
