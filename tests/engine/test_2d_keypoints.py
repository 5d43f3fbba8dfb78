"""2D keypoints (x, y from a 2D pose estimator, the most common custom input) train, test and
export like 3D ones, in every layout a custom store takes."""

import numpy as np
import pytest

from bharnet.core.errors import UserError
from bharnet.core.layouts import LAYOUTS
from bharnet.data import transforms as T
from bharnet.engine import evaluate
from bharnet.engine.fit import fit
from bharnet.store.custom import prepare_custom
from bharnet.store.packed import SkeletonStore
from bharnet.workflows.predict import Recognizer

pytestmark = pytest.mark.integration  # trains


def _write_2d_folder(folder, joints: int, hands: bool = False, samples: int = 6, frames: int = 12):
    """The docs' example: (T, 1, V, 2) keypoints and their scores, labels.csv with train / test."""
    folder.mkdir()
    rng = np.random.default_rng(joints)
    rows = ["name,label,split"]
    for i in range(samples):
        arrays = {"body": rng.uniform(0, 640, (frames, 1, joints, 2)).astype(np.float32),
                  "body_conf": rng.uniform(0, 1, (frames, 1, joints)).astype(np.float32)}
        if hands:
            arrays["hands"] = rng.normal(size=(frames, 2, 21, 2)).astype(np.float32)  # 2D too: z = 0
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


@pytest.fixture(scope="module")
def coco17_2d_store(tmp_path_factory):
    """The docs' example with hands: 2D coco17 bodies and 2D hands."""
    root = tmp_path_factory.mktemp("coco17")
    prepare_custom(_write_2d_folder(root / "mine", 17, hands=True), root / "store", layout="coco17", progress=False)
    return root / "store"


def test_2d_body_and_hands_train_a_dual_model_that_predict_refuses(coco17_2d_store, tiny_config, tmp_path,
                                                                   one_thread):
    store = SkeletonStore(coco17_2d_store)
    assert len(store) == 6 and store.has("hands") and (store.frames("hands", 0)[..., 2] == 0).all()

    cfg = tiny_config(coco17_2d_store, tmp_path, model={"name": "bharnet-e"}, trainer={"max_epochs": 1})
    last = fit(cfg, quiet=True)["last"]
    metrics = evaluate.test_checkpoint(last, device="cpu")
    assert metrics["samples"] == 2 and len([k for k in metrics if k.startswith("top1")]) > 1  # every branch
    with pytest.raises(UserError, match=r"its body is coco17 with 2 channels; from a video the pose landmarker gives "
                                        r"3D pose33 or ntu25 bodies \(`bharnet test`"):
        Recognizer(last)  # predict and live: a video's skeleton is 3D, so a 2D model is refused up front


@pytest.mark.slow  # an ONNX export takes half a minute on two cores
def test_a_2d_model_exports_with_two_input_channels(coco17_2d_store, tiny_config, tmp_path, one_thread):
    pytest.importorskip("onnx")
    from bharnet.tools.export import export_checkpoint

    last = fit(tiny_config(coco17_2d_store, tmp_path, trainer={"max_epochs": 1}), quiet=True)["last"]
    result = export_checkpoint(last, tmp_path / "model.onnx")
    assert result["inputs"] == {"body": [1, 2, 16, 17, 1]} and result["max_abs_diff"] <= 1e-4


def test_a_hand_stream_on_a_store_without_hands_names_the_model_to_use(tiny_config, tmp_path):
    prepare_custom(_write_2d_folder(tmp_path / "mine", 17), tmp_path / "store", layout="coco17", progress=False)
    cfg = tiny_config(tmp_path / "store", tmp_path / "runs", model={"name": "bharnet-e"}, trainer={"max_epochs": 1})
    with pytest.raises(UserError, match=r"store has no hand keypoints, so it cannot feed a hand stream: use a model "
                                        r"of the body alone on it \(model=body-expert\)"):
        fit(cfg, quiet=True)
    assert not list((tmp_path / "runs").rglob("*.ckpt"))
