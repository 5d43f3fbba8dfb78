"""``bharnet demo``: the whole method on BodyHand-Synth, on a CPU, in minutes.

It generates the synthetic body-and-hand dataset (no download), trains the body expert, the
hand expert and the BHaRNet variants with one CPU-sized recipe, evaluates them on the test
split, and writes ``results.json``, ``report.md`` and ``confusion.png``.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig
from rich.console import Console

from bharnet.core.atomic import write_json
from bharnet.engine.config import CONFIGS, load_config
from bharnet.workflows.ablation import VARIANTS, results_table, run_ablation, write_report

__all__ = ["run_demo", "demo_config"]

TITLE = "bharnet demo on BodyHand-Synth (test split)"


def demo_config(quick: bool, out: Path, overrides: list[str] | None = None) -> DictConfig:
    """The demo's recipe (``configs/recipes/demo.yaml`` or ``demo-quick.yaml``), its store in ``out``."""
    recipe = CONFIGS / "recipes" / ("demo-quick.yaml" if quick else "demo.yaml")
    return load_config(recipe, [f"data.store={out / 'bodyhand-synth'}", *(overrides or [])])


def run_demo(out: str | Path = "demo-out", quick: bool = False, variants: list[str] | None = None,
             overrides: list[str] | None = None, console: Console | None = None) -> dict:
    """Run the demo into ``out``; returns the results (also in ``out/results.json``)."""
    console = console or Console()
    out = Path(out)
    cfg = demo_config(quick, out, overrides)
    console.print(f"[bold]bharnet demo[/] ({'quick' if quick else 'full'}) -> {out}")
    results = run_ablation(cfg, list(variants or VARIANTS), out, log=lambda msg: console.print(f"  {msg}"))
    results["mode"] = "quick" if quick else "full"
    write_json(out / "results.json", results)
    console.print(results_table(results, TITLE))
    write_report(results, out, TITLE)
    console.print(f"results: {out / 'results.json'}, report: {out / 'report.md'}")
    return results






