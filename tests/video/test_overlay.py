"""The overlay shared by `bharnet live` and `bharnet predict --render`."""

from __future__ import annotations

import numpy as np
import pytest

from bharnet.video.overlay import Overlay, OverlayWriter, draw_overlay

pytest.importorskip("cv2")
av = pytest.importorskip("av")


def test_skeleton_hands_and_bars_are_drawn():
    image = np.zeros((240, 320, 3), np.uint8)
    body = np.full((33, 2), np.nan)
    body[11], body[13] = (200, 100), (260, 160)  # left shoulder -> left elbow
    hands = np.zeros((2, 21, 2))
    hands[1] = np.column_stack([np.linspace(60, 100, 21), np.full(21, 200)])
    out = draw_overlay(image, Overlay(body, hands, np.array([False, True]), (("wave", 0.9), ("clap", 0.1)), 12.0))
    assert out.shape == image.shape and not image.any()  # a copy
    assert out[130, 230].any()  # on the bone between shoulder and elbow
    assert tuple(out[200, 80]) == (255, 140, 40)  # the right hand, in its colour
    assert out[10, 100, 1] > out[10, 100, 0]  # the green bar of the first class
    plain = draw_overlay(image, Overlay())
    assert not plain[120:, :].any()  # nothing but the (empty) panel


def test_writer_renames_when_done_and_leaves_nothing_on_abort(tmp_path):
    frames = [np.full((48, 64, 3), 40 * k, np.uint8) for k in range(5)]
    with OverlayWriter(tmp_path / "out.mp4", fps=10) as writer:
        for k, frame in enumerate(frames):
            writer.write(frame, index=2 * k)  # dropped frames keep their time
    with av.open(str(tmp_path / "out.mp4")) as video:
        decoded = list(video.decode(video=0))
    assert len(decoded) == 5 and decoded[-1].time == pytest.approx(0.8)
    with pytest.raises(RuntimeError), OverlayWriter(tmp_path / "bad.mp4", fps=10) as writer:
        writer.write(frames[0])
        raise RuntimeError("stop")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_a_found_hand_is_enlarged_in_its_corner():
    image = np.zeros((480, 640, 3), np.uint8)
    image[300:310, 300:310] = 200  # the hand's pixels
    hands = np.full((2, 21, 2), np.nan)
    hands[0] = np.column_stack([np.linspace(300, 310, 21), np.linspace(300, 310, 21)])
    out = draw_overlay(image, Overlay(hands=hands, hand_found=np.array([True, False])))
    inset = out[480 - 4 - 110:476, 4:114]
    assert (inset == (60, 160, 255)).all(axis=-1).any()  # the left hand's bones and frame, bottom left
    assert (inset > 150).all(axis=-1).sum() > 10 * 10 * 9  # the 10 x 10 patch, enlarged about 7 times
    assert not out[370:476, 530:636].any()  # no right hand, no inset there
