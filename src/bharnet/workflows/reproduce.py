"""``bharnet reproduce``: the runs that make one row of the paper's tables, in order, resumable.

A row is ``BENCHMARK/MODEL``, e.g. ``ntu60-xsub/bharnet-e``. Its plan, for each modality
(J and B by default):

1. pre-train the body and hand experts (``dataset=<benchmark> model=body-expert`` / ``hand-expert``);
2. train the dual-stream model from the two experts (``dataset=<benchmark> model=<model>``);
3. test each trained model, writing a scores file;
4. ensemble the modalities' scores (J+B) and write the report.

Every step calls the library (``fit``, ``test_checkpoint``, ``ensemble``) and has an exact
``bharnet ...`` command equivalent (``--dry-run`` prints them). A step whose output exists is
skipped: a training whose ``last.ckpt`` reached ``trainer.max_epochs``, a scores file, a
report. An interrupted training resumes from its ``last.ckpt``.

Rows that need no training of their own: ``score-fusion`` (the two experts' scores added) and
``bharnet-e-expert`` (the expertized branches of a trained BHaRNet-E: ``z_BE + z_HE``), the
derived models whose prediction is a sum of their sources' scores
(:func:`bharnet.engine.derived.summed_branches`).

A guided row (``bharnet-m``, Table II) adds the RGB stream to the row of its guide (the recipe's
``model.kwargs.guide``, BHaRNet-E by default): after the guide's runs it trains the RGB stream once,
guided by the guide's joint-stream checkpoint, on a store with ST-ROI images (``prepare ... --rgb``),
and ensembles J + B + RGB.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bharnet.core.atomic import write_json
from bharnet.core.errors import UserError
from bharnet.engine.checkpoints import checkpoint_epoch
from bharnet.engine.config import load_config, to_dict
from bharnet.engine.derived import summed_branches
from bharnet.engine.evaluate import test_checkpoint
from bharnet.engine.fit import fit, run_dir
from bharnet.eval.ensemble import ensemble, member_spec
from bharnet.eval.metrics import topk_accuracy
from bharnet.eval.report import write_ensemble_report
from bharnet.models import expert_for, list_models, model_spec

__all__ = ["BENCHMARKS", "ROWS", "PAPER", "PAPER_JOINT", "Step", "plan", "reproduce", "list_rows", "parse_modalities"]

#: benchmark -> store folder under ``--data-root`` (both benchmarks of a data set share one store)
BENCHMARKS = {"ntu60-xsub": "ntu60", "ntu60-xview": "ntu60", "ntu120-xsub": "ntu120", "ntu120-xset": "ntu120",
              "ucla": "ucla", "pku-xsub": "pku-mmd", "pku-xview": "pku-mmd"}
EXPERTS = tuple(list_models("expert"))
#: models with a training config of their own, in training order
TRAINED = (*EXPERTS, *list_models("finetune"))
#: row model -> the (trained model, scores branch) pairs whose sum is its prediction, per modality
ROWS: dict[str, tuple[tuple[str, str], ...]] = {
    # a fused variant's fusion is fitted on a validation split, which the paper's benchmarks lack
    **{m: summed_branches(m) for m in (*TRAINED, *list_models("derived")) if not model_spec(m).fusion},
    # a guided model's skeleton members are its guide's row (the recipe names the guide), plus its RGB scores
    **{m: () for m in list_models("guided")},
}
#: what a reproduction writes in its folder
REPRODUCE_FILES = ("runs", "scores", "reports")
_FIGURES = yaml.safe_load((Path(__file__).parent / "paper.yaml").read_text())
#: Tables I and II (J+B ensembles, J+B+RGB for BHaRNet-M, top-1 %): benchmark -> model -> figure
PAPER: dict[str, dict[str, float]] = {b: {**_FIGURES["table_i"].get(b, {}), **_FIGURES["table_ii"].get(b, {})}
                                      for b in {*_FIGURES["table_i"], *_FIGURES["table_ii"]}}
#: Tables III and VI (NTU120 X-Sub, joint stream alone, top-1 %)
PAPER_JOINT: dict[str, dict[str, float]] = _FIGURES["joint_stream"]
MODALITY_NAMES = {"J": "joint", "B": "bone", "JM": "joint_motion", "BM": "bone_motion"}
#: the scores of a guided model's RGB stream, in reports
RGB = "RGB"
SHORT = {v: k for k, v in MODALITY_NAMES.items()}


@dataclass
class Step:
    """One step of a plan: what it makes (``output``), its command line, and how to run it."""

    kind: str
    title: str
    argv: list[str]
    output: Path
    action: Callable[[], object] = field(repr=False)
    is_done: Callable[[], bool] = field(repr=False)
    #: the resolved run config of a training step
    config: dict | None = field(default=None, repr=False)
    #: an ensemble step's scores specs per stream (``J``, ``B``, ..., ``RGB``)
    parts: dict[str, list[str]] | None = field(default=None, repr=False)

    @property
    def command(self) -> str:
        """The equivalent shell command."""
        return shlex.join(["bharnet", *self.argv])

    def done(self) -> bool:
        return self.is_done()


def parse_modalities(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"J,B"`` or ``["joint", "bone"]`` -> ``("joint", "bone")``."""
    items = [t.strip() for t in text.split(",")] if isinstance(text, str) else list(text)
    out = []
    for item in filter(None, items):
        name = MODALITY_NAMES.get(item.upper(), item)
        if name not in MODALITY_NAMES.values():
            raise UserError(f"unknown modality {item!r}; choose from J, B, JM, BM (or joint, bone, joint_motion, "
                            "bone_motion)")
        out.append(name)
    if not out or len(set(out)) != len(out):
        raise UserError(f"give one or more distinct modalities, not {text!r}")
    return tuple(out)


