"""Training throughput end to end: ``bharnet train``'s samples/s against the model's training step alone.

    python benchmarks/train_throughput.py [--model body-expert] [--base-channels 64]
        [--window 64] [--batch 16] [--workers 2] [--steps 30] [--skip 5] [--repeats 2]
        [--store STORE] [--samples 1200] [--json]

Without ``--store`` a BodyHand-Synth store (NTU-25 body, two persons, both hands) is written to a
temporary folder. Both figures are taken in this process, on the same threads, ``--repeats``
times each in alternation (the machine's load changes both alike):

* end to end: :func:`bharnet.engine.fit.fit` with the CPU recipe's loader (``--workers``
  processes), one epoch of ``--steps`` batches and no validation, timed from the start of batch
  ``--skip`` to the end of the last: data loading, the sample view, augmentation, the model, the
  loss, Lightning's loop and logging, the optimizer and its schedule;
* model alone: the same model and optimizer on one real batch of that run, repeated
  (forward, the model's loss, backward, an SGD step), ``--steps - --skip`` times.

Prints both samples/s and the gap ``1 - end_to_end / alone``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import torch
from lightning.pytorch.callbacks import Callback

from bharnet.core.machine import keep_freed_memory
from bharnet.engine.config import make_config
from bharnet.engine.fit import fit
from bharnet.synth.store import write_synth_store
from bharnet.tools.benchmark import machine_info, step_functions


class BatchClock(Callback):
    """Times the training batches from the start of batch ``skip`` to the end of the last one, and
    keeps the last batch (for the model-alone figure)."""

    def __init__(self, skip: int) -> None:
        self.skip, self.start, self.end, self.samples, self.batch = skip, None, None, 0, None

    def on_train_batch_start(self, trainer, module, batch, batch_idx: int) -> None:  # noqa: ANN001
        if batch_idx == self.skip:
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx: int) -> None:  # noqa: ANN001
        if batch_idx >= self.skip:
            self.end = time.perf_counter()
            self.samples += len(batch["label"])
        self.batch = batch

    def rate(self) -> float:
        return self.samples / (self.end - self.start)


def end_to_end(args: argparse.Namespace, store: Path, out: Path, run: int) -> tuple[float, torch.nn.Module, dict]:
    """Samples/s of one epoch of ``fit``; the trained module and the last batch."""
    cfg = make_config({
        "name": f"run{run}", "out_dir": str(out), "seed": run,
        "data": {"store": str(store), "window": args.window, "batch_size": args.batch,
                 "num_workers": args.workers, "val_split": "val"},
        "model": {"name": args.model, "base_channels": args.base_channels},
        "trainer": {"max_epochs": 1, "accelerator": "cpu", "devices": 1, "limit_train_batches": args.steps,
                    "limit_val_batches": 0, "enable_progress_bar": False, "log_every_n_steps": 10},
    })
    clock = BatchClock(args.skip)
    result = fit(cfg, resume=False, quiet=True, callbacks=[clock])
    return clock.rate(), result["module"], clock.batch


def model_alone(module: torch.nn.Module, batch: dict, steps: int) -> float:
    """Samples/s of the model's training step repeated on one batch, with the run's optimizer settings."""
    model = module.model.train()
    optim = module.config["optim"]
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=optim["momentum"],
                                nesterov=optim["nesterov"], weight_decay=optim["weight_decay"], foreach=True)
    inputs = {k: v for k, v in batch.items() if k not in ("label", "index")}
    _, step = step_functions(model, inputs, batch["label"], torch.device("cpu"), optimizer=optimizer)
    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * len(batch["label"]) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="body-expert", help="a registered model (default: body-expert)")
    parser.add_argument("--base-channels", type=int, default=64, help="the backbone's width (default: 64, DeGCN's)")
    parser.add_argument("--window", type=int, default=64, help="frames per sample (default: 64)")
    parser.add_argument("--batch", type=int, default=16, help="batch size (default: 16)")
    parser.add_argument("--workers", type=int, default=2, help="loader processes (default: 2, the CPU recipe's)")
    parser.add_argument("--steps", type=int, default=30, help="training batches of a run (default: 30)")
    parser.add_argument("--skip", type=int, default=5, help="first batches not timed (default: 5)")
    parser.add_argument("--repeats", type=int, default=2, help="alternated runs of each figure (default: 2)")
    parser.add_argument("--store", type=Path, help="a packed store (default: a fresh BodyHand-Synth one)")
    parser.add_argument("--samples", type=int, default=1200, help="samples of the generated store")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not 0 <= args.skip < args.steps:
        parser.error("--skip must be at least 0 and below --steps")
    keep_freed_memory()  # as the bharnet command does
    warnings.filterwarnings("ignore", message=".*could not find the monitored key")  # no validation here
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or write_synth_store(Path(tmp) / "store", num_samples=args.samples, seed=0)
        before = os.getloadavg()[0]
        e2e, alone = [], []
        for run in range(args.repeats):
            rate, module, batch = end_to_end(args, store, Path(tmp) / "runs", run)
            e2e.append(rate)
            alone.append(model_alone(module, batch, args.steps - args.skip))
        after = os.getloadavg()[0]
    e2e_rate, alone_rate = statistics.median(e2e), statistics.median(alone)
    result = {"end_to_end_samples_per_s": e2e_rate, "model_alone_samples_per_s": alone_rate,
              "gap": 1 - e2e_rate / alone_rate, "runs": {"end_to_end": e2e, "model_alone": alone},
              "config": {k: v for k, v in vars(args).items() if k not in ("json", "store")} | {"store": str(store)},
              "torch_threads": torch.get_num_threads(), "load_average": [before, after],
              "machine": machine_info()}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"end to end: {e2e_rate:.2f} samples/s (runs {', '.join(f'{r:.2f}' for r in e2e)})")
    print(f"model alone: {alone_rate:.2f} samples/s (runs {', '.join(f'{r:.2f}' for r in alone)})")
    print(f"gap: {100 * result['gap']:.1f}%   torch threads {result['torch_threads']}, "
          f"load average {before:.1f} -> {after:.1f}")


if __name__ == "__main__":
    main()
