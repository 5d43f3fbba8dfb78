"""Derived models: assembled from trained models, never trained themselves (stage ``derived``).

A derived model's :class:`~bharnet.models.registry.ModelSpec` names its ``sources``, ``(trained
model, branch)`` pairs, and its ``fusion``. Without a fusion its prediction is the plain sum of its
sources' branches, so it exists in two equal forms: a checkpoint (:func:`build_derived`: the two
experts' weights in one dual model, e.g. ``score-fusion``, or one trained model's weights in a
lighter one, e.g. ``bharnet-e-expert``), and the sum of its sources' scores files
(:func:`summed_branches`, what ``bharnet ensemble`` adds up). With a fusion
(:mod:`bharnet.models.fusion`) the method is fitted on its source's outputs on the validation
split, never the test split, and saved in its checkpoint; once fitted, it also turns a scores
file of its source into its own (:func:`fused_scores`: a perturbation of the source's inputs
carries over without running a network again).

Every workflow makes derived models here: ``bharnet ablate`` and ``bharnet demo`` build their
checkpoints, ``bharnet reproduce`` ensembles their sources' scores files.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path

from omegaconf import DictConfig

from bharnet.core.errors import UserError
from bharnet.data.view import AUTO_HAND_NORM, ViewConfig
from bharnet.engine.checkpoints import load_checkpoint, load_model_state, read_checkpoint, save_checkpoint
from bharnet.engine.config import to_dict
from bharnet.engine.evaluate import evaluate_split
from bharnet.engine.fit import run_dir
from bharnet.engine.module import ActionModule, SkeletonDataModule
from bharnet.eval.scores import Scores, save_scores
from bharnet.models import expert_for, model_spec
from bharnet.models.bharnet import init_from_experts
from bharnet.models.fusion import fit_fusion, fused_logits, select_method

__all__ = ["sources", "summed_branches", "build_derived", "fused_scores"]


def sources(name: str) -> list[str]:
    """The trained models the derived model ``name`` is assembled from, in its spec's order."""
    return list(dict.fromkeys(model for model, _ in model_spec(name).sources))


def summed_branches(name: str) -> tuple[tuple[str, str], ...]:
    """The ``(trained model, branch)`` pairs whose scores add up to ``name``'s prediction: its own
    ``logits`` for a trained model, its sources for a derived one without a fusion."""
    spec = model_spec(name)
    if spec.fusion:
        raise UserError(f"{name} fuses {', '.join(sources(name))} by a method fitted on a validation split: "
                        "its scores are not a sum of its sources' scores")
    return spec.sources if spec.stage == "derived" else ((name, "logits"),)


def build_derived(cfg: DictConfig, checkpoints: Mapping[str, Path],
                  data: SkeletonDataModule | None = None) -> tuple[ActionModule, dict | None]:
    """The derived model ``cfg.model.name`` from the checkpoints of its sources (``checkpoints``:
    model name -> checkpoint), saved as ``last.ckpt`` in its run folder like a trained run, so that
    ``bharnet test`` takes it as well.

    A fused model fits its fusion on its source's outputs on ``cfg.data.val_split`` of ``data``
    (made from ``cfg.data`` when not given); the returned info says how (``fitted_on``,
    ``samples``, ``method``, ``branches``, ``temperature``, ``weights``, with ``auto`` the
    cross-validated ``cv_top1`` of each method). Returns the module, in eval mode, and that info
    (None for a model without a fusion).
    """
    cfg = _reading_hands_as_sources(cfg, checkpoints)
    if model_spec(cfg.model.name).fusion:
        module, info = _fused(cfg, checkpoints, data)
    else:
        module, info = _assembled(cfg, checkpoints), None
    save_checkpoint(module, run_dir(cfg) / "checkpoints" / "last.ckpt")
    return module.eval(), info


def _reading_hands_as_sources(cfg: DictConfig, checkpoints: Mapping[str, Path]) -> DictConfig:
    """``cfg`` with ``data.hand_norm=auto`` made what its sources were trained with: a derived model
    reads the hands as the models it is made of do."""
    first = checkpoints.get(sources(cfg.model.name)[0])
    if cfg.data.hand_norm != AUTO_HAND_NORM or first is None:  # (no source: said below, where it is needed)
        return cfg
    trained = read_checkpoint(first)["hyper_parameters"]["config"]  # its config alone: no model built
    cfg = copy.deepcopy(cfg)
    cfg.data.hand_norm = ViewConfig.of(trained["data"]).hand_norm
    return cfg


def _assembled(cfg: DictConfig, checkpoints: Mapping[str, Path]) -> ActionModule:
    """From the two experts (e.g. ``score-fusion``), or from one trained model whose weights it
    loads (e.g. ``bharnet-e-expert`` leaves BHaRNet-E's interactive part out)."""
    names = sources(cfg.model.name)
    module = ActionModule(to_dict(cfg), load_checkpoint(checkpoints[names[0]]).store_meta)
    if len(names) == 1:
        module.model.load_state_dict(load_model_state(checkpoints[names[0]]))
    else:
        init_from_experts(module.model, *(load_model_state(checkpoints[expert_for(s)]) for s in ("body", "hand")))
    return module


def _fused(cfg: DictConfig, checkpoints: Mapping[str, Path],
           data: SkeletonDataModule | None) -> tuple[ActionModule, dict]:
    """Its source's branches on the validation split fit the fusion (the method too, when the
    spec's is ``auto``); the test split is never seen."""
    name = cfg.model.name
    spec = model_spec(name)
    source_name, branches, method = spec.sources[0][0], [b for _, b in spec.sources], spec.fusion
    val_split = cfg.data.val_split
    if val_split is None or val_split == cfg.data.test_split:
        raise UserError(f"{name} fits its fusion on the validation split, but data.val_split is "
                        f"{val_split!r} (the test split is {cfg.data.test_split!r}); set data.val_split=auto")
    source = load_checkpoint(checkpoints[source_name])
    if data is None:
        data = SkeletonDataModule(to_dict(cfg)["data"], (), cfg.seed)
    val = evaluate_split(source, data, val_split)
    info: dict = {"fitted_on": val_split, "samples": int(len(val.labels))}
    if method == "auto":
        method, info["cv_top1"] = select_method(val.logits, val.labels, branches)
    fusion = fit_fusion(val.logits, val.labels, branches, method)
    info.update(method=method, branches=branches, temperature=fusion.temperature.tolist(),
                weights=fusion.weights.tolist())
    cfg = copy.deepcopy(cfg)
    cfg.model.kwargs = {**cfg.model.kwargs, "method": method}
    module = ActionModule(to_dict(cfg), source.store_meta)
    module.model.base.load_state_dict(source.model.state_dict())
    module.model.fusion.load_state_dict(fusion.state_dict())
    return module, info


def fused_scores(checkpoint: str | Path, source: Scores, out: str | Path) -> Path:
    """Write the scores of the fused model saved in ``checkpoint`` on the samples of ``source``, a
    scores file of the model it fuses: its fitted fusion applied to the source's branches."""
    module = load_checkpoint(checkpoint)
    fusion = module.model.fusion
    logits = fused_logits(fusion, {b: source.branch(b) for b in fusion.branches})
    return save_scores(out, source.names, source.labels, {"logits": logits},
                       {**source.meta, "variant": module.config["model"]["name"]})
