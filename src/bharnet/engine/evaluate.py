"""Evaluation of trained models: ``bharnet test`` (a checkpoint over a split, top-1 per branch, a
scores file), a module's top-1 overall, per class group and per branch (:func:`evaluate_split`,
what an ablation reports), and a model's cost (:func:`module_cost`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from bharnet.core.errors import UserError
from bharnet.core.layouts import HAND25
from bharnet.data.dataset import EpochSampler
from bharnet.data.transforms import to_modality
from bharnet.engine.checkpoints import load_checkpoint
from bharnet.engine.inference import predict
from bharnet.engine.module import ActionModule, SkeletonDataModule
from bharnet.eval.metrics import group_accuracy, topk_accuracy
from bharnet.eval.perturb import Perturber
from bharnet.eval.scores import save_scores
from bharnet.models.cost import count_cost

__all__ = ["test_checkpoint", "evaluate_split", "SplitEvaluation", "module_cost"]


def test_checkpoint(checkpoint: str | Path, store: str | Path | None = None, split: str | None = None,
                    out: str | Path | None = None, perturb: str | None = None, seed: int = 0,
                    clips: int = 1, device: str | None = None) -> dict:
    """Test a checkpoint on ``split`` of ``store`` (defaults: those of its training config).

    Returns top-1 of every branch; with ``out`` also writes the scores file (every sample's
    name, label and the logits of every branch). ``perturb`` applies a robustness
    perturbation (``noise=SIGMA``, ``drop-frames=P``, ``drop-hands=P``) to the inputs.
    ``clips > 1`` is test-time augmentation: the logits of the centred view and of
    ``clips - 1`` training-style views (random crop and rotation, seeded) are averaged.
    ``device``: where to run (default: the GPU when there is one).
    """
    module = load_checkpoint(checkpoint)
    data_cfg = dict(module.config["data"])
    if store is not None:
        data_cfg["store"] = str(store)
    split = split or data_cfg["test_split"]
    data = SkeletonDataModule(data_cfg, module.streams, seed=module.config["seed"])
    _check_compatible(module, data, checkpoint)
    view_modality = data.view.modality
    if perturb:  # perturb joint coordinates, then derive bones / motion from what was perturbed
        data.view = replace(data.view, modality="joint")
    transform = _perturbation(perturb, seed, data, view_modality) if perturb else None
    indices, labels, logits = predict(module, _loader(data, split, clip=0), transform=transform, device=device)
    for clip in range(1, clips):
        extra_indices, _, extra = predict(module, _loader(data, split, clip), transform=transform, device=device)
        assert (extra_indices == indices).all()
        logits = {k: v + extra[k] for k, v in logits.items()}
    logits = {k: v / clips for k, v in logits.items()}
    metrics: dict = {"split": split, "samples": int(len(labels))}
    metrics.update({("top1" if k == "logits" else f"top1_{k}"): float((v.argmax(1) == labels).mean())
                    for k, v in logits.items()})
    if out is not None:

        model_cfg = module.config["model"]
        save_scores(out, names=[data.store.names[i] for i in indices], labels=labels, logits=logits, meta={
            "classes": data.store.classes, "variant": model_cfg["name"], "backbone": model_cfg["backbone"],
            "modality": data.cfg.get("modality"), "dataset": str(data.cfg["store"]), "split": split,
            "checkpoint": str(checkpoint), "perturbation": perturb or "none", "clips": clips,
            "class_groups": _class_groups(data), **module_cost(module, data_cfg["window"]),
        })
        metrics["scores"] = str(out)
    return metrics


@dataclass
class SplitEvaluation:
    """A module's outputs on one split: its ``metrics`` (``top1``, ``top1_<group>_classes``,
    ``branches``: top-1 of each branch) and every sample's name, label and branch logits."""

    metrics: dict
    names: list[str]
    labels: np.ndarray
    logits: dict[str, np.ndarray]
    #: what the scores file says of the model and the data
    meta: dict

    def save(self, path: str | Path, **meta) -> Path:
        """Write the scores file (:mod:`bharnet.eval.scores`), with ``meta`` added to its own."""
        return save_scores(path, self.names, self.labels, self.logits, {**self.meta, **meta})


def evaluate_split(module: ActionModule, data: SkeletonDataModule, split: str) -> SplitEvaluation:
    """Run ``module`` over ``split`` of ``data``'s store: top-1 overall, on each class group of the
    store and of every branch, with the scores behind them."""
    data.streams = module.streams
    loader = torch.utils.data.DataLoader(data.dataset(split), batch_size=data.cfg["eval_batch_size"],
                                         num_workers=data.cfg["num_workers"])
    indices, labels, logits = predict(module, loader)
    metrics = group_accuracy(logits["logits"], labels, _class_groups(data) or {})
    metrics["branches"] = {name: topk_accuracy(v, labels) for name, v in logits.items()}
    model_cfg = module.config["model"]
    meta = {"classes": data.store.classes, "variant": model_cfg["name"], "backbone": model_cfg["backbone"],
            "modality": data.cfg.get("modality"), "dataset": str(data.cfg["store"]), "split": split,
            "class_groups": _class_groups(data)}
    return SplitEvaluation(metrics, [data.store.names[i] for i in indices], labels, logits, meta)


def module_cost(module: ActionModule, frames: int) -> dict[str, int]:
    """Parameters and multiply-adds of ``module``'s model on one sample of ``frames`` frames."""
    return count_cost(module.model, module.model.example_inputs(batch=1, frames=frames))


def _class_groups(data: SkeletonDataModule) -> dict[str, list[int]] | None:
    return data.store.meta.get("source", {}).get("class_groups")


def _loader(data: SkeletonDataModule, split: str, clip: int) -> torch.utils.data.DataLoader:
    """Clip 0: the deterministic centred view; clip k > 0: the augmented view of "epoch" k."""
    dataset = data.dataset(split, train=clip > 0)
    sampler = EpochSampler(len(dataset), shuffle=False, seed=data.seed)
    sampler.set_epoch(clip)
    return torch.utils.data.DataLoader(dataset, batch_size=data.cfg["eval_batch_size"], sampler=sampler,
                                       num_workers=data.cfg["num_workers"])


def _perturbation(spec: str, seed: int, data: SkeletonDataModule, modality: str):
    perturber = Perturber(spec, seed=seed)
    layouts = {"body": data.dataset(None).body_layout, "hand": HAND25}

    def apply(inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = perturber(inputs)
        for stream, layout in layouts.items():
            if stream in out and modality != "joint":
                out[stream] = to_modality(out[stream], layout, modality)
                if stream == "hand":  # as the dataset: a bone or motion is valid only where its joints are
                    out[stream] = out[stream] * to_modality(out["hand_mask"], layout, "joint")
        return out

    return apply


def _check_compatible(module, data: SkeletonDataModule, checkpoint: str | Path) -> None:
    trained, given = module.store_meta, data.store.meta
    for key in ("body_layout", "num_persons", "channels", "num_classes"):
        if trained[key] != given[key]:
            raise UserError(f"{checkpoint} was trained on {key}={trained[key]}, but {data.store.path} has "
                            f"{key}={given[key]}")
