"""Train and compare model variants with one recipe: ``bharnet ablate`` and ``bharnet demo``.

The paper's two-stage recipe: the body and hand experts are trained first; ``score-fusion``
sums their logits as they are; every dual-stream variant starts from the two experts and is
fine-tuned; ``bharnet-e-expert`` keeps the expertized branches of the trained ``bharnet-e``.
The fused variants (a derived spec with a ``fusion``: ``reliability-fusion``, ``noisy-or``,
``bharnet-e-reliability``) combine their source's branches by a method fitted on the validation
split (:mod:`bharnet.models.fusion`); they refuse to fit on the test split. Derived variants are
built by :func:`bharnet.engine.derived.build_derived`.
Each variant's result is written as soon as it is known, so an interrupted ablation resumes
where it stopped. On a CPU with two or more cores the two experts train side by side, one process
each: networks this small do not use a second thread well, so two at once take about the time of one.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from queue import Empty

import torch
from omegaconf import DictConfig, OmegaConf
from rich.table import Table

from bharnet.core.atomic import write_json
from bharnet.core.errors import UserError
from bharnet.core.machine import usable_cores
from bharnet.engine.checkpoints import load_checkpoint
from bharnet.engine.config import load_config, make_config, to_dict
from bharnet.engine.derived import build_derived, sources
from bharnet.engine.evaluate import evaluate_split, module_cost
from bharnet.engine.fit import fit, prepare_store, settle_hand_norm
from bharnet.engine.module import ActionModule, SkeletonDataModule
from bharnet.eval.ensemble import ensemble
from bharnet.eval.metrics import confusion_matrix, group_accuracy
from bharnet.eval.plots import plot_confusion
from bharnet.eval.scores import load_scores
from bharnet.models import expert_for, list_models, model_spec
from bharnet.store.packed import SkeletonStore

__all__ = ["VARIANTS", "RGB_VARIANTS", "RGB_FUSED", "SCORES_FILE", "run_ablation", "scores_file", "results_table",
           "write_report"]

#: every registered skeleton model, in the registry's order (experts, second stage, derived)
VARIANTS = tuple(name for name in list_models() if "rgb" not in model_spec(name).streams)
#: the models with an RGB stream (they need a store with ST-ROI images), guided by the body expert
RGB_VARIANTS = tuple(name for name in list_models() if "rgb" in model_spec(name).streams)
ALL_VARIANTS = VARIANTS + RGB_VARIANTS
EXPERTS = tuple(list_models("expert"))
#: what an ablation writes in its folder
ABLATION_FILES = ("runs", "results.json", "report.md", "confusion.png")
#: skeleton variants whose scores are fused with an RGB variant's (rows "<variant> + RGB")
RGB_FUSED = tuple(list_models(tag="rgb-fused"))
#: each variant's scores on the test split (:mod:`bharnet.eval.scores`), in its run folder
SCORES_FILE = "test_scores.npz"


def _variant_config(base: DictConfig, variant: str, out_dir: Path, experts: dict[str, Path],
                    finetune: list[str] | None) -> DictConfig:
    """The run of one variant: the shared recipe; the second stage starts from the experts and
    takes the recipe's ``second_stage`` settings and the ``finetune`` overrides (e.g. fewer
    epochs, a smaller learning rate); a guided variant (BHaRNet-M) trains its RGB stream from the
    start, guided by the trained body expert, with the recipe's ``rgb_stage`` settings."""
    cfg = copy.deepcopy(base)
    cfg.name, cfg.out_dir, cfg.model.name = variant, str(out_dir / "runs"), variant
    if model_spec(variant).stage == "guided":
        cfg.model.init.guide = str(experts[expert_for("body")])
        cfg = make_config(cfg, cfg.rgb_stage)
    elif model_spec(variant).stage == "finetune":
        cfg.model.init.body, cfg.model.init.hand = (str(experts[expert_for(s)]) for s in ("body", "hand"))
        cfg = make_config(cfg, cfg.second_stage, overrides=finetune)
    return cfg


