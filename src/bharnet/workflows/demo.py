"""``bharnet demo``: the whole method on BodyHand-Synth, on a CPU, in minutes.

It generates the synthetic body-and-hand dataset (no download) in colour (rendered frames, ST-ROI
images, object classes that only the RGB stream can tell apart), trains the body expert, the hand
expert, the BHaRNet variants and BHaRNet-M with one CPU-sized recipe, evaluates them on the test
split, and writes ``results.json``, ``report.md`` and ``confusion.png``.

Models this small, trained for a minute, differ from seed to seed and from one CPU to another
(float kernels differ): each run is therefore set against the spread measured over several seeds
(``demo_spread.yaml``, written by ``benchmarks/demo_seeds.py``), and the demo's claims
(:data:`CLAIMS`) are checked on the run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from omegaconf import DictConfig
from rich.console import Console
from rich.table import Table

from bharnet.core.atomic import write_json
from bharnet.core.errors import UserError
from bharnet.engine.config import CONFIGS, load_config
from bharnet.models import expert_for, is_model, list_models, model_spec
from bharnet.workflows.ablation import ABLATION_FILES, ALL_VARIANTS, results_table, run_ablation, write_report

__all__ = ["run_demo", "demo_config", "DEMO_VARIANTS", "QUICK_VARIANTS", "CLAIMS", "check_claims", "load_spread",
           "spread_table"]

#: the full demo: every model, skeleton and RGB
DEMO_VARIANTS = ALL_VARIANTS
#: ``--quick``: the experts, their two fusions and the RGB stream, enough to show the pattern
QUICK_VARIANTS = tuple(list_models(tag="quick"))

TITLE = "bharnet demo on BodyHand-Synth (test split)"
#: what the demo writes in its folder: an ablation's files and the data set's store
DEMO_FILES = (*ABLATION_FILES, "bodyhand-synth*")
#: the spread of each model's numbers over seeds, per mode (benchmarks/demo_seeds.py writes it)
SPREAD_FILE = Path(__file__).with_name("demo_spread.yaml")
#: the columns a spread is kept for: results key -> column name
SPREAD_COLUMNS = {"top1": "top-1", "top1_hand_classes": "hand-only", "top1_body_classes": "body-only",
                  "top1_mixed_classes": "mixed", "top1_object_classes": "object"}


BODY, HAND = expert_for("body"), expert_for("hand")
EXPERTS = (BODY, HAND)


def _top1(models: dict, name: str, key: str = "top1") -> float | None:
    return models.get(name, {}).get(key)


def _above(models: dict, winner: str, losers: tuple[str, ...], key: str = "top1") -> bool | None:
    """Whether ``winner`` beats every model of ``losers`` on ``key`` (None when one is missing)."""
    values = [_top1(models, m, key) for m in (winner, *losers)]
    return None if None in values else all(values[0] > v for v in values[1:])


def _every_fusion_above_the_experts(models: dict) -> bool | None:
    fused = [m for m in models if is_model(m) and {"body", "hand"} <= set(model_spec(m).streams)]
    return None if not fused else all(_above(models, m, EXPERTS) for m in fused)


def _rgb_lifts_the_objects(models: dict) -> bool | None:
    pairs = [(m, m.removesuffix(" + RGB")) for m in models if m.endswith(" + RGB")]
    return None if not pairs else all(_above(models, f, (s,), "top1_object_classes") for f, s in pairs)


#: the demo's claims, as the README states them: name -> test on ``results["models"]`` (None: not
#: measurable in this run, e.g. a model missing)
CLAIMS: dict[str, Callable[[dict], bool | None]] = {
    "the hand expert reads the fingers (hand-only: hand expert > body expert)":
        lambda m: _above(m, HAND, (BODY,), "top1_hand_classes"),
    "the body expert reads the body (body-only: body expert > hand expert)":
        lambda m: _above(m, BODY, (HAND,), "top1_body_classes"),
    "score fusion above both experts": lambda m: _above(m, "score-fusion", EXPERTS),
    "every skeleton fusion above both experts": _every_fusion_above_the_experts,
    "joint training above score fusion": lambda m: _above(m, "joint", ("score-fusion",)),
    "RGB lifts the object classes of every fused skeleton model": _rgb_lifts_the_objects,
    "BHaRNet-M above the body expert on the object classes":
        lambda m: _above(m, "bharnet-m", (BODY,), "top1_object_classes"),
}


def check_claims(results: dict) -> dict[str, bool]:
    """Each claim of :data:`CLAIMS` that this run can test -> whether it holds."""
    checked = {name: test(results["models"]) for name, test in CLAIMS.items()}
    return {name: held for name, held in checked.items() if held is not None}


def load_spread(mode: str) -> dict | None:
    """The spread measured for ``mode`` ("quick" or "full"), or None when none is recorded."""
    if not SPREAD_FILE.is_file():
        return None
    return (yaml.safe_load(SPREAD_FILE.read_text()) or {}).get(mode)


def spread_table(results: dict, spread: dict) -> Table:
    """This run's top-1 of each model beside the mean and range over the recorded seeds."""
    table = Table(title=f"this run against {len(spread['seeds'])} seeds ({spread['machine']})")
    for column in ("model", "top-1 here", "mean", "range", "where"):
        table.add_column(column, justify="left" if column in ("model", "where") else "right")
    for name, here, mean, low, high in _against_spread(results, spread):
        where = "within" if low <= here <= high else ("below" if here < low else "above")
        table.add_row(name, f"{here:.1f}", f"{mean:.1f}", f"{low:.1f}-{high:.1f}", where)
    return table