def list_rows() -> list[dict]:
    """Every row this command knows, with the paper's figures where the paper has them."""
    rows = []
    for bench in BENCHMARKS:
        for model in ROWS:
            rows.append({"row": f"{bench}/{model}", "paper_jb": PAPER.get(bench, {}).get(model),
                         "paper_j": PAPER_JOINT.get(bench, {}).get(model)})
    return rows


def _parse_row(row: str) -> tuple[str, str]:
    bench, _, model = row.strip("/").partition("/")
    if bench not in BENCHMARKS or model not in ROWS:
        raise UserError(f"unknown row {row!r}: give BENCHMARK/MODEL with BENCHMARK one of {', '.join(BENCHMARKS)} "
                        f"and MODEL one of {', '.join(ROWS)} (`bharnet reproduce --list`)")
    return bench, model


def _needed_training(members: Sequence[tuple[str, str]]) -> list[str]:
    scored = {m for m, _ in members}
    needed = scored | (set(EXPERTS) if scored - set(EXPERTS) else set())
    return [m for m in TRAINED if m in needed]


def _training_finished(last: Path, max_epochs: int) -> bool:
    if not last.is_file():
        return False
    try:
        epoch = checkpoint_epoch(last)
    except UserError:  # a checkpoint cut short: training must run (and will say what is wrong)
        return False
    return epoch + 1 >= max_epochs


def _is_main_process() -> bool:
    """Under DDP every rank runs the plan; only rank 0 tests and ensembles."""
    return os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0")) == "0"


def plan(row: str, data_root: str | Path = "data", out: str | Path = "reproduce", configs: str | Path | None = None,
         modalities: str | Sequence[str] = ("joint", "bone"), checkpoint: str = "best",
         overrides: Sequence[str] = ()) -> list[Step]:
    """The steps of ``row`` in order. ``overrides`` (``KEY=VALUE``) go to every training; those of
    ``rgb_stage.KEY=VALUE`` go to a guided model's training alone, as ``KEY=VALUE``.

    Runs go to ``<out>/runs/<benchmark>/<model>-<modality>/``, scores files to
    ``<out>/scores/<benchmark>/``, the report to ``<out>/reports/<benchmark>/<model>/``.
    """
    if checkpoint not in ("best", "last"):
        raise UserError(f"checkpoint must be 'best' or 'last', not {checkpoint!r}")
    bench, model = _parse_row(row)
    modalities = parse_modalities(modalities)
    out, store = Path(out), Path(data_root) / BENCHMARKS[bench]
    runs = out / "runs" / bench
    guided = model_spec(model).stage == "guided"
    guide = _guide_of(bench, model, configs, overrides) if guided else None
    members = ROWS.get(guide, ()) if guided else ROWS[model]
    steps: list[Step] = []
    checkpoints: dict[tuple[str, str], Path] = {}

    def train_step(name: str, modality: str) -> Step:
        args = [f"dataset={bench}", f"model={name}", f"data.store={store}", f"data.modality={modality}",
                f"out_dir={runs}"]
        if model_spec(name).stage == "guided":  # guided by the guide's joint stream (whatever the recipe says)
            args.append(f"model.init.guide={checkpoints[guide, 'joint'] if guide in ROWS else 'null'}")
        elif name not in EXPERTS and checkpoint != "best":  # the configs' default is best.ckpt
            args += [f"model.init.{s}={checkpoints[expert_for(s), modality]}" for s in ("body", "hand")]
        args += list(overrides)
        if model_spec(name).stage == "guided":
            args += _rgb_stage(overrides)
        cfg = load_config(None, args, configs=configs)
        folder = run_dir(cfg)
        checkpoints[name, modality] = folder / "checkpoints" / f"{checkpoint}.ckpt"
        last = folder / "checkpoints" / "last.ckpt"
        max_epochs = int(cfg.trainer.max_epochs)

        def action() -> object:
            return fit(cfg, resume=True, quiet=True)

        stream = RGB if model_spec(name).stage == "guided" else SHORT[modality]
        return Step("train", f"train {name} ({stream})", ["train", *args], last, action,
                    lambda: _training_finished(last, max_epochs), to_dict(cfg))

    if guided and guide in ROWS and "joint" not in modalities:
        raise UserError(f"{model} is guided by {guide}'s joint stream: include J in the modalities")
    trained = _needed_training(members)
    for group in ([m for m in trained if m in EXPERTS], [m for m in trained if m not in EXPERTS]):
        steps += [train_step(name, modality) for name in group for modality in modalities]
    if guided:  # one RGB stream, guided by the joint stream
        steps.append(train_step(model, "joint"))

    def test_step(name: str, modality: str, stream: str) -> Path:
        """Test the run of ``name`` on ``modality``; its scores are those of ``stream`` (J, B, ..., RGB)."""
        tag = "rgb" if stream == RGB else modality
        ckpt, path = checkpoints[name, modality], out / "scores" / bench / f"{name}-{tag}.npz"

        def action() -> object:
            return test_checkpoint(ckpt, store=store, out=path)

        argv = ["test", str(ckpt), "--data", str(store), "--out", str(path)]
        steps.append(Step("test", f"test {name} ({stream})", argv, path, action, path.is_file))
        return path

    scores = {(name, modality): test_step(name, modality, SHORT[modality])
              for name in dict.fromkeys(m for m, _ in members) for modality in modalities}
    parts = {SHORT[modality]: [member_spec(scores[name, modality], branch) for name, branch in members]
             for modality in modalities if members}
    if guided:
        parts[RGB] = [member_spec(test_step(model, "joint", RGB))]
    specs = [spec for part in parts.values() for spec in part]
    report = out / "reports" / bench / model

    def ensemble_action() -> object:
        return write_ensemble_report(ensemble(specs), report)

    steps.append(Step("ensemble", f"ensemble {'+'.join(parts)}", ["ensemble", *specs, "--out", str(report)],
                      report / "report.json", ensemble_action, (report / "report.json").is_file, parts=parts))
    return steps