def scores_file(out_dir: str | Path, variant: str) -> Path:
    """Where an ablation in ``out_dir`` keeps ``variant``'s scores on the test split."""
    return Path(out_dir) / "runs" / variant / SCORES_FILE


def run_ablation(base: DictConfig, variants: list[str], out_dir: str | Path, finetune: list[str] | None = None,
                 log=print) -> dict:
    """Train ``variants`` with the recipe ``base`` on its store; write ``results.json``.

    With an RGB variant, rows ``<variant> + RGB`` fuse the test scores of the skeleton variants of
    :data:`RGB_FUSED` with the RGB variant's (mean of the two softmax probabilities).

    Returns ``{"models": {variant: {top1, top1_<group>_classes, params, macs, macs_all,
    train_seconds, branches}}, ...}``; the test scores of each variant are kept in a scores file,
    ``<out_dir>/runs/<variant>/test_scores.npz`` (:func:`scores_file`).
    """
    unknown = sorted(set(variants) - set(ALL_VARIANTS))
    if unknown:
        raise UserError(f"unknown variants {unknown}; known: {', '.join(ALL_VARIANTS)}")
    out_dir = Path(out_dir)
    (out_dir / "runs").mkdir(parents=True, exist_ok=True)
    prepare_store(base)  # once, before expert processes would race to generate it
    base = settle_hand_norm(base)  # every variant reads the hands alike
    needed = _with_prerequisites(variants)
    results_path = out_dir / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {"models": {}}
    checkpoints: dict[str, Path] = {}
    data = None
    side_by_side = _train_experts_side_by_side(base, needed, out_dir, finetune, log)
    for variant in needed:
        run = out_dir / "runs" / variant
        done = run / "result.json"
        if done.exists():
            record = json.loads(done.read_text())
            checkpoints[variant] = Path(record["checkpoint"]) if record.get("checkpoint") else None
            results["models"][variant] = record["result"]
            log(f"{variant}: done earlier (top-1 {record['result']['top1']:.3f})")
            if checkpoints[variant] and not scores_file(out_dir, variant).is_file():
                # a folder of an earlier version kept its test logits in another file: test the checkpoint again
                _, data = _test(load_checkpoint(checkpoints[variant]), checkpoints[variant], base, data,
                                scores_file(out_dir, variant))
            continue
        start = time.perf_counter()
        stage = model_spec(variant).stage
        fusion_info = None
        if stage == "derived":  # its sources ran before, so the store exists
            if data is None and model_spec(variant).fusion:
                data = SkeletonDataModule(to_dict(base)["data"], (), base.seed)
            module, fusion_info = build_derived(_variant_config(base, variant, out_dir, checkpoints, None),
                                                checkpoints, data)
            seconds = sum(results["models"][p]["train_seconds"] for p in sources(variant))
            checkpoint = run / "checkpoints" / "last.ckpt"
        elif variant in side_by_side:
            checkpoint, seconds = side_by_side[variant]
            module = load_checkpoint(checkpoint)
        else:
            log(f"{variant}: training")
            fitted = fit(_variant_config(base, variant, out_dir, checkpoints, finetune), resume=True,
                         quiet=True)
            checkpoint = fitted["best"]
            module = load_checkpoint(checkpoint)
            seconds = time.perf_counter() - start
            if stage in ("finetune", "guided"):  # its own training plus that of the experts it starts from
                starts = EXPERTS if stage == "finetune" else (expert_for("body"),)
                seconds += sum(results["models"][e]["train_seconds"] for e in starts)
        tested, data = _test(module, checkpoint, base, data, scores_file(out_dir, variant))
        result = {**tested, "train_seconds": round(seconds, 1)}
        if fusion_info is not None:
            result["fusion"] = fusion_info
        write_json(done, {"result": result, "checkpoint": str(checkpoint) if checkpoint else None})
        checkpoints[variant] = checkpoint
        results["models"][variant] = result
        results["models"] = {k: results["models"][k] for k in ALL_VARIANTS if k in results["models"]}
        write_json(results_path, results)
        log(f"{variant}: top-1 {result['top1']:.3f}")
    for rgb_variant in (v for v in RGB_VARIANTS if v in results["models"]):
        results["models"].update(_rgb_fusion_rows(results["models"], rgb_variant, out_dir))
    results["store"], results["test_split"] = base.data.store, base.data.test_split
    results["config"] = OmegaConf.to_container(base, resolve=True)
    write_json(results_path, results)
    return results


