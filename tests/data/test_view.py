"""The sample view's hand normalisations as a model sees them (window, padding, modality)."""

import numpy as np
import pytest

from bharnet.data.view import SampleView, ViewConfig


def _hands(frames: int = 30) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    hands = np.repeat(rng.uniform(0.3, 0.5, (1, 2, 21, 3)).astype(np.float32), frames, axis=0)  # one shape
    hands[..., :2] += np.linspace(0, 0.3, frames, dtype=np.float32)[:, None, None, None]  # both hands sweep
    return hands, np.ones((frames, 2, 21), np.float32)


def _view(norm: str, modality: str = "joint", seed: int | None = None, roll: float = 0.3) -> dict[str, np.ndarray]:
    hands, conf = _hands()
    view = SampleView(ViewConfig(window=16, hand_norm=norm, modality=modality, hand_rotation=roll), "ntu25", ("hand",))
    return view(len(hands), hands=hands, hand_conf=conf, rng=None if seed is None else np.random.default_rng(seed))


@pytest.mark.parametrize("modality", ["joint", "bone", "joint_motion", "bone_motion"])
def test_the_trajectory_survives_every_modality_beside_the_shape(modality):
    out = _view("wrist+traj", modality)
    assert out["hand"].shape == (6, 16, 25, 2) and out["hand_mask"].shape == (1, 16, 25, 2)
    assert out["hand_mask"][0, :, :21].all() and not out["hand_mask"][0, :, 21:].any()
    np.testing.assert_array_equal(out["hand"][:3], _view("wrist", modality)["hand"])  # the shape as "wrist" has it
    assert not out["hand"][:, :, 21:].any()  # the dummy joints stay empty
    path = out["hand"][3:, :, 5]  # any landmark carries the wrist's path
    if modality.endswith("motion"):  # the wrist's velocity: the sweep goes one way
        assert (path[0, :-1] > 0).all()
    else:  # the wrist about its mean: from one side to the other
        assert path[0, 0, 0] < 0 < path[0, -1, 0]


def test_training_rotates_the_shape_and_the_path_alike():
    out, still = _view("wrist+traj", seed=3), _view("wrist+traj", seed=3, roll=0.0)
    np.testing.assert_array_equal(out["hand"][:3], _view("wrist", seed=3)["hand"])  # the same draws as "wrist"
    lengths = np.linalg.norm(out["hand"][3:5], axis=0)  # a roll keeps the path's length in the image plane
    np.testing.assert_allclose(lengths, np.linalg.norm(still["hand"][3:5], axis=0), atol=1e-5)
    assert not np.allclose(out["hand"][3:5], still["hand"][3:5])


def test_no_hands_give_the_channels_of_the_normalisation():
    view = SampleView(ViewConfig(window=16, hand_norm="wrist+traj"), "ntu25", ("hand",))
    assert view(20)["hand"].shape == (6, 16, 25, 2)


def test_a_run_without_a_hand_normalisation_setting_means_the_old_wrist():
    saved = {"window": 16, "modality": "joint", "train_crop": [0.5, 1.0], "test_crop": 0.95, "rotation": 0.3,
             "hand_rotation": 0.3, "centre": True}
    assert ViewConfig.of(saved).hand_norm == "wrist"
    assert ViewConfig.of({**saved, "hand_norm": "wrist+traj"}).hand_norm == "wrist+traj"
