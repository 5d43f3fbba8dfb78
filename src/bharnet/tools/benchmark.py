"""CPU (or GPU) throughput of the models: inference and training samples/s, memory, achieved GFLOP/s.

:func:`benchmark_variants` times every named model on random inputs of one batch shape (median of
repeated runs after warm-up) and reports the machine next to the numbers: the CPU, its threads,
the speed of a 2048 x 2048 fp32 matrix product (what the BLAS can reach), the software versions.
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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from bharnet import __version__
from bharnet.core.errors import UserError
from bharnet.core.machine import usable_cores
from bharnet.models.cost import count_cost
from bharnet.tools.profile import build_named
from bharnet.tools.reference_degcn import calibrate, check_reference, load_reference_degcn, reference_degcn

__all__ = ["BenchConfig", "machine_info", "matmul_gflops", "peak_rss_mb", "build_variant", "make_inputs",
           "benchmark_variant", "benchmark_variants"]

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


def machine_info() -> dict[str, Any]:
    """CPU model, logical cores, usable cores, torch threads, load average and software versions."""
    return {
        "cpu": _cpu_model(), "logical_cores": os.cpu_count(), "usable_cores": usable_cores(),
        "torch_threads": torch.get_num_threads(), "load_average": [round(x, 2) for x in os.getloadavg()],
        "torch": torch.__version__, "python": platform.python_version(), "bharnet": _version(),
        "platform": platform.platform(),
    }


def matmul_gflops(size: int = 2048, repeats: int = 5) -> float:
    """Achieved GFLOP/s of a ``size x size`` fp32 matrix product (median of ``repeats`` after one warm-up)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    times = time_calls(lambda: torch.mm(a, b), repeats, warmup=1)
    return 2 * size ** 3 / statistics.median(times) / 1e9


def peak_rss_mb() -> float:
    """The process's resident-memory high-water mark in MiB (``getrusage``; KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def time_calls(fn: Callable[[], Any], repeats: int, warmup: int) -> list[float]:
    """Seconds of each of ``repeats`` calls of ``fn()`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def build_variant(name: str, config: BenchConfig) -> nn.Module:
    """A registered model (``backbone``, ``persons`` body instances), or a backbone name as the
    body expert on that backbone."""
    return build_named(name, config.backbone, config.num_classes, config.frames, persons=config.persons)


def make_inputs(model: nn.Module, batch: int, frames: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random inputs of the model's ``example_inputs`` shapes; masks stay all ones."""
    example = model.example_inputs(batch=batch, frames=frames)
    gen = torch.Generator().manual_seed(seed)

    def fill(key: str, t: torch.Tensor) -> torch.Tensor:
        return t if key.endswith("mask") else torch.randn(t.shape, generator=gen)

    return {k: fill(k, v) for k, v in example.items()}


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


def _steps(model: nn.Module, inputs: Any, labels: torch.Tensor) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(inference, training step) closures; a training step is forward, loss, backward and an SGD update."""
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-4, momentum=0.9)

    def infer() -> None:
        model.eval()
        with torch.inference_mode():
            model(inputs)

    def train() -> None:
        model.train()
        optimizer.zero_grad(set_to_none=True)
        _loss(model, model(inputs), labels).backward()
        optimizer.step()

    return infer, train


def benchmark_variant(name: str, config: BenchConfig, reference: str | os.PathLike | None = None,
                      seed: int = 0) -> dict[str, Any]:
    """Time one model: inference and training samples/s (median of ``repeats`` after ``warmup``), the
    process's peak RSS, achieved GFLOP/s (multiply-adds x 2 of ``count_cost`` over the median time; a
    training step counted as 3 forward passes). With ``reference``: the public DeGCN code on the same
    inputs and weights (``reference_*`` keys, the ratios, ``max_abs_diff`` of the eval-mode logits)."""
    torch.manual_seed(seed)
    model = build_variant(name, config)
    inputs = make_inputs(model, config.batch, config.frames, seed)
    labels = torch.randint(0, config.num_classes, (config.batch,), generator=torch.Generator().manual_seed(seed))
    macs = count_cost(model, make_inputs(model, 1, config.frames, seed))["macs_all"]
    result: dict[str, Any] = {"variant": name, "backbone": config.backbone, "batch": config.batch,
                              "frames": config.frames, "persons": config.persons,
                              "params": sum(p.numel() for p in model.parameters()), "gmacs_per_sample": macs / 1e9}
    ours = _steps(model, inputs, labels)
    pairs: list[tuple[str, Callable[[], Any], Callable[[], Any] | None]] = [("infer", ours[0], None),
                                                                             ("train", ours[1], None)]
    if reference is not None:
        check_reference([name], config.backbone, config.frames)
        calibrate(model, inputs)
        ref = reference_degcn(reference, model, config.num_classes, config.persons)
        x = inputs["body"] if isinstance(inputs, dict) else inputs
        model.eval()
        ref.eval()
        with torch.no_grad():
            result["max_abs_diff"] = float((_logits(model(inputs)) - _logits(ref(x))).abs().max())
            result["logit_scale"] = float(_logits(model(inputs)).abs().max())
        theirs = _steps(ref, x, labels)
        pairs = [("infer", ours[0], theirs[0]), ("train", ours[1], theirs[1])]
    for kind, fn, ref_fn in pairs:
        if ref_fn is None:
            seconds = statistics.median(time_calls(fn, config.repeats, config.warmup))
        else:
            seconds, ref_seconds = _alternating(fn, ref_fn, config.repeats, config.warmup)
            result[f"reference_{kind}_samples_per_s"] = config.batch / ref_seconds
            result[f"{kind}_speedup"] = ref_seconds / seconds
        result[f"{kind}_samples_per_s"] = config.batch / seconds
        result[f"{kind}_ms_per_batch"] = seconds * 1e3
        passes = 1 if kind == "infer" else 3
        result[f"{kind}_gflops"] = 2 * macs * passes * config.batch / seconds / 1e9
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def _alternating(fn: Callable[[], Any], other: Callable[[], Any], repeats: int, warmup: int) -> tuple[float, float]:
    """Median seconds of ``fn`` and ``other`` run in turn (warm-up for both first)."""
    for _ in range(warmup):
        fn()
        other()
    a, b = [], []
    for _ in range(repeats):
        a += time_calls(fn, 1, 0)
        b += time_calls(other, 1, 0)
    return statistics.median(a), statistics.median(b)


def benchmark_variants(names: Sequence[str], config: BenchConfig | None = None,
                       reference: str | os.PathLike | None = None) -> dict[str, Any]:
    """Benchmark each model of ``names``; returns ``{"machine", "matmul_gflops", "config", "variants"}``."""
    config = config or BenchConfig()
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
    info = machine_info()
    gflops = matmul_gflops()
    variants = {name: benchmark_variant(name, config, reference) for name in names}
    info["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return {"machine": info, "matmul_gflops": gflops, "config": asdict(config), "variants": variants}
