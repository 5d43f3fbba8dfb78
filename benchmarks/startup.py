"""Start-up time of the ``bharnet`` command: ``--help``, ``--version`` and commands' ``--help``.

    python benchmarks/startup.py [--repeats 5] [--commands train predict live ...] [--src PATH]

Prints, per command line, the median and the fastest wall-clock seconds of a fresh
``python -m bharnet ...`` process, with the src/ of this checkout (or ``--src``, another
checkout's, to compare) first on the path.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_COMMANDS = ["train", "test", "predict", "live", "extract-hands", "prepare", "export", "demo"]


def seconds(argv: list[str], repeats: int, src: Path) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bharnet", *argv], env=env, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per command line (default 5)")
    parser.add_argument("--commands", nargs="*", default=DEFAULT_COMMANDS, help="commands whose --help is timed")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="the src/ folder to import bharnet from")
    args = parser.parse_args()
    lines = [["--help"], ["--version"], *([c, "--help"] for c in args.commands)]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, "
          f"median / fastest of {args.repeats} runs, {args.src}")
    for argv in lines:
        times = seconds(argv, args.repeats, args.src)
        print(f"bharnet {' '.join(argv):24s} {statistics.median(times):6.2f} s  {min(times):6.2f} s")


if __name__ == "__main__":
    main()
