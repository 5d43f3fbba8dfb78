"""Train and compare model variants with one recipe: ``bharnet ablate`` and ``bharnet demo``.

The paper's two-stage recipe: the body and hand experts are trained first; ``score-fusion``
sums their logits as they are; every dual-stream variant starts from the two experts and is
fine-tuned; ``bharnet-e-expert`` keeps the expertized branches of the trained ``bharnet-e``.
Each variant's result is written as soon as it is known, so an interrupted ablation resumes
where it stopped.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from .atomic import write_json
from .engine.config import make_config, to_dict
from .engine.module import ActionModule, SkeletonDataModule
from .engine.run import fit, load_checkpoint, predict
from .errors import UserError
from .store import SkeletonStore

__all__ = ["VARIANTS", "RGB_VARIANTS", "run_ablation", "evaluate_module"]

EXPERTS = ("body-expert", "hand-expert")
#: variants built from the trained experts without training of their own
DERIVED = {"score-fusion": EXPERTS, "bharnet-e-expert": ("bharnet-e",)}
VARIANTS = ("body-expert", "hand-expert", "score-fusion", "joint", "cross-attention", "fast-attention",
            "bharnet-p", "bharnet-e", "bharnet-e-expert")
#: variants with an RGB stream (need a store with ST-ROI images); guided by the trained body expert
RGB_VARIANTS = ("bharnet-m",)
#: skeleton variants whose scores are fused with the RGB stream's (rows "<variant> + RGB")
RGB_FUSED = ("score-fusion", "joint", "bharnet-e")
ALL_VARIANTS = VARIANTS + RGB_VARIANTS


def _variant_config(base: DictConfig, variant: str, out_dir: Path, experts: dict[str, Path],
                    finetune: list[str] | None, rgb: list[str] | None = None) -> DictConfig:
    """The run of one variant: the shared recipe; the second stage starts from the experts and
    takes the ``finetune`` overrides (e.g. fewer epochs, a smaller learning rate); an RGB variant
    trains its RGB stream from the start, guided by the body expert, with the ``rgb`` overrides."""
    cfg = copy.deepcopy(base)
    cfg.name, cfg.out_dir, cfg.model.name = variant, str(out_dir / "runs"), variant
    if variant in RGB_VARIANTS:
        cfg.model.init.guide = str(experts["body-expert"])
        return make_config(cfg, overrides=rgb) if rgb else cfg
    if variant not in EXPERTS:
        cfg.model.init.body, cfg.model.init.hand = str(experts["body-expert"]), str(experts["hand-expert"])
        if finetune:
            cfg = make_config(cfg, overrides=finetune)
    return cfg


def _group_accuracy(pred: np.ndarray, labels: np.ndarray, groups: dict[str, list[int]]) -> dict[str, float]:
    out = {"top1": float((pred == labels).mean())}
    for group, classes in groups.items():
        mask = np.isin(labels, classes)
        if mask.any():
            out[f"top1_{group}_classes"] = float((pred[mask] == labels[mask]).mean())
    return out


def evaluate_module(module: ActionModule, data: SkeletonDataModule, split: str) -> dict:
    """Top-1 overall and per class group of every branch; the test logits."""
    data.streams = module.streams
    loader = torch.utils.data.DataLoader(data.dataset(split), batch_size=data.cfg["eval_batch_size"],
                                         num_workers=data.cfg["num_workers"])
    indices, labels, logits = predict(module, loader)
    groups = data.store.meta.get("source", {}).get("class_groups", {})
    result = _group_accuracy(logits["logits"].argmax(1), labels, groups)
    result["branches"] = {name: float((v.argmax(1) == labels).mean()) for name, v in logits.items()}
    return {"metrics": result, "indices": indices, "labels": labels, "logits": logits}


def _cost(module: ActionModule, window: int) -> dict[str, int]:
    from .profile import count_cost

    model = module.model
    return count_cost(model, model.example_inputs(batch=1, frames=window))


def _derived_module(variant: str, sources: dict[str, Path], base: DictConfig, out_dir: Path) -> ActionModule:
    """``score-fusion`` from the two experts; ``bharnet-e-expert`` from a trained ``bharnet-e``.

    Saved as a checkpoint like any trained run, so ``bharnet test`` takes it as well.
    """
    from .engine.run import load_model_state, save_checkpoint
    from .models.bharnet import init_from_experts

    cfg = _variant_config(base, variant, out_dir, sources, None)
    cfg.model.init.body = cfg.model.init.hand = None
    first = sources["body-expert" if variant == "score-fusion" else "bharnet-e"]
    module = ActionModule(to_dict(cfg), load_checkpoint(first).store_meta)
    if variant == "score-fusion":
        init_from_experts(module.model, load_model_state(first), load_model_state(sources["hand-expert"]))
    else:  # the expert-only model loads BHaRNet-E's weights and leaves its interactive part out
        module.model.load_state_dict(load_model_state(first))
    save_checkpoint(module, out_dir / "runs" / variant / "checkpoints" / "last.ckpt")
    return module.eval()


def run_ablation(base: DictConfig, variants: list[str], out_dir: str | Path, finetune: list[str] | None = None,
                 log=print, rgb: list[str] | None = None) -> dict:
    """Train ``variants`` with the recipe ``base`` on its store; write ``results.json``.

    ``rgb``: overrides of the RGB variants' runs. With an RGB variant, rows ``<variant> + RGB`` fuse
    the test scores of the skeleton variants of :data:`RGB_FUSED` with the RGB stream's (mean of
    softmax probabilities).

    Returns ``{"models": {variant: {top1, top1_<group>_classes, params, macs, macs_all,
    train_seconds, branches}}, ...}``; the test logits of each variant are kept in
    ``<out_dir>/runs/<variant>/test_logits.npz``.
    """
    unknown = sorted(set(variants) - set(ALL_VARIANTS))
    if unknown:
        raise UserError(f"unknown variants {unknown}; known: {', '.join(ALL_VARIANTS)}")
    out_dir = Path(out_dir)
    (out_dir / "runs").mkdir(parents=True, exist_ok=True)
    needed = _with_prerequisites(variants)
    results_path = out_dir / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {"models": {}}
    checkpoints: dict[str, Path] = {}
    data = None
    for variant in needed:
        run = out_dir / "runs" / variant
        done = run / "result.json"
        if done.exists():
            record = json.loads(done.read_text())
            checkpoints[variant] = Path(record["checkpoint"]) if record.get("checkpoint") else None
            results["models"][variant] = record["result"]
            log(f"{variant}: done earlier (top-1 {record['result']['top1']:.3f})")
            continue
        start = time.perf_counter()
        if variant in DERIVED:
            module = _derived_module(variant, checkpoints, base, out_dir)
            seconds = sum(results["models"][p]["train_seconds"] for p in DERIVED[variant])
            checkpoint = run / "checkpoints" / "last.ckpt"
        else:
            log(f"{variant}: training")
            fitted = fit(_variant_config(base, variant, out_dir, checkpoints, finetune, rgb), resume=True,
                         quiet=True)
            checkpoint = fitted["best"]
            module = load_checkpoint(checkpoint)
            seconds = time.perf_counter() - start
            if variant not in EXPERTS:  # its own training plus that of the experts it starts from
                starts = ("body-expert",) if variant in RGB_VARIANTS else EXPERTS
                seconds += sum(results["models"][e]["train_seconds"] for e in starts)
        if data is None:
            data = SkeletonDataModule(to_dict(base)["data"], module.streams, base.seed)
        evaluation = evaluate_module(module, data, base.data.test_split)
        result = {**evaluation["metrics"], **_cost(module, base.data.window), "train_seconds": round(seconds, 1)}
        run.mkdir(parents=True, exist_ok=True)
        np.savez(run / "test_logits.npz", indices=evaluation["indices"], labels=evaluation["labels"],
                 **{f"logits_{k}": v for k, v in evaluation["logits"].items()})
        write_json(done, {"result": result, "checkpoint": str(checkpoint) if checkpoint else None})
        checkpoints[variant] = checkpoint
        results["models"][variant] = result
        results["models"] = {k: results["models"][k] for k in ALL_VARIANTS if k in results["models"]}
        write_json(results_path, results)
        log(f"{variant}: top-1 {result['top1']:.3f}")
    for rgb_variant in (v for v in RGB_VARIANTS if v in results["models"]):
        groups = SkeletonStore(base.data.store).meta.get("source", {}).get("class_groups", {})
        results["models"].update(_rgb_fusion_rows(results["models"], rgb_variant, out_dir, groups))
    results["store"] = base.data.store
    results["config"] = OmegaConf.to_container(base, resolve=True)
    write_json(results_path, results)
    return results


def _with_prerequisites(variants: list[str]) -> list[str]:
    """Every variant needs the experts; ``bharnet-e-expert`` needs ``bharnet-e``."""
    wanted = set(variants)
    if wanted - set(EXPERTS):
        wanted |= set(EXPERTS)
    if "bharnet-e-expert" in wanted:
        wanted.add("bharnet-e")
    return [v for v in ALL_VARIANTS if v in wanted]


def _rgb_fusion_rows(models: dict, rgb_variant: str, out_dir: Path, groups: dict[str, list[int]]) -> dict:
    """``<skeleton variant> + RGB`` rows: the mean of the two models' softmax probabilities on the test
    split (the two runs list the test samples in the same order)."""
    from .eval.metrics import softmax

    rgb = np.load(out_dir / "runs" / rgb_variant / "test_logits.npz")
    rows = {}
    for variant in (v for v in RGB_FUSED if v in models):
        skeleton = np.load(out_dir / "runs" / variant / "test_logits.npz")
        if not np.array_equal(skeleton["indices"], rgb["indices"]):
            raise UserError(f"{variant} and {rgb_variant} were tested on different samples")
        fused = softmax(skeleton["logits_logits"]) + softmax(rgb["logits_logits"])
        row = _group_accuracy(fused.argmax(1), rgb["labels"], groups)
        for key in ("params", "macs", "macs_all", "train_seconds"):
            row[key] = models[variant][key] + models[rgb_variant][key]
        rows[f"{variant} + RGB"] = row
    return rows


def ablation_config(path: str | Path | None, overrides: list[str] | None = None, **layers) -> DictConfig:
    """The shared recipe of an ablation: a run config file (its ``model.name`` is ignored)."""
    from .engine.config import load_config

    if path is None:
        return make_config(layers, overrides=overrides)
    return load_config(path, overrides)
