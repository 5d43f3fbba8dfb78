"""The sample view's hand normalisations as a model sees them (window, padding, modality)."""

import numpy as np
import pytest

from bharnet.data.transforms import TRAJECTORY_JOINT
from bharnet.data.view import SampleView, ViewConfig


def _hands(frames: int = 30) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    hands = np.repeat(rng.uniform(0.3, 0.5, (1, 2, 21, 3)).astype(np.float32), frames, axis=0)  # one shape
    hands[..., :2] += np.linspace(0, 0.3, frames, dtype=np.float32)[:, None, None, None]  # both hands sweep
    return hands, np.ones((frames, 2, 21), np.float32)


def _view(norm: str, modality: str = "joint") -> dict[str, np.ndarray]:
    hands, conf = _hands()
    view = SampleView(ViewConfig(window=16, hand_norm=norm, modality=modality), "ntu25", ("hand",))
    return view(len(hands), hands=hands, hand_conf=conf)


@pytest.mark.parametrize("modality", ["joint", "bone", "joint_motion", "bone_motion"])
def test_the_trajectory_joint_survives_every_modality(modality):
    out = _view("wrist+traj", modality)
    assert out["hand"].shape == (3, 16, 25, 2)
    assert out["hand_mask"][0, :, :21].all() and not out["hand_mask"][0, :, 21:].any()
    shape = _view("wrist", modality)["hand"]
    np.testing.assert_allclose(out["hand"][:, :, 1:], shape[:, :, 1:], atol=1e-6)  # bones: of the shape alone
    path = out["hand"][:, :, TRAJECTORY_JOINT]
    if modality.endswith("motion"):  # the wrist's velocity: the sweep goes one way
        assert (path[0, :-1] > 0).all()
    else:  # the wrist about its mean: from one side to the other
        assert path[0, 0, 0] < 0 < path[0, -1, 0]


def test_wrist_keeps_the_wrist_at_the_origin():
    assert not _view("wrist")["hand"][:, :, TRAJECTORY_JOINT].any()


def test_a_run_without_a_hand_normalisation_setting_means_the_old_wrist():
    saved = {"window": 16, "modality": "joint", "train_crop": [0.5, 1.0], "test_crop": 0.95, "rotation": 0.3,
             "hand_rotation": 0.3, "centre": True}
    assert ViewConfig.of(saved).hand_norm == "wrist"
    assert ViewConfig.of({**saved, "hand_norm": "wrist+traj"}).hand_norm == "wrist+traj"
