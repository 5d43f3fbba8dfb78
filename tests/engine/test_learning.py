"""A tiny model learns: a few epochs on a small BodyHand-Synth put the body expert well above
chance on the classes told apart by body motion, and the hand expert on those told apart by the
fingers, on actors it never saw."""

import numpy as np
import pytest

from bharnet.engine.module import SkeletonDataModule
from bharnet.engine.run import fit, load_checkpoint, predict
from bharnet.io.synthetic import class_groups
from bharnet.store.packed import SkeletonStore
from bharnet.store.synthetic import write_synth_store

CLASSES = 26
CHANCE = 1 / CLASSES


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return write_synth_store(tmp_path_factory.mktemp("synth") / "s", num_samples=16 * CLASSES, seed=3,
                             val_fraction=0.0, test_fraction=0.25, min_frames=24, max_frames=32)


def _group_accuracy(checkpoint, store_path, window) -> dict[str, float]:
    module = load_checkpoint(checkpoint)
    data = SkeletonDataModule({**module.config["data"], "store": str(store_path), "num_workers": 0},
                              streams=module.streams, seed=0)
    _, labels, logits = predict(module, data.test_dataloader(), device="cpu")
    right = logits["logits"].argmax(1) == labels
    return {group: float(right[np.isin(labels, ids)].mean()) for group, ids in class_groups().items()}


@pytest.mark.parametrize(("expert", "group"), [("body-expert", "body"), ("hand-expert", "hand")])
def test_an_expert_learns_the_classes_its_stream_tells_apart(tiny_config, synth, tmp_path, expert, group):
    cfg = tiny_config(synth, tmp_path, name=expert, model={"name": expert, "base_channels": 16},
                      data={"window": 24, "batch_size": 16, "val_split": "test"},
                      optim={"lr": 0.1, "warmup_epochs": 1}, trainer={"max_epochs": 8})
    run = fit(cfg, quiet=True)
    accuracy = _group_accuracy(run["last"], synth, 24)
    assert len(SkeletonStore(synth).split("test")) == 4 * CLASSES
    assert accuracy[group] > 0.5, (accuracy, f"chance is {CHANCE:.3f}")
