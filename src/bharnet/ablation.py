"""Train and compare model variants with one recipe: ``bharnet ablate`` and ``bharnet demo``.

The paper's two-stage recipe: the body and hand experts are trained first; ``score-fusion``
sums their logits as they are; every dual-stream variant starts from the two experts and is
fine-tuned; ``bharnet-e-expert`` keeps the expertized branches of the trained ``bharnet-e``.
The fused variants (``reliability-fusion``, ``noisy-or``, ``bharnet-e-reliability``) fuse the
branches of ``score-fusion`` or ``bharnet-e`` by a method fitted on the validation split
(``bharnet.models.fusion``); they refuse to fit on the test split.
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
from .models.fusion import FUSED_VARIANTS, fit_fusion, select_method

__all__ = ["VARIANTS", "run_ablation", "evaluate_module"]

EXPERTS = ("body-expert", "hand-expert")
#: variants built from trained ones without training of their own
DERIVED = {"score-fusion": EXPERTS, "bharnet-e-expert": ("bharnet-e",),
           **{name: (base,) for name, (base, _, _) in FUSED_VARIANTS.items()}}
VARIANTS = ("body-expert", "hand-expert", "score-fusion", "reliability-fusion", "noisy-or", "joint",
            "cross-attention", "fast-attention", "bharnet-p", "bharnet-e", "bharnet-e-expert",
            "bharnet-e-reliability")


def _variant_config(base: DictConfig, variant: str, out_dir: Path, experts: dict[str, Path],
                    finetune: list[str] | None) -> DictConfig:
    """The run of one variant: the shared recipe; the second stage starts from the experts and
    takes the ``finetune`` overrides (e.g. fewer epochs, a smaller learning rate)."""
    cfg = copy.deepcopy(base)
    cfg.name, cfg.out_dir, cfg.model.name = variant, str(out_dir / "runs"), variant
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


def _fused_module(variant: str, sources: dict[str, Path], base: DictConfig, out_dir: Path,
                  data: SkeletonDataModule) -> tuple[ActionModule, dict]:
    """A fused variant: its base model's branches on the validation split fit the fusion (the
    method too, when the variant's is ``auto``); the test split is never seen."""
    base_name, branches, method = FUSED_VARIANTS[variant]
    val_split = base.data.val_split
    if val_split is None or val_split == base.data.test_split:
        raise UserError(f"{variant} fits its fusion on the validation split, but data.val_split is "
                        f"{val_split!r} (the test split is {base.data.test_split!r}); set data.val_split=auto")
    source = load_checkpoint(sources[base_name])
    val = evaluate_module(source, data, val_split)
    info: dict = {"fitted_on": val_split, "samples": int(len(val["labels"]))}
    if method == "auto":
        method, info["cv_top1"] = select_method(val["logits"], val["labels"], branches)
    fusion = fit_fusion(val["logits"], val["labels"], branches, method)
    info.update(method=method, branches=list(branches), temperature=fusion.temperature.tolist(),
                weights=fusion.weights.tolist())
    cfg = _variant_config(base, variant, out_dir, sources, None)
    cfg.model.init.body = cfg.model.init.hand = None
    cfg.model.kwargs = {**cfg.model.kwargs, "method": method}
    module = ActionModule(to_dict(cfg), source.store_meta)
    module.model.base.load_state_dict(source.model.state_dict())
    module.model.fusion.load_state_dict(fusion.state_dict())
    from .engine.run import save_checkpoint

    save_checkpoint(module, out_dir / "runs" / variant / "checkpoints" / "last.ckpt")
    return module.eval(), info


def run_ablation(base: DictConfig, variants: list[str], out_dir: str | Path, finetune: list[str] | None = None,
                 log=print) -> dict:
    """Train ``variants`` with the recipe ``base`` on its store; write ``results.json``.

    Returns ``{"models": {variant: {top1, top1_<group>_classes, params, macs, macs_all,
    train_seconds, branches}}, ...}``; the test logits of each variant are kept in
    ``<out_dir>/runs/<variant>/test_logits.npz``.
    """
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise UserError(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
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
        fusion_info = None
        if variant in FUSED_VARIANTS:  # its base ran before, so the store exists
            data = data or SkeletonDataModule(to_dict(base)["data"], (), base.seed)
            module, fusion_info = _fused_module(variant, checkpoints, base, out_dir, data)
            seconds = results["models"][DERIVED[variant][0]]["train_seconds"]
            checkpoint = run / "checkpoints" / "last.ckpt"
        elif variant in DERIVED:
            module = _derived_module(variant, checkpoints, base, out_dir)
            seconds = sum(results["models"][p]["train_seconds"] for p in DERIVED[variant])
            checkpoint = run / "checkpoints" / "last.ckpt"
        else:
            log(f"{variant}: training")
            fitted = fit(_variant_config(base, variant, out_dir, checkpoints, finetune), resume=True,
                         quiet=True)
            checkpoint = fitted["best"]
            module = load_checkpoint(checkpoint)
            seconds = time.perf_counter() - start
            if variant not in EXPERTS:  # fine-tuning time plus the experts it starts from
                seconds += sum(results["models"][e]["train_seconds"] for e in EXPERTS)
        data = data or SkeletonDataModule(to_dict(base)["data"], module.streams, base.seed)
        evaluation = evaluate_module(module, data, base.data.test_split)
        result = {**evaluation["metrics"], **_cost(module, base.data.window), "train_seconds": round(seconds, 1)}
        if fusion_info is not None:
            result["fusion"] = fusion_info
        run.mkdir(parents=True, exist_ok=True)
        np.savez(run / "test_logits.npz", indices=evaluation["indices"], labels=evaluation["labels"],
                 **{f"logits_{k}": v for k, v in evaluation["logits"].items()})
        write_json(done, {"result": result, "checkpoint": str(checkpoint) if checkpoint else None})
        checkpoints[variant] = checkpoint
        results["models"][variant] = result
        results["models"] = {k: results["models"][k] for k in VARIANTS if k in results["models"]}
        write_json(results_path, results)
        log(f"{variant}: top-1 {result['top1']:.3f}")
    results["store"] = base.data.store
    results["config"] = OmegaConf.to_container(base, resolve=True)
    write_json(results_path, results)
    return results


def _with_prerequisites(variants: list[str]) -> list[str]:
    """Every variant needs the experts; a derived one needs what it is derived from."""
    wanted = set(variants)
    if wanted - set(EXPERTS):
        wanted |= set(EXPERTS)
    for variant in reversed(VARIANTS):  # a base comes before what is derived from it
        if variant in wanted:
            wanted |= set(DERIVED.get(variant, ()))
    return [v for v in VARIANTS if v in wanted]


def ablation_config(path: str | Path | None, overrides: list[str] | None = None, **layers) -> DictConfig:
    """The shared recipe of an ablation: a run config file (its ``model.name`` is ignored)."""
    from .engine.config import load_config

    if path is None:
        return make_config(layers, overrides=overrides)
    return load_config(path, overrides)