def _against_spread(results: dict, spread: dict) -> list[tuple[str, float, float, float, float]]:
    """(model, this run's top-1, the seeds' mean, min, max) for each model the spread knows, in percent."""
    rows = []
    for name, r in results["models"].items():
        values = spread["models"].get(name, {}).get("top1")
        if values:
            here = round(100 * r["top1"], 1)  # as the spread records it: a seed measured lies within
            rows.append((name, here, sum(values) / len(values), min(values), max(values)))
    return rows


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
    _check_same_data(cfg)
    console.print(f"[bold]bharnet demo[/] ({'quick' if quick else 'full'}) -> {out}")
    default = QUICK_VARIANTS if quick else DEMO_VARIANTS
    results = run_ablation(cfg, list(variants or default), out, log=lambda msg: console.print(f"  {msg}"))
    results["mode"] = "quick" if quick else "full"
    results["claims"] = check_claims(results)
    write_json(out / "results.json", results)
    console.print(results_table(results, TITLE))
    spread = load_spread(results["mode"])
    if spread is not None:
        console.print(spread_table(results, spread))
    for claim, held in results["claims"].items():
        console.print(f"  {'holds' if held else '[yellow]does not hold[/yellow]'}: {claim}"
                      f"{_how_often(spread, claim)}", highlight=False)
    write_report(results, out, TITLE)
    _add_to_report(out / "report.md", results, spread)
    console.print(f"results: {out / 'results.json'}, report: {out / 'report.md'}")
    return results


def _check_same_data(cfg: DictConfig) -> None:
    """A demo folder resumes only the run it holds: the same data seed."""
    meta = Path(cfg.data.store) / "meta.json"
    if meta.is_file():
        seed = yaml.safe_load(meta.read_text()).get("source", {}).get("seed")
        if seed is not None and seed != cfg.data.synth.seed:
            raise UserError(f"{meta.parent.parent} holds the demo of data seed {seed}, not {cfg.data.synth.seed}; "
                            "give another --out")


def _add_to_report(report: Path, results: dict, spread: dict | None) -> None:
    lines = ["", "## The claims, on this run", ""]
    lines += [f"- {'holds' if held else '**does not hold**'}: {claim}{_how_often(spread, claim)}"
              for claim, held in results["claims"].items()]
    if spread is not None:
        lines += ["", f"## This run against {len(spread['seeds'])} seeds ({spread['machine']})", "",
                  "| model | top-1 here | mean | range |", "|---|---|---|---|"]
        lines += [f"| {name} | {here:.1f} | {mean:.1f} | {low:.1f}-{high:.1f} |"
                  for name, here, mean, low, high in _against_spread(results, spread)]
    report.write_text(report.read_text() + "\n".join(lines) + "\n")


def _how_often(spread: dict | None, claim: str) -> str:
    if spread is None or claim not in spread.get("claims", {}):
        return ""
    return f" (held on {spread['claims'][claim]} of {len(spread['seeds'])} seeds measured)"
