"""The packaged hand-only recipe: the hand expert with shape and path, trained on a store of
recorded-style clips (train and test only, validated on a slice held out of train)."""

import pytest

from bharnet.engine.config import CONFIGS, load_config
from bharnet.engine.fit import fit
from bharnet.store.packed import SkeletonStore, StoreWriter
from bharnet.synth.generate import generate

pytestmark = pytest.mark.integration  # trains


def _clips_store(path):
    with StoreWriter(path, body_layout="ntu25", num_persons=2, arrays=("hands",),
                     classes=["draw_circle", "draw_star", "draw_tick", "swipe_left", "swipe_right", "swipe_down",
                              "tap_forward"]) as writer:
        for k, seq in enumerate(generate(28, seed=0, preset="hand-only", max_frames=50)):
            seq.splits = frozenset({"test" if k % 5 == 4 else "train"})
            writer.add(seq)
            writer.source_done(seq.name)
    return SkeletonStore(path)


def test_hand_gestures_recipe_trains_the_hand_expert_with_its_path(tmp_path, one_thread):
    store = _clips_store(tmp_path / "clips")
    assert "val" not in store.splits
    cfg = load_config(CONFIGS / "recipes" / "hand-gestures-cpu.yaml",
                      [f"data.store={store.path}", f"out_dir={tmp_path / 'runs'}", "trainer.max_epochs=1",
                       "trainer.limit_train_batches=1", "data.window=8"])
    assert (cfg.model.name, cfg.data.hand_norm, cfg.data.val_split) == ("hand-expert", "wrist+traj", "auto")
    result = fit(cfg, resume=False, quiet=True)
    assert result["best"].exists() and "val/top1" in result["val"]
