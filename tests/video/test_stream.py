"""One extraction: a video frame by frame, as `bharnet live` feeds a camera, gives the skeleton
`bharnet predict` reads from the whole file."""

from __future__ import annotations

import numpy as np
import pytest

from bharnet.video.decode import iter_frames, probe_video, write_video
from bharnet.video.extract_config import ExtractConfig
from bharnet.video.landmarker import REUSABLE
from bharnet.video.skeleton import read_video_skeleton, window_skeleton
from bharnet.video.stream import StreamExtractor

pytestmark = pytest.mark.integration  # MediaPipe on real video


@pytest.fixture(scope="module")
def short_cup(cup_clip, tmp_path_factory):
    frames = list(iter_frames(cup_clip))[:16]
    return write_video(tmp_path_factory.mktemp("stream") / "cup16.mp4", frames, fps=probe_video(cup_clip).fps)


@pytest.fixture(scope="module")
def short_ntu(shared, tmp_path_factory):
    """Frames 30-53 of the NTU sample at 640x360 (one person lifting a cup), under its own name, so
    that it is known to be mirrored."""
    import cv2

    video = shared / "data" / "ntu-sample" / "S001C001P001R001A001_rgb.avi"
    frames = [cv2.resize(f, (640, 360), interpolation=cv2.INTER_AREA) for f in list(iter_frames(video))[30:54]]
    return write_video(tmp_path_factory.mktemp("ntu") / video.name, frames, fps=probe_video(video).fps)


def frame_by_frame(video, pose_model, hand_model, keep=None, config=None):
    info = probe_video(video)
    with REUSABLE.session():
        stream = StreamExtractor(pose_model, hand_model, fps=info.fps, mirrored=video.name.startswith("S0"),
                                 keep=keep, config=config)
        for index, image in enumerate(iter_frames(video)):
            stream.add(image, index)
        return stream, stream.window(keep)


@pytest.mark.parametrize("clip", ["short_cup", "short_ntu"])
def test_frame_by_frame_equals_the_whole_video(clip, request, hand_model, pose_model):
    video = request.getfixturevalue(clip)
    whole = read_video_skeleton(video, pose_model, hand_model, body_layout="pose33", require_body=False)
    live = window_skeleton(frame_by_frame(video, pose_model, hand_model)[1], body_layout="pose33", require_body=False)
    assert live.person == whole.person and live.frames_with_hand == whole.frames_with_hand
    assert whole.frames_with_hand >= len(whole.body) // 2  # a hand in most frames: the comparison means something
    np.testing.assert_array_equal(live.hands, whole.hands)
    np.testing.assert_array_equal(live.hand_conf, whole.hand_conf)
    np.testing.assert_array_equal(live.body, whole.body)


def test_a_window_keeps_the_last_frames_and_bounded_memory(short_ntu, hand_model, pose_model):
    # the person to follow is chosen over the last 0.2 s (6 frames): the 10 frames of a window are all kept
    stream, window = frame_by_frame(short_ntu, pose_model, hand_model, keep=10,
                                    config=ExtractConfig(follow_seconds=0.2))
    assert len(stream) == 10
    assert list(window.indices) == list(range(14, 24)) and window.raw.kp.shape == (10, 2, 21, 3)
    skeleton = window_skeleton(window, body_layout="ntu25")
    assert skeleton.person == "pose0" and skeleton.body.shape == (10, 1, 25, 3)
