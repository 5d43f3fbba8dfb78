"""2D keypoints (x, y from a 2D pose estimator, the most common custom input) train, test and
export like 3D ones, in every layout a custom store takes."""

import numpy as np
import pytest

from bharnet.core.layouts import LAYOUTS
from bharnet.data import transforms as T
from bharnet.engine import evaluate
from bharnet.engine.run import fit
from bharnet.store.custom import prepare_custom
from bharnet.store.packed import SkeletonStore


def _write_2d_folder(folder, joints: int, hands: bool = False, samples: int = 6, frames: int = 12):
    """The docs' example: (T, 1, V, 2) keypoints and their scores, labels.csv with train / test."""
    folder.mkdir()
    rng = np.random.default_rng(joints)
    rows = ["name,label,split"]
    for i in range(samples):
        arrays = {"body": rng.uniform(0, 640, (frames, 1, joints, 2)).astype(np.float32),
                  "body_conf": rng.uniform(0, 1, (frames, 1, joints)).astype(np.float32)}
        if hands:
            arrays["hands"] = rng.normal(size=(frames, 2, 21, 3)).astype(np.float32)
        np.savez(folder / f"clip{i:02d}.npz", **arrays)
        rows.append(f"clip{i:02d},{('wave', 'clap')[i % 2]},{'test' if i % 3 == 0 else 'train'}")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    return folder


def test_a_2d_rotation_turns_points_in_the_image_plane():
    x = np.zeros((2, 1, 1, 1), np.float32)
    x[:, 0, 0, 0] = (1.0, 0.0)
    y = T.rotate(x, np.array([0.5, 0.7, np.pi / 2]))  # x and y angles need depth: a 2D view ignores them
    np.testing.assert_allclose(y[:, 0, 0, 0], (0.0, 1.0), atol=1e-6)
    turned = T.random_rotation(np.random.default_rng(0).normal(size=(2, 8, 17, 1)).astype(np.float32), 0.3,
                               np.random.default_rng(1))
    assert turned.shape == (2, 8, 17, 1)
    assert T.random_rotation(x, (0.3, 0.3, 0.0), np.random.default_rng(1)) is x


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_2d_keypoints_train_one_epoch_and_test(layout, tiny_config, tmp_path, one_thread):
    joints = LAYOUTS[layout].num_joints
    folder = _write_2d_folder(tmp_path / "mine", joints)
    prepare_custom(folder, tmp_path / "store", layout=layout, progress=False)
    assert SkeletonStore(tmp_path / "store").meta["channels"] == 2
    run = fit(tiny_config(tmp_path / "store", tmp_path / "runs", trainer={"max_epochs": 1}), quiet=True)
    metrics = evaluate.test_checkpoint(run["last"], device="cpu", clips=2)  # a rotated view too
    assert metrics["samples"] == 2 and 0.0 <= metrics["top1"] <= 1.0


def test_2d_body_with_hands_trains_a_dual_model_and_exports(tiny_config, tmp_path, one_thread):
    pytest.importorskip("onnx")
    from bharnet.tools.export import export_checkpoint

    folder = _write_2d_folder(tmp_path / "mine", 17, hands=True)
    prepare_custom(folder, tmp_path / "store", layout="coco17", progress=False)
    cfg = tiny_config(tmp_path / "store", tmp_path / "runs", model={"name": "bharnet-e"},
                      trainer={"max_epochs": 1})
    run = fit(cfg, quiet=True)
    result = export_checkpoint(run["last"], tmp_path / "model.onnx")
    assert (tmp_path / "model.onnx").is_file() and result
