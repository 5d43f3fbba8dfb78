"""`bharnet record`: a video file stands in for the camera."""

from __future__ import annotations

import numpy as np
import pytest

from bharnet.cli import main
from bharnet.io.custom import read_labels_csv
from bharnet.video import overlay
from bharnet.workflows.record import clip_split, record_clips

pytest.importorskip("cv2")
av = pytest.importorskip("av")

pytestmark = pytest.mark.integration  # commands end to end on real video

FPS = 20.0


@pytest.fixture(scope="module")
def camera(tmp_path_factory):
    """A generated 2-second video standing in for the camera: 40 frames at 20 fps."""
    from bharnet.video.decode import write_video

    frames = np.zeros((40, 48, 64, 3), np.uint8)
    frames[:, :, :, 1] = np.arange(40, dtype=np.uint8)[:, None, None] * 5
    return write_video(tmp_path_factory.mktemp("camera") / "camera.mp4", frames, fps=FPS)


def frames_of(path):
    with av.open(str(path)) as video:
        return sum(1 for _ in video.decode(video=0))


def test_clips_and_labels_are_written(camera, tmp_path, capsys):
    out = tmp_path / "gestures"
    argv = ["record", "--label", "thumbs up", "--out", str(out), "--source", str(camera), "--seconds", "0.5",
            "--no-display"]
    assert main([*argv, "--count", "3", "--countdown", "0.1"]) == 0
    assert "3 clips of 'thumbs up'" in capsys.readouterr().out
    names = [f"thumbs_up_{k:03d}" for k in (1, 2, 3)]
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{n}.mp4" for n in names] + ["labels.csv"])
    assert all(frames_of(out / f"{n}.mp4") == 10 for n in names)
    rows, _ = read_labels_csv(out)
    assert rows == {n: ("thumbs up", frozenset({"train"})) for n in names}
    # a second run goes on numbering and keeps the rows there are
    assert main([*argv, "--count", "2", "--countdown", "0", "--split", "val"]) == 0
    rows, _ = read_labels_csv(out)
    assert len(rows) == 5 and rows["thumbs_up_005"] == ("thumbs up", frozenset({"val"}))
    capsys.readouterr()
    assert main([*argv, "--count", "1", "--countdown", "0"]) == 0
    assert "1 clip of 'thumbs up'" in capsys.readouterr().out
    assert [clip_split(k) for k in range(1, 11)].count("test") == 2


def test_a_source_that_ends_leaves_no_half_clip(camera, tmp_path):
    clips = record_clips(str(camera), "wave", tmp_path, seconds=0.6, count=10, countdown=0, display=False)
    assert [c.name for c in clips] == ["wave_001.mp4", "wave_002.mp4", "wave_003.mp4"]  # 40 frames = 3 x 12 + 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.csv", *[c.name for c in clips]]
    assert list(read_labels_csv(tmp_path)[0]) == ["wave_001", "wave_002", "wave_003"]


def test_an_interrupted_run_keeps_finished_clips_only(camera, tmp_path, monkeypatch):
    write = overlay.OverlayWriter.write
    calls = []

    def interrupt_in_second_clip(self, image, index=None):
        calls.append(1)
        if len(calls) == 15:  # clip 1 holds 10 frames; Ctrl-C in the middle of clip 2
            raise KeyboardInterrupt
        write(self, image, index)

    monkeypatch.setattr(overlay.OverlayWriter, "write", interrupt_in_second_clip)
    messages = []
    clips = record_clips(str(camera), "clap", tmp_path, seconds=0.5, count=3, countdown=0, display=False,
                         log=messages.append)
    assert [c.name for c in clips] == ["clap_001.mp4"] and "interrupted" in messages[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clap_001.mp4", "labels.csv"]  # no half clip, hidden or not
    assert list(read_labels_csv(tmp_path)[0]) == ["clap_001"]


def test_bad_labels_are_refused(camera, tmp_path, capsys):
    assert main(["record", "--label", "../x", "--out", str(tmp_path), "--source", str(camera), "--no-display"]) == 2
    assert "--label '../x'" in capsys.readouterr().err


def test_a_clip_with_a_hand_and_no_person_is_told_apart(shared, pose_model, cup_clip):
    from bharnet.workflows.record import person_in_view

    assert person_in_view(cup_clip, pose_model=pose_model) is False  # a hand holding a cup, close up
    ntu = shared / "data" / "ntu-sample" / "S001C001P001R001A001_rgb.avi"
    assert person_in_view(ntu, pose_model=pose_model) is True
    assert person_in_view(cup_clip, pose_model=shared / "no-such.task") is None


def test_a_source_that_ends_early_exits_1_and_says_what_was_kept(camera, tmp_path, capsys):
    argv = ["record", "--label", "wave", "--out", str(tmp_path / "a"), "--source", str(camera), "--countdown", "0",
            "--no-display"]
    assert main([*argv, "--seconds", "0.6", "--count", "10"]) == 1  # 3 of the 10 clips asked for
    assert "3 clips of 'wave'" in capsys.readouterr().out
    assert main([*argv[:4], str(tmp_path / "b"), *argv[5:], "--seconds", "5", "--count", "1"]) == 1
    captured = capsys.readouterr()
    assert "no clip of 'wave' recorded" in captured.err and "labels.csv updated" not in captured.out
    assert not (tmp_path / "b" / "labels.csv").exists()
