"""The Lightning side: one module trains and tests any bharnet model, one data module feeds it."""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader
from torchmetrics.classification import MulticlassAccuracy

from bharnet.data import transforms
from bharnet.data.dataset import EpochSampler, SkeletonDataset, ViewConfig
from bharnet.data.splits import AUTO, holdout_split, sample_groups
from bharnet.data.view import AUTO_HAND_NORM
from bharnet.models import ActionModel, ModelInputs, create_model, model_spec
from bharnet.store.packed import SkeletonStore

__all__ = ["ActionModule", "SkeletonDataModule", "build_model"]


def build_model(model_cfg: dict, store_meta: dict, window: int, hand_channels: int = 3) -> torch.nn.Module:
    """Create the model a config names, sized for a store (classes, body layout, persons) and for
    the hand view's channels; the model takes the sizes of the streams it reads."""
    spec = model_spec(model_cfg["name"])
    options = {"backbone": model_cfg["backbone"], "base_channels": model_cfg["base_channels"],
               "dropout": model_cfg["dropout"]}
    if spec.attention:
        options.update({k: v for k, v in model_cfg.get("attention", {}).items() if v is not None})
    inputs = ModelInputs.from_store(store_meta, window, hand_channels)
    model = create_model(model_cfg["name"], inputs, **{**options, **model_cfg.get("kwargs", {})})
    if not isinstance(model, ActionModel):
        raise TypeError(f"model {model_cfg['name']!r} does not follow the model contract (bharnet.models.ActionModel)")
    return model


