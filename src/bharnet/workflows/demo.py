"""``bharnet demo``: the whole method on BodyHand-Synth, on a CPU, in minutes.

It generates the synthetic body-and-hand dataset (no download) in colour (rendered frames, ST-ROI
images, object classes that only the RGB stream can tell apart), trains the body expert, the hand
expert, the BHaRNet variants and BHaRNet-M with one CPU-sized recipe, evaluates them on the test
split, and writes ``results.json``, ``report.md`` and ``confusion.png``.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig
from rich.console import Console

from bharnet.core.atomic import write_json
from bharnet.engine.config import CONFIGS, load_config
from bharnet.workflows.ablation import ABLATION_FILES, ALL_VARIANTS, results_table, run_ablation, write_report

__all__ = ["run_demo", "demo_config", "DEMO_VARIANTS", "QUICK_VARIANTS"]

#: the full demo: every model, skeleton and RGB
DEMO_VARIANTS = ALL_VARIANTS
#: ``--quick``: the experts, their two fusions and the RGB stream, enough to show the pattern
QUICK_VARIANTS = ("body-expert", "hand-expert", "score-fusion", "joint", "bharnet-m")

TITLE = "bharnet demo on BodyHand-Synth (test split)"
#: what the demo writes in its folder: an ablation's files and the data set's store
DEMO_FILES = (*ABLATION_FILES, "bodyhand-synth*")


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
    default = QUICK_VARIANTS if quick else DEMO_VARIANTS
    results = run_ablation(cfg, list(variants or default), out, log=lambda msg: console.print(f"  {msg}"))
    results["mode"] = "quick" if quick else "full"
    write_json(out / "results.json", results)
    console.print(results_table(results, TITLE))
    write_report(results, out, TITLE)
    console.print(f"results: {out / 'results.json'}, report: {out / 'report.md'}")
    return results
