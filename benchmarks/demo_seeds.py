"""The demo over several seeds: each model's numbers as mean and range, how often each claim holds.

    python benchmarks/demo_seeds.py [--quick] [--seeds 0 1 2 3 4] [--root demo-seeds] [--write] [-- KEY=VALUE ...]

Runs ``bharnet demo [--quick] --seed N --out ROOT/<mode>-seed-N`` for every seed (a finished seed
is reused: the demo resumes), then prints per model the mean and range of each column over the
seeds, how many seeds each of the demo's claims held on, and each run's wall-clock seconds. With
``--write`` the spread goes to ``src/bharnet/workflows/demo_spread.yaml`` (what every later demo
run is set against), with the machine it was measured on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from bharnet.workflows.demo import SPREAD_COLUMNS, SPREAD_FILE, check_claims  # noqa: E402

HEADER = ("# The demo's numbers over seeds (percent) and how many seeds each claim held on: written by\n"
          "# benchmarks/demo_seeds.py --write; every demo run is set against them.\n")


def run_seed(mode: str, seed: int, root: Path, overrides: list[str]) -> tuple[dict, float]:
    """One demo run (resumed when its folder holds it); its results and wall-clock seconds."""
    out = root / f"{mode}-seed-{seed}"
    argv = [sys.executable, "-m", "bharnet", "demo", "--seed", str(seed), "--out", str(out), *overrides]
    if mode == "quick":
        argv.insert(4, "--quick")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"}
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "results.json").read_text()), time.perf_counter() - start


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return f"{cpu or platform.machine()}, {os.cpu_count()} cores"


def spread(runs: dict[int, dict]) -> dict:
    """Per model and results key (``top1``, ``top1_hand_classes``, ...), every seed's value in percent;
    per claim, the seeds it held on."""
    models: dict[str, dict[str, list[float]]] = {}
    claims: dict[str, int] = {}
    for results in runs.values():
        for name, r in results["models"].items():
            for key in (k for k in SPREAD_COLUMNS if k in r):
                models.setdefault(name, {}).setdefault(key, []).append(round(100 * r[key], 1))
        for claim, held in check_claims(results).items():
            claims[claim] = claims.get(claim, 0) + int(held)
    return {"seeds": sorted(runs), "machine": machine(), "models": models, "claims": claims}


def markdown(result: dict) -> str:
    """The spread as a table (mean, then the range in brackets) and the claims' counts."""
    lines = ["| model | " + " | ".join(SPREAD_COLUMNS.values()) + " |", "|---|" + "---|" * len(SPREAD_COLUMNS)]
    for name, values in result["models"].items():
        cells = [f"{sum(v) / len(v):.1f} [{min(v):.1f}, {max(v):.1f}]" if v else "-"
                 for v in (values.get(key, []) for key in SPREAD_COLUMNS)]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    n = len(result["seeds"])
    lines += ["", *(f"- {held} of {n} seeds: {claim}" for claim, held in result["claims"].items())]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the quick demo (default: the full one)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--root", type=Path, default=Path("demo-seeds"), help="folder of the runs")
    parser.add_argument("--write", action="store_true", help=f"record the spread in {SPREAD_FILE.name}")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="passed to every demo run")
    args = parser.parse_args()
    mode = "quick" if args.quick else "full"
    runs, seconds = {}, {}
    for seed in args.seeds:
        runs[seed], seconds[seed] = run_seed(mode, seed, args.root, args.overrides)
        print(f"seed {seed}: {seconds[seed]:.0f} s", flush=True)
    result = spread(runs)
    print(f"\n{mode} demo, seeds {result['seeds']}, {result['machine']}, load {os.getloadavg()[0]:.2f}\n")
    print(markdown(result))
    if args.write:
        recorded = yaml.safe_load(SPREAD_FILE.read_text()) if SPREAD_FILE.is_file() else {}
        recorded[mode] = result
        SPREAD_FILE.write_text(HEADER + yaml.safe_dump(recorded, sort_keys=False, width=120, default_flow_style=None))
        print(f"\nwritten to {SPREAD_FILE}")


if __name__ == "__main__":
    main()
