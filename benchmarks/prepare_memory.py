"""Peak memory of ``bharnet prepare ntu``: it must not grow with the number of files.

    python benchmarks/prepare_memory.py [--counts 200 2000] [--workers 1 2] [--frames 100]

Generates NTU .skeleton files (a few distinct ones, linked under many sample names), converts
them in a fresh process and prints the peak resident memory of the largest process involved
(the converting parent or a reader worker) together with the throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.io.fixtures import ntu_name, write_ntu  # noqa: E402

_CHILD = """
import resource, sys, time
from bharnet.store.ntu import prepare_ntu
from bharnet.store.packed import StoreWriter
finish = StoreWriter.finish
before_finish = {}
def measured_finish(self):
    before_finish["kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return finish(self)
StoreWriter.finish = measured_finish
start = time.perf_counter()
summary = prepare_ntu(sys.argv[1], sys.argv[2], workers=int(sys.argv[3]), progress=False)
import json
print(json.dumps({"samples": summary.samples, "seconds": time.perf_counter() - start,
                  "parent_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "converting_kib": before_finish["kib"],
                  "workers_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def make_files(folder: Path, count: int, frames: int) -> None:
    """``count`` uniquely named files, links to 8 generated ones (half with two persons)."""
    templates = folder.parent / "templates"
    written = write_ntu(templates, num_files=8, frames=frames, two_bodies_every=2)
    paths = [templates / f"{name}.skeleton" for name in written]
    folder.mkdir()
    for i in range(count):  # mixed radix: unique (setup, camera, subject, replication) up to 4,080 files
        name = ntu_name(setup=i % 17 + 1, camera=i // 17 % 3 + 1, subject=i // 51 % 40 + 1,
                        replication=i // 2040 % 2 + 1, action=i % 60 + 1)
        os.symlink(paths[i % len(paths)], folder / f"{name}.skeleton")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--frames", type=int, default=100)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    print("peak resident memory (MiB) of the largest process: while converting / including the final packing")
    print(f"{'files':>6} {'workers':>7} {'samples':>7} {'seconds':>8} {'files/s':>8} {'converting':>10} {'total':>6}")
    for count in args.counts:
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "raw"
            make_files(raw, count, args.frames)
            for workers in args.workers:
                out = subprocess.run([sys.executable, "-c", _CHILD, str(raw), str(Path(tmp) / f"s{workers}"),
                                      str(workers)], env=env, check=True, capture_output=True, text=True)
                result = json.loads(out.stdout.strip().splitlines()[-1])
                peak = max(result["parent_kib"], result["workers_kib"]) / 1024
                converting = max(result["converting_kib"], result["workers_kib"]) / 1024
                print(f"{count:>6} {workers:>7} {result['samples']:>7} {result['seconds']:>8.1f} "
                      f"{result['samples'] / result['seconds']:>8.0f} {converting:>10.0f} {peak:>6.0f}")


if __name__ == "__main__":
    main()
