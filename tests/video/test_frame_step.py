"""Hands looked for in every N-th frame (``ExtractConfig.frame_step``) and interpolated between."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bharnet.video.decode import VideoInfo
from bharnet.video.frame_hands import at_full_rate, every_step
from bharnet.video.hand_files import HandTrack


def _track(frames: int, present: np.ndarray) -> HandTrack:
    kp = np.zeros((frames, 2, 21, 3), np.float32)
    kp[..., 0] = np.arange(frames, dtype=np.float32)[:, None, None] / 10  # x moves 0.1 a frame
    kp[~present] = 0.0
    conf = np.where(present, np.linspace(0.9, 0.5, frames)[:, None], 0.0).astype(np.float32)
    return HandTrack(kp, conf, np.repeat(conf[..., None], 21, axis=-1), ~present, np.zeros_like(present),
                     640, 480, 15.0, "pose", extra={"regions": np.zeros((frames, 2, 3))})


def test_the_frames_between_two_looked_at_are_interpolated_where_both_have_the_hand():
    present = np.ones((4, 2), bool)
    present[2, 1] = False  # the right hand is missing in the third frame looked at (frame 4)
    full = at_full_rate(_track(4, present), step=2, frames=8)
    assert full.frames == 8 and full.fps == 30.0
    np.testing.assert_allclose(full.keypoints[:7, 0, 0, 0], np.arange(7) / 20)  # halfway between
    np.testing.assert_allclose(full.keypoints[7, 0, 0, 0], 0.3)  # after the last one looked at: held
    assert full.missing[3:6, 1].all() and not full.missing[[2, 6], 1].any()  # no end to draw from
    assert full.interpolated[1::2, 0].all() and not full.interpolated[::2, 0].any()
    assert full.hand_conf[1, 0] == pytest.approx(min(full.hand_conf[0, 0], full.hand_conf[2, 0]))
    assert full.landmark_conf[4:6, 1].max() == 0.0 and full.extra["regions"].shape == (8, 2, 3)


def test_every_step_is_the_video_of_every_nth_frame():
    assert every_step(VideoInfo(640, 480, 30.0, 103), 2) == VideoInfo(640, 480, 15.0, 52)


@pytest.mark.integration
def test_a_frame_step_finds_the_hands_of_the_ntu_sample_at_every_frame(shared: Path, hand_model: Path,
                                                                      pose_model: Path):
    pytest.importorskip("mediapipe")
    from bharnet.video.extract_config import ExtractConfig
    from bharnet.video.hands import extract_hands

    ntu = shared / "data" / "ntu-sample"
    video, skeleton = ntu / "S001C001P001R001A001_rgb.avi", ntu / "S001C001P001R001A001.skeleton"
    full = extract_hands(video, hand_model, skeleton=skeleton, pose_model=pose_model)
    stepped = extract_hands(video, hand_model, skeleton=skeleton, pose_model=pose_model,
                            config=ExtractConfig(frame_step=2))
    assert stepped.frames == full.frames and stepped.fps == full.fps
    both = ~stepped.missing & ~full.missing
    assert both.sum() > 0.8 * (~full.missing).sum()
    gap = np.abs(stepped.keypoints[both][..., :2] - full.keypoints[both][..., :2]) * [stepped.width, stepped.height]
    assert np.median(gap) < 5.0  # pixels of a 1920x1080 frame
