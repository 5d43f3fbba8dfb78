"""A checkpoint's hand normalisation is read from its saved config; one saved before the setting
existed keeps the normalisation of its time; ``auto`` is settled by the training data."""

import numpy as np
import pytest

from bharnet.engine.checkpoints import load_checkpoint, save_checkpoint
from bharnet.engine.config import to_dict
from bharnet.engine.evaluate import test_checkpoint as run_test
from bharnet.engine.fit import fit, settle_hand_norm
from bharnet.engine.module import ActionModule, SkeletonDataModule
from bharnet.eval.scores import load_scores
from bharnet.store.packed import SkeletonStore
from bharnet.tools.export import export_checkpoint

pytestmark = pytest.mark.integration  # trains


def test_a_checkpoint_without_hand_norm_predicts_with_wrist(tiny_config, store, tmp_path):
    config = to_dict(tiny_config(store, tmp_path, model={"name": "hand-expert"}, data={"hand_norm": "wrist"}))
    module = ActionModule(config, SkeletonStore(store).meta)
    wrist = save_checkpoint(module, tmp_path / "wrist.ckpt")
    del config["data"]["hand_norm"]  # what an older bharnet saved
    older = ActionModule(config, module.store_meta)
    older.load_state_dict(module.state_dict())
    old = save_checkpoint(older, tmp_path / "old.ckpt")
    loaded = load_checkpoint(old)
    assert SkeletonDataModule(loaded.config["data"], loaded.streams, seed=0).view.hand_norm == "wrist"
    run_test(wrist, out=tmp_path / "wrist.npz", device="cpu")
    run_test(old, out=tmp_path / "old.npz", device="cpu")
    np.testing.assert_array_equal(load_scores(tmp_path / "old.npz").branch(),
                                  load_scores(tmp_path / "wrist.npz").branch())


@pytest.mark.parametrize("model", ["hand-expert", "bharnet-e"])
def test_shape_and_path_take_six_hand_channels_through_the_model(model, tiny_config, store, tmp_path):
    config = to_dict(tiny_config(store, tmp_path, model={"name": model, "attention": {"heads": 2, "head_dim": 8,
                                                                                     "nb_features": 16}},
                                 data={"hand_norm": "wrist+traj"}))
    module = ActionModule(config, SkeletonStore(store).meta)
    assert module.model.example_inputs(batch=1, frames=16)["hand"].shape == (1, 6, 16, 25, 2)
    data = SkeletonDataModule(config["data"], module.streams, seed=0)
    assert data.dataset("train")[0]["hand"].shape == (6, 16, 25, 2)
    checkpoint = save_checkpoint(module, tmp_path / "traj.ckpt")
    assert run_test(checkpoint, device="cpu")["samples"] == 8


@pytest.mark.slow
def test_six_hand_channels_export_to_onnx(tiny_config, store, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    config = to_dict(tiny_config(store, tmp_path, model={"name": "hand-expert"}, data={"hand_norm": "wrist+traj"}))
    checkpoint = save_checkpoint(ActionModule(config, SkeletonStore(store).meta), tmp_path / "traj.ckpt")
    exported = export_checkpoint(checkpoint, tmp_path / "m.onnx")
    assert exported["inputs"]["hand"] == [1, 6, 16, 25, 2]
    assert exported["max_abs_diff"] <= 1e-3  # an untrained model's logits are large


@pytest.fixture(scope="module")
def hands_alone(make_sequence, write_store, tmp_path_factory):
    """The engine's store with no body in view: a close-up of hands."""
    path = tmp_path_factory.mktemp("hands-alone") / "s"
    sequences = [make_sequence(i, frames=20) for i in range(16)]
    for seq in sequences:
        seq.body[:] = 0
    write_store(path, sequences)
    return path


def test_auto_keeps_the_hands_path_only_where_no_body_is_in_view(tiny_config, store, hands_alone, tmp_path):
    def settled(path):
        return settle_hand_norm(tiny_config(path, tmp_path, model={"name": "hand-expert"})).data.hand_norm

    assert tiny_config(store, tmp_path).data.hand_norm == "auto"
    assert settled(store) == "wrist"
    assert settled(hands_alone) == "wrist+traj"
    concrete = tiny_config(hands_alone, tmp_path, data={"hand_norm": "sample"})
    assert settle_hand_norm(concrete) is concrete


def test_a_run_on_auto_saves_what_it_trained_with(tiny_config, hands_alone, tmp_path):
    cfg = tiny_config(hands_alone, tmp_path, model={"name": "hand-expert"}, trainer={"max_epochs": 1})
    module = load_checkpoint(fit(cfg, quiet=True)["last"])
    assert module.config["data"]["hand_norm"] == "wrist+traj"
    assert module.model.example_inputs(batch=1, frames=16)["hand"].shape == (1, 6, 16, 25, 2)
    assert cfg.data.hand_norm == "auto"  # the caller's config is left as it was
