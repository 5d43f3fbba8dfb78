"""Data pipeline throughput and memory: one DataLoader worker against the body expert's training speed.

    PYTHONPATH=src python benchmarks/data_pipeline.py [--store STORE] [--samples 1500] [--batches 40]
                                                      [--streams body,hand] [--model-rate SAMPLES_PER_S]

Without ``--store`` a BodyHand-Synth store of ``--samples`` samples is written to a temporary folder.
Prints: samples/s of one worker with training augmentation (random crop, resize, rotation; the
first batch, which includes the worker's start, is not timed), the body expert's training
samples/s at batch 16 (measured here unless ``--model-rate`` gives it) and their ratio; then the
memory of reading every training sample once in this process: the growth of anonymous memory
(copies) and of file-backed resident pages (the memory map, reclaimable page cache) against the
size of the store's arrays on disk.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from bharnet.data.dataset import EpochSampler, SkeletonDataset  # noqa: E402
from bharnet.synth.store import write_synth_store  # noqa: E402
from bharnet.tools.benchmark import BenchConfig, benchmark_variant  # noqa: E402


def memory_kib() -> dict[str, int]:
    """Resident memory of this process from /proc/self/status: VmRSS, RssAnon, RssFile (KiB)."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0])
    return out


def loader_rate(store: Path, streams: tuple[str, ...], batches: int, batch_size: int = 16) -> float:
    """Samples/s delivered by one worker with training augmentation (first batch untimed)."""
    dataset = SkeletonDataset(store, "train", streams=streams, train=True)
    sampler = EpochSampler(len(dataset), shuffle=True, seed=0)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=1,
                                         drop_last=True)
    it = iter(loader)
    next(it)
    start, count = time.perf_counter(), 0
    for _ in range(batches):
        try:
            count += len(next(it)["label"])
        except StopIteration:
            sampler.set_epoch(sampler.epoch + 1)
            it = iter(loader)
    return count / (time.perf_counter() - start)


def model_rate(batch: int = 16) -> float:
    """The body expert's training samples/s (forward, loss, backward, SGD step) at ``batch``."""
    return benchmark_variant("body-expert", BenchConfig(batch=batch, repeats=3, warmup=1))["train_samples_per_s"]


def read_all_memory(store: Path, streams: tuple[str, ...]) -> tuple[dict[str, int], dict[str, int], int]:
    """Memory before and after reading every training sample once (augmented), and the store's bytes."""
    dataset = SkeletonDataset(store, "train", streams=streams, train=True)
    before = memory_kib()
    for i in range(len(dataset)):
        dataset[(0, i)]
    after = memory_kib()
    size = sum(p.stat().st_size for p in store.rglob("*") if p.is_file())
    return before, after, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="a store (default: a fresh BodyHand-Synth one)")
    parser.add_argument("--samples", type=int, default=1500, help="samples of the generated store")
    parser.add_argument("--batches", type=int, default=40, help="timed batches of 16")
    parser.add_argument("--streams", default="body,hand", help="streams to load (default: body,hand)")
    parser.add_argument("--model-rate", type=float, help="the body expert's training samples/s, if known")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    streams = tuple(args.streams.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store
        if store is None:

            start = time.perf_counter()
            store = write_synth_store(Path(tmp) / "synth", num_samples=args.samples, seed=0)
            print(f"wrote a BodyHand-Synth store of {args.samples} samples in {time.perf_counter() - start:.1f} s")
        data = loader_rate(store, streams, args.batches)
        train = args.model_rate or model_rate()
        print(f"one DataLoader worker ({'+'.join(streams)}, training augmentation): {data:.0f} samples/s")
        print(f"body expert training (batch 16, {torch.get_num_threads()} threads): {train:.1f} samples/s "
              f"-> the worker delivers {data / train:.0f}x what training consumes")
        before, after, size = read_all_memory(store, streams)
        anon = (after["RssAnon"] - before["RssAnon"]) / 1024
        mapped = (after["RssFile"] - before["RssFile"]) / 1024
        print(f"reading all training samples once: anonymous memory +{anon:.1f} MiB, file-backed resident "
              f"pages +{mapped:.1f} MiB (the memory map: reclaimable page cache), store on disk "
              f"{size / 2**20:.1f} MiB, process RSS {after['VmRSS'] / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