def _test(module: ActionModule, checkpoint: Path | None, base: DictConfig, data: SkeletonDataModule | None,
          scores: Path) -> tuple[dict, SkeletonDataModule]:
    """A variant's metrics and cost on the test split, its scores written to ``scores``; the data
    module (made on the first call) is shared by every variant."""
    if data is None:
        data = SkeletonDataModule(to_dict(base)["data"], module.streams, base.seed)
    evaluation = evaluate_split(module, data, base.data.test_split)
    cost = module_cost(module, base.data.window)
    scores.parent.mkdir(parents=True, exist_ok=True)
    evaluation.save(scores, checkpoint=checkpoint, **cost)
    return {**evaluation.metrics, **cost}, data


def _train_experts_side_by_side(base: DictConfig, needed: list[str], out_dir: Path, finetune: list[str] | None,
                                log: Callable[[str], object]) -> dict[str, tuple[Path, float]]:
    """Train the experts that still need it in parallel processes, when there are two of them, the
    run is on the CPU and there are cores for both; ``{expert: (best checkpoint, seconds)}``.
    Ctrl-C stops both (each saves its ``last.ckpt``, which a rerun resumes from)."""
    pending = [e for e in EXPERTS if e in needed and not (out_dir / "runs" / e / "result.json").exists()]
    cores = usable_cores()
    if len(pending) < 2 or base.trainer.accelerator != "cpu" or cores < len(pending):
        return {}
    log(f"{', '.join(pending)}: training side by side")
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_fit_expert, name=e,
                               args=(e, _variant_config(base, e, out_dir, {}, finetune), cores // len(pending), queue))
               for e in pending]
    for worker in workers:
        worker.start()
    try:
        results = _collect(queue, workers)
    finally:
        for worker in workers:  # after Ctrl-C each worker stops at its next step, then it is ended
            worker.join(timeout=20)
            if worker.is_alive():
                worker.kill()
                worker.join()
    return {e: (Path(r["best"]), r["seconds"]) for e, r in results.items()}


def _collect(queue: multiprocessing.Queue, workers: list[multiprocessing.Process]) -> dict[str, dict]:
    """One result per worker; a worker's error or interruption is raised here as the same kind."""
    results: dict[str, dict] = {}
    while len(results) < len(workers):
        try:
            name, result = queue.get(timeout=1.0)
        except Empty:
            dead = [w for w in workers if w.name not in results and not w.is_alive() and queue.empty()]
            if dead:
                raise RuntimeError(f"training {dead[0].name} ended without a result (exit code {dead[0].exitcode})") \
                    from None
            continue
        if "interrupted" in result:
            raise KeyboardInterrupt(result["interrupted"])
        if "error" in result:
            raise UserError(result["error"]) if result.get("user") else RuntimeError(f"{name}: {result['error']}")
        results[name] = result
    return results


def _fit_expert(name: str, cfg: DictConfig, threads: int, queue: multiprocessing.Queue) -> None:
    torch.set_num_threads(max(1, threads))
    start = time.perf_counter()
    try:
        result = {"best": str(fit(cfg, resume=True, quiet=True)["best"]), "seconds": time.perf_counter() - start}
    except KeyboardInterrupt as err:  # Ctrl-C reaches the whole process group; training stops and says how to resume
        result = {"interrupted": str(err)}
    except UserError as err:
        result = {"error": str(err), "user": True}
    except Exception:  # the parent raises it, with the worker's traceback
        result = {"error": traceback.format_exc()}
    queue.put((name, result))


