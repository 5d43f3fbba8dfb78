"""`bharnet predict`: a trained checkpoint on a video, window by window."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace

import numpy as np
import pytest

import bharnet.workflows.predict as predict_module
from bharnet.cli import main
from bharnet.core.errors import UserError
from bharnet.core.layouts import NTU25, POSE33, convert_layout
from bharnet.engine.fit import fit
from bharnet.video.decode import probe_video
from bharnet.video.skeleton import VideoSkeleton, _body_of
from bharnet.workflows.predict import predict_video, video_windows

pytestmark = pytest.mark.integration  # trains, commands end to end


@pytest.fixture(scope="module")
def checkpoints(make_sequence, tiny_config, write_store, tmp_path_factory):
    root = tmp_path_factory.mktemp("predict")
    write_store(root / "s", [make_sequence(i, frames=20) for i in range(12)])
    return {name: fit(tiny_config(root / "s", root, name=name, model={"name": name}, trainer={"max_epochs": 1}),
                      quiet=True)["last"] for name in ("body-expert", "hand-expert")}


def test_windows_cover_the_video():
    assert video_windows(100, 30, 10) == [(s, s + 30) for s in range(0, 71, 10)]
    assert video_windows(95, 30, 20) == [(0, 30), (20, 50), (40, 70), (60, 90), (65, 95)]  # the last ends with it
    assert video_windows(12, 30, 10) == [(0, 12)]


def test_pose_to_kinect_keeps_sides_and_joints():
    rng = np.random.default_rng(0)
    world = rng.normal(size=(5, 33, 3))
    track = SimpleNamespace(world=world, image=world * 0.1, visibility=np.ones((5, 33)))
    body, conf = _body_of(track, "ntu25")
    np.testing.assert_allclose(conf, 1.0, rtol=1e-6)
    joint = {name: i for i, name in enumerate(NTU25.joints)}
    pose = {name: i for i, name in enumerate(POSE33.joints)}
    # a half turn about the camera axis: x and y flip, depth stays, each side keeps its joints
    np.testing.assert_allclose(body[:, joint["left_wrist"]], world[:, pose["left_wrist"]] * [-1, -1, 1], rtol=1e-6)
    np.testing.assert_allclose(body[:, joint["spine_base"]],
                               (world[:, pose["left_hip"]] + world[:, pose["right_hip"]]) / 2 * [-1, -1, 1],
                               rtol=1e-5)
    np.testing.assert_array_equal(_body_of(track, "pose33")[0], track.image.astype(np.float32))
    assert convert_layout(world, "pose33", "coco17").shape == (5, 17, 3)
    with pytest.raises(KeyError, match="no conversion from ntu25 to pose33"):
        convert_layout(body, "ntu25", "pose33")


def test_unseen_frames_become_zeros():
    world = np.full((3, 33, 3), np.nan)
    world[1] = 1.0
    body, conf = _body_of(SimpleNamespace(world=world, image=world, visibility=world[..., 0]), "ntu25")
    assert (conf[[0, 2]] == 0).all() and (conf[1] == 1).all()
    assert (body[[0, 2]] == 0).all() and np.isfinite(body).all() and (body[1] != 0).any()


def _fake_extraction(monkeypatch, frames: int, fps: float = 10.0):
    """Replace MediaPipe by a fixed skeleton: the rest of the pipeline runs for real. A video whose
    name holds "bad" fails as an unreadable one would."""
    def read(video, pose_model, hand_model, *, body_layout, num_persons, require_body, config=None):
        if "bad" in video.name:
            raise UserError(f"{video}: cannot open as a video")
        rng = np.random.default_rng(1)
        body = rng.normal(size=(frames, num_persons, 25, 3)).astype(np.float32)
        hands = rng.normal(size=(frames, 2, 21, 3)).astype(np.float32) if hand_model else None
        conf = np.ones((frames, 2, 21), np.float32) if hand_model else None
        return VideoSkeleton(body, np.ones(body.shape[:3], np.float32), hands, conf, "pose0", fps,
                             frames if hand_model else 0)

    monkeypatch.setattr(predict_module, "read_video_skeleton", read)
    monkeypatch.setattr(predict_module, "resolve_model", lambda kind, path=None: f"{kind}.task")
    monkeypatch.setattr(predict_module, "resolve_pose_model", lambda choice=None: "pose.task")


def test_prediction_per_window_and_for_the_video(checkpoints, tmp_path, monkeypatch):
    _fake_extraction(monkeypatch, frames=55)
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not read: the extraction is replaced")
    result = predict_video(checkpoints["hand-expert"], video, clip_seconds=2.0, stride_seconds=1.0, top=2)
    assert [(w.start, w.end) for w in result.windows] == [(0.0, 2.0), (1.0, 3.0), (2.0, 4.0), (3.0, 5.0),
                                                         (3.5, 5.5)]
    for ranked in [w.top for w in result.windows] + [result.top]:
        names, probs = zip(*ranked, strict=True)
        assert len(ranked) == 2 and set(names) <= {"a", "b", "c"} and probs[0] >= probs[1] > 0
    assert result.frames == 55 and result.frames_with_hand == 55 and result.person == "pose0"
    # the windows are prepared like the test samples of training: the same window twice, the same scores
    again = predict_video(checkpoints["hand-expert"], video, clip_seconds=2.0, stride_seconds=1.0, top=2)
    assert again.top == result.top


def test_cli_prints_one_video(checkpoints, tmp_path, monkeypatch, capsys):
    _fake_extraction(monkeypatch, frames=8)
    video = tmp_path / "short.mp4"
    video.write_bytes(b"x")
    assert main(["predict", str(checkpoints["body-expert"]), str(video)]) == 0
    assert "whole video" in capsys.readouterr().out
    assert main(["predict", str(checkpoints["body-expert"]), str(video), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["windows"]) == 1 and len(result["top"]) == 3  # shorter than a clip: one window


def test_a_body_model_says_hands_were_not_searched(checkpoints, tmp_path, monkeypatch, capsys):
    _fake_extraction(monkeypatch, frames=8)
    video = tmp_path / "short.mp4"
    video.write_bytes(b"x")
    assert main(["predict", str(checkpoints["body-expert"]), str(video)]) == 0
    out = " ".join(capsys.readouterr().out.split())  # the table title may wrap
    assert "hands not used by this model" in out and "a hand in" not in out
    assert main(["predict", str(checkpoints["body-expert"]), str(video), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["frames_with_hand"] is None
    assert main(["predict", str(checkpoints["hand-expert"]), str(video), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["frames_with_hand"] == 8


def _cut_video(folder, frames: list, fps: float):
    """An AVI of ``frames`` cut in half: its header still lists them all, the second half is gone."""
    from bharnet.video.decode import iter_frames, write_video

    whole = write_video(folder / "whole.avi", frames, fps=fps)
    cut = folder / "cut.avi"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    whole.unlink()
    return cut, sum(1 for _ in iter_frames(cut))


def test_a_truncated_video_is_predicted_with_a_warning(checkpoints, tmp_path, monkeypatch, capsys):
    pytest.importorskip("av")
    noise = np.random.default_rng(0).integers(0, 255, (40, 48, 64, 3), np.uint8)  # frames that do not compress
    cut, decoded = _cut_video(tmp_path, list(noise), fps=10)
    _fake_extraction(monkeypatch, frames=decoded)
    fake = predict_module.read_video_skeleton

    def read(video, *args, **kwargs):  # the container's count, as the real reader passes it on
        return dataclasses.replace(fake(video, *args, **kwargs), listed_frames=probe_video(video).frames)

    monkeypatch.setattr(predict_module, "read_video_skeleton", read)
    assert main(["predict", str(checkpoints["body-expert"]), str(cut), "--json"]) == 0
    captured = capsys.readouterr()
    warning = (f"{cut}: {decoded} of the 40 frames its container lists could be decoded (a truncated or damaged "
               "file?); the prediction is from those frames")
    assert 0 < decoded < 40 and json.loads(captured.out)["warnings"] == [warning]
    assert warning in " ".join(captured.err.split())


def test_a_truncated_real_video_warns_as_extract_hands_does(checkpoints, cup_clip, hand_model, pose_model, capsys,
                                                           tmp_path):
    from bharnet.video.decode import iter_frames

    cut, decoded = _cut_video(tmp_path, list(iter_frames(cup_clip))[:24], fps=27 / 4)
    argv = ["predict", str(checkpoints["hand-expert"]), str(cut), "--json", "--hand-model", str(hand_model),
            "--pose-model", str(pose_model)]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["frames"] == decoded < 24
    assert result["warnings"] == [f"{cut}: {decoded} of the 24 frames its container lists could be decoded (a "
                                  "truncated or damaged file?); the prediction is from those frames"]


def test_cli_batch_writes_one_file_per_video_and_resumes(checkpoints, tmp_path, monkeypatch, capsys):
    _fake_extraction(monkeypatch, frames=30)
    folder = tmp_path / "clips"
    folder.mkdir()
    for name in ("a.mp4", "b.avi", "bad.mp4", "notes.txt"):
        (folder / name).write_bytes(b"x")
    argv = ["predict", str(checkpoints["hand-expert"]), str(folder), "--out", str(tmp_path / "out"), "--json"]
    assert main(argv) == 1  # one video failed
    summary = json.loads(capsys.readouterr().out)
    assert summary["done"] == 2 and list(summary["failed"]) == [str(folder / "bad.mp4")]
    assert "cannot open as a video" in summary["failed"][str(folder / "bad.mp4")]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.json", "b.json"]
    assert len(json.loads((tmp_path / "out" / "a.json").read_text())["windows"]) == 1
    assert main(argv) == 1  # a rerun keeps what is done and tries the failed one again
    again = json.loads(capsys.readouterr().out)
    assert again["done"] == 0 and again["skipped"] == 2 and len(again["failed"]) == 1
    assert main(["predict", str(checkpoints["hand-expert"]), str(folder)]) == 2  # several videos need --out
    assert "give --out DIR" in capsys.readouterr().err


def test_cli_errors_name_the_file(checkpoints, tmp_path, capsys):
    assert main(["predict", str(checkpoints["body-expert"]), str(tmp_path / "none.mp4")]) == 2
    assert "none.mp4: no such video file" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "none.ckpt"), str(tmp_path / "none.mp4")]) == 2


def test_real_video_with_the_hand_expert(checkpoints, cup_clip, hand_model, pose_model, capsys):
    argv = ["predict", str(checkpoints["hand-expert"]), str(cup_clip), "--json", "--clip", "4", "--stride", "2",
            "--hand-model", str(hand_model), "--pose-model", str(pose_model)]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["person"] == ""  # nobody in view: the hand is found on whole frames
    assert result["frames"] == 55 and result["frames_with_hand"] >= 52
    assert len(result["windows"]) == 3 and abs(sum(p for _, p in result["top"]) - 1) < 1e-5


def test_real_video_without_a_person_for_a_body_model(checkpoints, cup_clip, pose_model, capsys):
    argv = ["predict", str(checkpoints["body-expert"]), str(cup_clip), "--pose-model", str(pose_model)]
    assert main(argv) == 2
    assert "cup.mp4: the pose landmarker finds no person" in capsys.readouterr().err


def test_render_draws_every_frame_with_its_window(checkpoints, tmp_path, monkeypatch):
    pytest.importorskip("cv2")
    av = pytest.importorskip("av")
    from bharnet.video.decode import write_video

    _fake_extraction(monkeypatch, frames=30)
    video = write_video(tmp_path / "clip.mp4", np.zeros((30, 48, 64, 3), np.uint8), fps=10)
    out = tmp_path / "overlay.mp4"
    result = predict_video(checkpoints["hand-expert"], video, render=out, clip_seconds=1.0, stride_seconds=1.0)
    assert len(result.windows) == 3
    with av.open(str(out)) as rendered:
        frames = [f.to_ndarray(format="rgb24") for f in rendered.decode(video=0)]
    assert len(frames) == 30 and all(f[10, 10].any() for f in frames)  # the panel of classes on every frame
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "overlay.mp4"]  # no partial file left
    predict_video(checkpoints["hand-expert"], video, render=out, clip_seconds=1.0)  # its own render: replaced
    write_video(out, np.zeros((3, 48, 64, 3), np.uint8), fps=10)  # now a video of the user's
    with pytest.raises(UserError, match="not written by bharnet"):
        predict_video(checkpoints["hand-expert"], video, render=out, clip_seconds=1.0)


def test_render_takes_one_video(checkpoints, tmp_path, capsys):
    argv = ["predict", str(checkpoints["hand-expert"]), str(tmp_path), "--out", str(tmp_path / "o"),
            "--render", str(tmp_path / "x.mp4")]
    assert main(argv) == 2
    assert "--render takes one video" in capsys.readouterr().err
