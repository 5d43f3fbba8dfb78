"""ONNX export of a trained model for CPU inference (robots), checked against PyTorch.

The graph has fixed shapes: the batch and window of the example inputs (``batch=1``, the model's
window by default). DeTGC's temporal kernel is computed once from the trained offsets and baked in
as a plain convolution (its extent depends on the offsets' values, which a graph cannot follow):
right for fixed weights, so an exported model cannot be fine-tuned through its offsets.
"""

from __future__ import annotations

import copy
import logging
import os
import shutil
import statistics
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn

from bharnet.core.atomic import atomic_path
from bharnet.core.errors import UserError
from bharnet.core.model_files import cache_dir, sha256_of
from bharnet.core.outputs import WRITTEN_BY
from bharnet.engine.checkpoints import load_checkpoint
from bharnet.models.backbones.degcn import DeformableTemporalConv
from bharnet.tools.benchmark import make_inputs, time_calls

__all__ = ["prepare_for_export", "export_onnx", "export_checkpoint", "onnx_session", "onnx_max_abs_diff",
           "latency_ms", "written_by_export", "live_graph_path"]


class _Flat(nn.Module):
    """Positional tensors in, a tuple of logits out: the signature an ONNX graph has."""

    def __init__(self, model: nn.Module, input_names: list[str], output_names: list[str]) -> None:
        super().__init__()
        self.model, self.input_names, self.output_names = model, input_names, output_names

    def forward(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(dict(zip(self.input_names, tensors, strict=True)))
        return tuple(out[k] for k in self.output_names)


def prepare_for_export(model: nn.Module) -> nn.Module:
    """A copy of ``model`` in eval mode with every DeTGC kernel fixed (``fix_kernel``)."""
    model = copy.deepcopy(model).eval()
    for module in model.modules():
        if isinstance(module, DeformableTemporalConv):
            module.fix_kernel()
    return model


def _example(model: nn.Module, batch: int, frames: int | None) -> dict[str, torch.Tensor]:
    return make_inputs(model, batch, frames or getattr(model, "window", 64))


@contextmanager
def _exporter_logs_quiet() -> Iterator[None]:
    """The exporter logs a warning per torchvision operator it skips ("torchvision is not installed"),
    none of which our models use: only its errors are shown."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def export_onnx(model: nn.Module, path: str | os.PathLike, frames: int | None = None, batch: int = 1,
                check: bool = True) -> dict[str, Any]:
    """Export ``model`` (inputs: its ``example_inputs(batch, frames)``) to an ONNX file at ``path``.

    Outputs are every logit the model returns (``logits`` first, then ``<branch>_logits``). With
    ``check``, ONNX Runtime runs the file on random inputs and ``max_abs_diff`` against PyTorch is
    returned. Returns ``path``,
    ``inputs`` (name -> shape), ``outputs``, ``seconds`` and ``max_abs_diff`` (None without check).
    """
    path = Path(path)
    model = prepare_for_export(model)
    inputs = _example(model, batch, frames)
    names = list(inputs)
    with torch.no_grad():
        branches = list(model(inputs))
    # graph names are unique: a branch named like an input ("body") becomes "body_logits"
    outputs = [b if b == "logits" else f"{b}_logits" for b in branches]
    start = time.perf_counter()
    with atomic_path(path) as part:
        with warnings.catch_warnings(), _exporter_logs_quiet():
            warnings.simplefilter("ignore")  # the exporter's deprecation notices are not the user's concern
            try:
                torch.onnx.export(_Flat(model, names, branches).eval(), tuple(inputs.values()), str(part),
                                  dynamo=True, input_names=names, output_names=outputs, external_data=False,
                                  verbose=False)
            except ImportError as err:
                raise UserError(f"ONNX export needs the onnx and onnxscript packages: {err}") from err
        _mark(part)
    seconds = time.perf_counter() - start
    diff = onnx_max_abs_diff(path, model, inputs) if check else None
    return {"path": str(path), "inputs": {k: list(v.shape) for k, v in inputs.items()}, "outputs": outputs,
            "seconds": seconds, "max_abs_diff": diff}


def _mark(path: Path) -> None:
    """Leave bharnet's mark in the graph's metadata (a later export may replace the file)."""
    import onnx

    graph = onnx.load(str(path))
    graph.metadata_props.add(key="producer", value=WRITTEN_BY)
    onnx.save(graph, str(path))


def written_by_export(path: str | os.PathLike) -> bool:
    """Whether the ONNX file at ``path`` was written by :func:`export_onnx` (its mark in the metadata)."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False)
    return any(p.key == "producer" and p.value == WRITTEN_BY for p in graph.metadata_props)


def live_graph_path(checkpoint: str | os.PathLike) -> Path:
    """Where the graph that ``predict`` / ``live`` run through ONNX Runtime is cached for a checkpoint
    (the run's window, batch 1), keyed by the checkpoint's content."""
    return cache_dir().parent / "onnx" / f"{sha256_of(Path(checkpoint))[:16]}.onnx"


def export_checkpoint(checkpoint: str | os.PathLike, path: str | os.PathLike, frames: int | None = None,
                      batch: int = 1, check: bool = True) -> dict[str, Any]:
    """Export the model of a training checkpoint (``bharnet.engine.checkpoints.load_checkpoint``); the window
    defaults to the run's ``data.window``. A graph of that window and batch 1 is also what ``live``
    and ``predict`` run: it is copied into their cache, so that their first start needs no export."""
    module = load_checkpoint(checkpoint)
    window = int(module.config["data"]["window"])
    result = export_onnx(module.model, path, frames=frames or window, batch=batch, check=check)
    cached = live_graph_path(checkpoint)
    if (frames or window) == window and batch == 1 and not cached.is_file():
        with atomic_path(cached) as part:
            shutil.copyfile(path, part)
        result["cached"] = str(cached)
    return result


def onnx_session(path: str | os.PathLike, threads: int | None = None):  # noqa: ANN201 (onnxruntime is optional)
    """An ONNX Runtime CPU session (``threads`` intra-op threads, the runtime's default if None)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _feed(session, inputs: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:  # noqa: ANN001
    # inputs the model ignores (e.g. hand_mask of an expert-only model) are not graph inputs
    return {i.name: inputs[i.name].numpy() for i in session.get_inputs()}


def onnx_max_abs_diff(path: str | os.PathLike, model: nn.Module, inputs: dict[str, torch.Tensor]) -> float:
    """Largest absolute difference between ONNX Runtime's and PyTorch's outputs on ``inputs``."""
    session = onnx_session(path)
    got = session.run(None, _feed(session, inputs))
    with torch.no_grad():
        want = list(model(inputs).values())
    return max(float(np.abs(g - w.numpy()).max()) for g, w in zip(got, want, strict=True))


def latency_ms(fn, repeats: int = 20, warmup: int = 3) -> float:  # noqa: ANN001
    """Median milliseconds of ``fn()``."""
    return statistics.median(time_calls(fn, repeats, warmup)) * 1e3