def _guide_of(bench: str, model: str, configs: str | Path | None, overrides: Sequence[str]) -> str:
    """The model whose features guide ``model``'s RGB stream, from its recipe (``none``: no guide)."""
    cfg = load_config(None, [f"dataset={bench}", f"model={model}", *overrides, *_rgb_stage(overrides)],
                      configs=configs)
    return str(cfg.model.kwargs.get("guide", "none"))


def _rgb_stage(overrides: Sequence[str]) -> list[str]:
    return [o.removeprefix("rgb_stage.") for o in overrides if o.startswith("rgb_stage.")]


def summarize(row: str, steps: Sequence[Step], modalities: Sequence[str]) -> dict:
    """Top-1 of the row per modality and of the ensemble, beside the paper's figures."""
    bench, model = _parse_row(row)
    ensemble_step = steps[-1]
    report = json.loads(ensemble_step.output.read_text())
    result = {"row": row, "modalities": list(ensemble_step.parts), "top1": 100 * report["top1"],
              "subsets": {k: 100 * v["top1"] for k, v in report.get("subsets", {}).items() if v["top1"] is not None},
              "per_modality": {}, "report": str(ensemble_step.output.parent)}
    for stream, specs in ensemble_step.parts.items():
        fused = ensemble(specs)
        result["per_modality"][stream] = 100 * topk_accuracy(fused.fused, fused.labels)
    if tuple(modalities) == ("joint", "bone") and model in PAPER.get(bench, {}):
        result["paper"] = PAPER[bench][model]
    if model in PAPER_JOINT.get(bench, {}):
        result["paper_joint"] = PAPER_JOINT[bench][model]
    return result


def reproduce(row: str, data_root: str | Path = "data", out: str | Path = "reproduce",
              configs: str | Path | None = None, modalities: str | Sequence[str] = ("joint", "bone"),
              checkpoint: str = "best", overrides: Sequence[str] = (), dry_run: bool = False,
              log: Callable[[str], object] = print) -> dict:
    """Run (or with ``dry_run`` only print) the plan of ``row``; skip the steps already done.

    Returns ``{"steps": [{"title", "command", "status"}], "summary": {...}}``; the summary
    (also written to the report folder as ``summary.json``) once every step is done.
    """
    modalities = parse_modalities(modalities)
    steps = plan(row, data_root, out, configs, modalities, checkpoint, overrides)
    record = {"row": row, "steps": []}
    for i, step in enumerate(steps, 1):
        done = step.done()
        status = "done" if done else ("to do" if dry_run else "running")
        log(f"# [{i}/{len(steps)}] {step.title}: {status}")
        if dry_run:
            log(step.command)
        elif not done and (step.kind == "train" or _is_main_process()):
            step.action()
            status = "ran"
        record["steps"].append({"title": step.title, "command": step.command, "status": status})
    if not dry_run and _is_main_process():
        summary = summarize(row, steps, modalities)

        write_json(steps[-1].output.parent / "summary.json", summary)
        record["summary"] = summary
        log(_summary_line(summary))
    return record


def _summary_line(s: dict) -> str:
    streams = "  ".join(f"{k} {v:.2f}%" for k, v in s["per_modality"].items())
    line = f"{s['row']}: {'+'.join(s['modalities'])} top-1 {s['top1']:.2f}%  ({streams})"
    if "paper" in s:
        line += f"  paper {s['paper']:.1f}%"
    if "paper_joint" in s:
        line += f"  paper J {s['paper_joint']:.1f}%"
    return line
