import numpy as np
import pytest

from bharnet.core.layouts import HAND25, NTU25
from bharnet.data import transforms as T


def test_test_crop_is_centred_and_train_crop_in_range():
    assert T.crop_window(100, 0.9, None) == slice(5, 95)
    rng = np.random.default_rng(0)
    for _ in range(50):
        s = T.crop_window(100, (0.5, 1.0), rng)
        assert 50 <= s.stop - s.start <= 100 and s.start >= 0 and s.stop <= 100
    s = T.crop_window(100, (0.5, 0.5), rng, min_frames=64)  # DeGCN keeps at least the window
    assert s.stop - s.start == 64


def test_resize_keeps_endpoints_of_a_linear_ramp():
    x = np.tile(np.linspace(0, 1, 10, dtype=np.float32)[None, :, None, None], (3, 1, 4, 2))
    y = T.resize(x, 40)
    assert y.shape == (3, 40, 4, 2)
    assert np.all(np.diff(y[0, :, 0, 0]) >= 0) and y.min() >= 0 and y.max() <= 1


def test_rotation_preserves_lengths():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 8, 25, 2)).astype(np.float32)
    y = T.random_rotation(x, 0.3, rng)
    np.testing.assert_allclose(np.linalg.norm(x, axis=0), np.linalg.norm(y, axis=0), rtol=1e-5)
    assert not np.allclose(x, y)


def test_modalities():
    x = np.random.default_rng(2).normal(size=(3, 6, 25, 2)).astype(np.float32)
    bone = T.to_modality(x, NTU25, "bone")
    child, parent = NTU25.edges[3]
    np.testing.assert_allclose(bone[:, :, child], x[:, :, child] - x[:, :, parent])
    assert np.all(bone[:, :, NTU25.root] == 0)
    motion = T.to_modality(x, NTU25, "joint_motion")
    np.testing.assert_allclose(motion[:, 2], x[:, 3] - x[:, 2])
    assert np.all(motion[:, -1] == 0)
    np.testing.assert_allclose(T.to_modality(x, NTU25, "bone_motion")[:, 0], bone[:, 1] - bone[:, 0], atol=1e-6)
    with pytest.raises(ValueError):
        T.to_modality(x, NTU25, "velocity")


def test_hands_are_wrist_centred_palm_scaled_and_missing_masked():
    rng = np.random.default_rng(3)
    hands = rng.uniform(0.3, 0.7, size=(5, 2, 21, 3)).astype(np.float32)
    conf = np.ones((5, 2, 21), np.float32)
    conf[2, 1] = 0  # right hand missing in frame 2
    x, mask = T.normalise_hands(hands, conf, "wrist")
    assert x.shape == (3, 5, 21, 2) and mask.shape == (1, 5, 21, 2)
    assert np.all(x[:, :, 0] == 0)  # wrist at the origin
    assert np.all(x[:, 2, :, 1] == 0) and np.all(mask[:, 2, :, 1] == 0) and mask.sum() == 5 * 2 * 21 - 21
    palm = np.linalg.norm(x[:2, :, 9], axis=0)
    assert np.isclose(np.median(palm[:, 0]), 1.0, atol=1e-5)
    # the same hand moved elsewhere in the image normalises to the same articulation
    moved = hands.copy()
    moved[..., :2] += 0.2
    np.testing.assert_allclose(T.normalise_hands(moved, conf, "wrist")[0], x, atol=1e-5)


def test_wrist_and_trajectory_keep_the_shape_apart_from_the_path():
    rng = np.random.default_rng(4)
    hands = rng.uniform(0.3, 0.7, size=(6, 2, 21, 3)).astype(np.float32)
    conf = np.ones((6, 2, 21), np.float32)
    conf[3, 0] = 0  # left hand missing in frame 3
    x, mask = T.normalise_hands(hands, conf, "wrist+traj")
    wrist, wrist_mask = T.normalise_hands(hands, conf, "wrist")
    assert x.shape == (T.hand_channels("wrist+traj"), 6, 21, 2) == (6, 6, 21, 2) and T.hand_channels("wrist") == 3
    np.testing.assert_array_equal(x[:3], wrist)  # the articulation of "wrist"
    np.testing.assert_array_equal(mask, wrist_mask)
    assert np.all(x[:, 3, :, 0] == 0)
    # the path: each hand's wrist about its own mean over the frames it is seen, palm-scaled, at every landmark
    seen = conf[:, 0, 0] > 0
    path = x[3:, :, :, 0][:, seen]
    np.testing.assert_allclose(path, np.repeat(path[:, :, :1], 21, axis=2))
    np.testing.assert_allclose(path.mean(axis=1), 0, atol=1e-5)
    palm = np.median(np.linalg.norm(hands[seen, 0, 9, :2] - hands[seen, 0, 0, :2], axis=-1))
    np.testing.assert_allclose(path[:, :, 0] * palm, (hands[seen, 0, 0] - hands[seen, 0, 0].mean(0)).T, atol=1e-5)
    # where the hand is in the image does not matter; how it moves does, and only to the path
    still = hands + 0.2
    np.testing.assert_allclose(T.normalise_hands(still, conf, "wrist+traj")[0], x, atol=1e-5)
    moving = hands + np.linspace(0, 0.3, 6, dtype=np.float32)[:, None, None, None]
    y = T.normalise_hands(moving, conf, "wrist+traj")[0]
    np.testing.assert_allclose(y[:3], x[:3], atol=1e-5)
    assert not np.allclose(y[3:], x[3:], atol=1e-3)
    with pytest.raises(ValueError, match="wrist\\+traj"):
        T.normalise_hands(hands, conf, "palm")


def test_pad_joints():
    x = np.ones((3, 4, 21, 2), np.float32)
    y = T.pad_joints(x, HAND25.num_joints)
    assert y.shape == (3, 4, 25, 2) and y[:, :, 21:].sum() == 0