def _with_prerequisites(variants: list[str]) -> list[str]:
    """Every variant needs the experts; a derived one also the models it is assembled from."""
    wanted = set(variants)
    if wanted - set(EXPERTS):
        wanted |= set(EXPERTS)
    for variant in list(wanted):
        if model_spec(variant).stage == "derived":
            wanted |= set(sources(variant))
    return [v for v in ALL_VARIANTS if v in wanted]


def _rgb_fusion_rows(models: dict, rgb_variant: str, out_dir: Path) -> dict:
    """``<skeleton variant> + RGB`` rows: the ensemble of the two models' test scores files, the
    mean of their softmax probabilities (samples matched by name)."""
    rows = {}
    for variant in (v for v in RGB_FUSED if v in models):
        fused = ensemble([str(scores_file(out_dir, variant)), str(scores_file(out_dir, rgb_variant))], mode="softmax")
        groups = fused.members[0].scores.meta.get("class_groups") or {}
        row = group_accuracy(fused.fused, fused.labels, groups)
        for key in ("params", "macs", "macs_all", "train_seconds"):
            row[key] = models[variant][key] + models[rgb_variant][key]
        rows[f"{variant} + RGB"] = row
    return rows


def ablation_config(path: str | Path | None, overrides: list[str] | None = None) -> DictConfig:
    """The shared recipe of an ablation: a run config file and/or groups (its model is ignored)."""
    return load_config(path, overrides)


def results_table(results: dict, title: str | None = None) -> Table:
    """The comparison as a terminal table (``title``: what was tested, by default the store's test split)."""
    table = Table(title=title or _title(results))
    for column in ("model", "top-1", "hand-only", "body-only", "mixed", "object", "params", "MMACs", "train s"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for name, r in results["models"].items():
        table.add_row(name, *_cells(r))
    return table


def _cells(r: dict) -> list[str]:
    pct = lambda key: f"{100 * r[key]:.1f}" if key in r else "-"  # noqa: E731
    return [pct("top1"), pct("top1_hand_classes"), pct("top1_body_classes"), pct("top1_mixed_classes"),
            pct("top1_object_classes"), f"{r['params']:,}", f"{r['macs'] / 1e6:.1f}", f"{r['train_seconds']:.0f}"]


def _title(results: dict) -> str:
    return f"{Path(results['store']).name}: {results.get('test_split', 'test')} split"


def write_report(results: dict, out: Path, title: str | None = None) -> None:
    """``report.md`` with the table and ``confusion.png`` of the best model."""
    title = title or _title(results)
    trained = [k for k in results["models"] if scores_file(out, k).is_file()]
    best = max(trained, key=lambda k: results["models"][k]["top1"])
    lines = [f"# {title}", "",
             "Top-1 accuracy (%) on the test split, overall and on the classes that differ only in the",
             "fingers (hand-only), only in the body motion (body-only), in both (mixed), or only in the",
             "held object that the RGB frames show and the skeletons do not (object). `+ RGB` rows fuse",
             "a skeleton model's scores with BHaRNet-M's (mean of softmax probabilities).", "",
             "| model | top-1 | hand-only | body-only | mixed | object | params | MMACs | train s |",
             "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {name} | " + " | ".join(_cells(r)) + " |" for name, r in results["models"].items()]
    lines += ["", f"![confusion matrix of {best}](confusion.png)", ""]
    (out / "report.md").write_text("\n".join(lines))
    scores = load_scores(scores_file(out, best))
    classes = SkeletonStore(results["store"]).classes
    cm = confusion_matrix(scores.branch().argmax(1), scores.labels, len(classes))
    plot_confusion(cm, classes, out / "confusion.png", title=f"{best}: {title}")