class ActionModule(L.LightningModule):
    """Trains a model through its ``compute_loss`` and reports top-1 of every branch it returns.

    The hyper-parameters saved in checkpoints are plain containers (the resolved run config
    and the store's description), so a checkpoint loads with ``weights_only=True`` and the
    model can be rebuilt from it alone.
    """

    def __init__(self, config: dict, store_meta: dict) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.config, self.store_meta = config, store_meta
        hand_norm = ViewConfig.of(config["data"]).hand_norm
        if hand_norm == AUTO_HAND_NORM:
            raise ValueError("data.hand_norm=auto depends on the training data: settle it first "
                             "(bharnet.engine.fit.settle_hand_norm, as fit does)")
        self.model = build_model(config["model"], store_meta, config["data"]["window"],
                                 transforms.hand_channels(hand_norm))
        self.streams = tuple(self.model.streams)
        branches = self._branches(config["data"]["window"])
        num_classes = store_meta["num_classes"]
        self.val_acc = torch.nn.ModuleDict({b: MulticlassAccuracy(num_classes, average="micro") for b in branches})
        self.test_acc = torch.nn.ModuleDict({b: MulticlassAccuracy(num_classes, average="micro") for b in branches})

    @torch.no_grad()
    def _branches(self, window: int) -> list[str]:
        """The names of the logits the model returns (one dry forward pass in eval mode)."""
        self.model.eval()
        names = list(self.model(self.model.example_inputs(batch=1, frames=window)))
        self.model.train()
        return names

    def forward(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return self.model(inputs)

    def _inputs(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {k: v for k, v in batch.items() if k not in ("label", "index")}

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        outputs = self.model(self._inputs(batch))
        losses = self.model.compute_loss(outputs, batch["label"])
        size = batch["label"].shape[0]
        self.log_dict({f"train/{k}": v.detach() for k, v in losses.items()}, batch_size=size, sync_dist=False)
        acc = (outputs["logits"].argmax(-1) == batch["label"]).float().mean()
        self.log("train/top1", acc, prog_bar=True, batch_size=size)
        return losses["loss"]

    def _evaluate(self, batch: dict[str, torch.Tensor], metrics: torch.nn.ModuleDict, stage: str) -> None:
        outputs = self.model(self._inputs(batch))
        for name, logits in outputs.items():
            metrics[name].update(logits, batch["label"])
            self.log(f"{stage}/top1_{name}" if name != "logits" else f"{stage}/top1", metrics[name],
                     prog_bar=name == "logits", batch_size=batch["label"].shape[0])

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._evaluate(batch, self.val_acc, "val")

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._evaluate(batch, self.test_acc, "test")

    def configure_optimizers(self) -> dict[str, Any]:
        opt = self.config["optim"]
        decay, no_decay = [], []
        for _name, param in self.model.named_parameters():
            if param.requires_grad:
                # norms, biases and learnable offsets/gates are not regularised towards zero
                (no_decay if param.ndim <= 1 else decay).append(param)
        optimizer = torch.optim.SGD(
            [{"params": decay, "weight_decay": opt["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
            lr=opt["lr"], momentum=opt["momentum"], nesterov=opt["nesterov"],
            foreach=True,  # the default on GPUs; on the CPU too it saves a Python loop over the tensors
        )
        steps_per_epoch = max(1, self.trainer.estimated_stepping_batches // max(1, self.trainer.max_epochs))
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(opt, steps_per_epoch,
                                                                          self.trainer.max_epochs))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}


def _lr_lambda(opt: dict, steps_per_epoch: int, max_epochs: int):
    """Per-step factor of the base lr: linear warm-up, then cosine to ``min_lr`` or steps."""
    warmup = opt["warmup_epochs"] * steps_per_epoch
    total = max_epochs * steps_per_epoch
    floor = opt["min_lr"] / opt["lr"] if opt["lr"] else 0.0

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if opt["schedule"] == "cosine":
            progress = min(1.0, (step - warmup) / max(1, total - warmup))
            return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))
        if opt["schedule"] == "step":
            epoch = step // steps_per_epoch
            return opt["gamma"] ** sum(epoch >= m for m in opt["milestones"])
        raise ValueError(f"unknown lr schedule {opt['schedule']!r}; choose cosine or step")

    return factor


class SkeletonDataModule(L.LightningDataModule):
    """Train / validation / test loaders over one store, with reproducible sampling."""

    def __init__(self, data_cfg: dict, streams: tuple[str, ...], seed: int) -> None:
        super().__init__()
        self.cfg, self.streams, self.seed = data_cfg, streams, seed
        self.store = SkeletonStore(data_cfg["store"])
        self._held_out: tuple[np.ndarray, np.ndarray] | None = None
        self.view = ViewConfig.of(data_cfg)

    def split_indices(self, split: str | None) -> np.ndarray | None:
        """Indices of ``split`` where they differ from the store's split of that name: with
        ``val_split=auto`` on a store without ``val``, the held-out slice and the rest of train."""
        if self.cfg.get("val_split") != AUTO or split not in (AUTO, self.cfg["train_split"]):
            return None
        if "val" in self.store.splits:
            return self.store.split("val") if split == AUTO else None
        train, val = self._holdout()
        return val if split == AUTO else train

    def _holdout(self) -> tuple[np.ndarray, np.ndarray]:
        if self._held_out is None:
            groups = sample_groups(list(self.store.names), self.cfg.get("val_group"))
            self._held_out = holdout_split(self.store.split(self.cfg["train_split"]), self.store.labels, groups,
                                           self.cfg.get("val_fraction", 0.1), self.seed)
        return self._held_out

    def dataset(self, split: str | None, train: bool = False) -> SkeletonDataset:
        return SkeletonDataset(self.store, split, self.streams, self.view, train=train, seed=self.seed,
                               indices=self.split_indices(split))

    def _loader(self, split: str | None, train: bool) -> DataLoader:
        dataset = self.dataset(split, train)
        workers = self.cfg["num_workers"]
        batch_size = self.cfg["batch_size"] if train else self.cfg["eval_batch_size"]
        return DataLoader(
            dataset, batch_size=batch_size, sampler=EpochSampler(len(dataset), shuffle=train, seed=self.seed),
            num_workers=workers, persistent_workers=workers > 0,
            drop_last=train and len(dataset) > batch_size,  # a last batch of one breaks batch norm
            # own generator: loaders never draw from the global RNG, so resuming is exact
            generator=torch.Generator().manual_seed(self.seed),
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.cfg["train_split"], train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.cfg["val_split"], train=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.cfg["test_split"], train=False)
