"""`bharnet predict` with a BHaRNet-M checkpoint: each window gets its ST-ROI image from the video."""

from __future__ import annotations

import numpy as np
import pytest

import bharnet.workflows.predict as predict_module
from bharnet.core.layouts import POSE33
from bharnet.engine.checkpoints import save_checkpoint
from bharnet.engine.config import to_dict
from bharnet.engine.module import ActionModule
from bharnet.video.skeleton import VideoSkeleton
from bharnet.workflows.predict import predict_video

av = pytest.importorskip("av")

pytestmark = pytest.mark.integration  # trains


def test_bharnet_m_predicts_a_video_window_by_window(tmp_path, monkeypatch, tiny_config):
    from bharnet.video.decode import write_video

    frames, fps = 40, 10.0
    video = write_video(tmp_path / "clip.mp4", [np.full((120, 160, 3), 5 * t, np.uint8) for t in range(frames)], fps)
    pixels = np.full((frames, 1, 33, 2), np.nan)
    pixels[:, 0] = np.random.default_rng(0).uniform(30, 110, (33, 2))
    pixels[:, 0, POSE33.index("left_shoulder")], pixels[:, 0, POSE33.index("right_shoulder")] = (60, 40), (100, 40)

    def read(video, pose_model, hand_model, *, body_layout, num_persons, require_body, config=None):
        body = np.random.default_rng(1).normal(size=(frames, num_persons, 25, 3)).astype(np.float32)
        return VideoSkeleton(body, np.ones(body.shape[:3], np.float32), None, None, "pose0", fps, 0,
                             np.repeat(pixels, num_persons, axis=1)[:, :num_persons])

    monkeypatch.setattr(predict_module, "read_video_skeleton", read)
    monkeypatch.setattr(predict_module, "resolve_model", lambda kind, path=None: f"{kind}.task")
    monkeypatch.setattr(predict_module, "resolve_pose_model", lambda choice=None: "pose.task")
    cfg = tiny_config(tmp_path / "none", tmp_path, model={"name": "bharnet-m", "kwargs": {"image_size": 45,
                                                                                           "rgb_width": 8}},
                      data={"hand_norm": "wrist"})
    meta = {"body_layout": "ntu25", "num_persons": 2, "channels": 3, "num_classes": 3, "classes": ["a", "b", "c"]}
    checkpoint = save_checkpoint(ActionModule(to_dict(cfg), meta), tmp_path / "m.ckpt")
    seen = []
    original = predict_module.window_rois

    def spy(video, spans, skeleton, size):
        seen.append(np.stack(original(video, spans, skeleton, size)))
        return list(seen[-1])

    monkeypatch.setattr(predict_module, "window_rois", spy)
    result = predict_video(checkpoint, video, clip_seconds=2.0, stride_seconds=1.0, top=2)
    assert len(result.windows) == 3 and len(result.top) == 2
    images = seen[0]
    assert images.shape == (3, 45, 45, 3)
    assert images[0].mean() < images[1].mean() < images[2].mean()  # later windows: brighter frames
