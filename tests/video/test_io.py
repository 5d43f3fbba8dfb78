import numpy as np
import pytest

from bharnet.core.errors import UserError
from bharnet.video.hand_files import (
    HandTrack,
    load_hands,
    read_hands,
    read_ntu_color,
    sample_name,
    save_hands,
)
from tests.io.fixtures import write_ntu_skeleton


def _track(T: int = 6) -> HandTrack:
    rng = np.random.default_rng(0)
    missing = np.zeros((T, 2), dtype=bool)
    missing[2, 1] = True
    kp = rng.uniform(0, 1, (T, 2, 21, 3)).astype(np.float32)
    kp[missing] = 0
    conf = np.where(missing, 0, 0.9).astype(np.float32)
    return HandTrack(kp, conf, np.repeat(conf[..., None], 21, -1), missing, np.zeros_like(missing),
                     1920, 1080, 30.0, "skeleton", "7")


def test_save_then_load_round_trip(tmp_path):
    track = _track()
    path = save_hands(track, tmp_path / "S001C001P001R001A001_rgb.npz")
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    back = read_hands(path)
    np.testing.assert_array_equal(back.keypoints, track.keypoints)
    assert (back.width, back.height, back.fps, back.source, back.person) == (1920, 1080, 30.0, "skeleton", "7")
    assert back.frames_with_hand == 6
    hands, conf = load_hands(tmp_path, "S001C001P001R001A001")
    assert hands.shape == (6, 2, 21, 3) and conf.shape == (6, 2, 21) and conf[2, 1].max() == 0
    assert load_hands(tmp_path, "S001C001P001R001A002") is None


def test_sample_name_strips_rgb():
    assert sample_name("/x/S001C002P003R002A050_rgb.avi") == "S001C002P003R002A050"
    assert sample_name("clip.mp4") == "clip"


def test_unreadable_hands_file(tmp_path):
    (tmp_path / "a.npz").write_text("nope")
    with pytest.raises(UserError, match="a.npz"):
        read_hands(tmp_path / "a.npz")


def test_real_ntu_colour_positions(shared):
    bodies = read_ntu_color(shared / "data" / "ntu-sample" / "S001C001P001R001A001.skeleton")
    assert len(bodies) == 1
    (xy,) = bodies.values()
    assert xy.shape == (103, 25, 2)
    assert np.isfinite(xy).all()
    assert ((xy[..., 0] > 0) & (xy[..., 0] < 1920) & (xy[..., 1] > 0) & (xy[..., 1] < 1080)).all()
    # the head is above the spine base in the image
    assert (xy[:, 3, 1] < xy[:, 0, 1]).all()


def test_skeleton_writer_round_trip_and_absent_frames(tmp_path):
    a = np.random.default_rng(0).uniform(0, 1000, (4, 25, 2))
    b = a + 5
    b[1] = np.nan
    path = write_ntu_skeleton(tmp_path / "x.skeleton", {"11": a, "22": b})
    back = read_ntu_color(path)
    np.testing.assert_allclose(back["11"], a, atol=1e-3)
    assert np.isnan(back["22"][1]).all()
    np.testing.assert_allclose(back["22"][[0, 2, 3]], b[[0, 2, 3]], atol=1e-3)


def test_truncated_skeleton_is_a_user_error(tmp_path):
    (tmp_path / "bad.skeleton").write_text("3\n1\n")
    with pytest.raises(UserError, match="bad.skeleton"):
        read_ntu_color(tmp_path / "bad.skeleton")
