"""End to end on real images: MediaPipe's models from ../shared/models, videos made in tmp folders."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mediapipe")
pytest.importorskip("av")
cv2 = pytest.importorskip("cv2")

from bharnet.cli import main  # noqa: E402
from bharnet.video.decode import iter_frames, write_video  # noqa: E402
from bharnet.video.hand_files import read_hands  # noqa: E402
from bharnet.video.hands import extract_hands  # noqa: E402
from bharnet.video.hands_batch import plan_jobs, run_extraction  # noqa: E402
from bharnet.video.landmarker import HandLandmarker  # noqa: E402
from tests.io.fixtures import write_ntu_skeleton  # noqa: E402

pytestmark = pytest.mark.integration  # MediaPipe on real video

CUP_STRIDE = 4  # cup.mp4 is 217 frames; the integration tier runs every 4th (55 frames), the slow one all


def paste(canvas_hw: tuple[int, int], image: np.ndarray, top_left: tuple[int, int], value: int = 200) -> np.ndarray:
    """A grey canvas with ``image`` pasted at ``top_left`` (x, y)."""
    canvas = np.full((*canvas_hw, 3), value, dtype=np.uint8)
    x, y = top_left
    canvas[y:y + image.shape[0], x:x + image.shape[1]] = image
    return canvas


def _cup_subsample(shared: Path, tmp_path: Path, stride: int) -> Path:
    frames = list(iter_frames(shared / "data" / "media" / "cup.mp4"))[::stride]
    return write_video(tmp_path / "cup_sub.mp4", frames, fps=27 / stride)


def _check_cup(video: Path, hand_model: Path, pose_model: Path) -> None:
    track = extract_hands(video, hand_model, pose_model=pose_model)
    assert track.source == "frame"  # nobody in view: the whole frame is searched
    assert track.frames_with_hand / track.frames >= 0.95
    detected = ~track.missing & ~track.interpolated
    assert detected.any(axis=1).mean() >= 0.9  # not merely filled in


def test_cup_video_hand_found_in_95_percent_of_frames(shared, tmp_path, hand_model, pose_model):
    _check_cup(_cup_subsample(shared, tmp_path, CUP_STRIDE), hand_model, pose_model)


@pytest.mark.slow
def test_cup_video_every_frame(shared, hand_model, pose_model):
    _check_cup(shared / "data" / "media" / "cup.mp4", hand_model, pose_model)


def test_landmarks_land_on_the_photographed_hand(tmp_path, hand_image, hand_model, pose_model):
    # the photo (hand enters from the left edge, fingers point right) in a larger canvas
    x0, y0 = 200, 150
    frame = paste((800, 1000), hand_image, (x0, y0))
    video = write_video(tmp_path / "hand.mp4", [frame] * 4, fps=10)
    track = extract_hands(video, hand_model, pose_model=pose_model)
    assert track.frames == 4 and track.frames_with_hand == 4
    side = int(np.argmin(track.missing.sum(axis=0)))
    px = track.keypoints[:, side, :, :2] * [1000, 800]
    u, v = (px[..., 0] - x0) / 640, (px[..., 1] - y0) / 480  # position within the photo
    # the wrist sits at the photo's left edge, where the arm is cut off: allow 5% there
    assert ((u > -0.05) & (u < 1) & (v > 0) & (v < 1)).all()
    assert (u[:, 0] < 0.35).all()  # the wrist at the photo's left
    assert (u[:, [8, 12, 16]] > 0.55).all()  # index, middle, ring tips at its right
    assert (v[:, 4] < 0.4).all()  # the thumb tip at the top


def _small_hand_clip(tmp_path: Path, hand_image: np.ndarray, frames: int = 4) -> tuple[Path, Path, tuple]:
    """A 1920x1080 clip with the photo scaled to 64x48 px, and an NTU skeleton with two bodies:
    a busy one whose right hand points at the photo, and a still one elsewhere."""
    small = cv2.resize(hand_image, (64, 48), interpolation=cv2.INTER_AREA)
    x0, y0 = 1300, 600
    frame = paste((1080, 1920), small, (x0, y0))
    video = write_video(tmp_path / "S001C001P001R001A001_rgb.avi", [frame] * frames, fps=30)
    rng = np.random.default_rng(0)

    def body(x: float) -> np.ndarray:
        b = np.zeros((frames, 25, 2)) + [x, 500]
        b[:, 4], b[:, 8] = [x - 80, 450], [x, 450]  # shoulders
        b[:, 5], b[:, 6] = [x - 100, 600], [x - 200, 700]  # left elbow, wrist
        b[:, 9] = [x - 50, 640]  # right elbow
        b[:, 10], b[:, 11] = [x + 2, y0 + 30], [x + 20, y0 + 25]  # right wrist, hand
        b[:, 23], b[:, 24] = [x + 45, y0 + 25], [x + 15, y0 + 5]  # right hand tip, thumb
        return b

    busy, still = body(x0), body(500)
    busy[:, [6, 10]] += rng.normal(0, 5, (frames, 2, 2))
    skel_dir = tmp_path / "skeletons"
    skel_dir.mkdir()
    write_ntu_skeleton(skel_dir / "S001C001P001R001A001.skeleton", {"100": still, "200": busy})
    return video, skel_dir, (x0, y0, 64, 48)


def test_small_hand_needs_the_body_guided_crop(tmp_path, hand_image, hand_model):
    video, skel_dir, (x0, y0, w, h) = _small_hand_clip(tmp_path, hand_image)
    with HandLandmarker(hand_model) as whole:
        assert all(whole.detect(f) == [] for f in iter_frames(video))
    track = extract_hands(video, hand_model, skeleton=skel_dir / "S001C001P001R001A001.skeleton")
    assert track.source == "skeleton" and track.person == "200"  # the busy body
    assert not track.missing[:, 1].any()  # the right hand, in every frame
    assert track.missing[:, 0].all()  # the left wrist points at nothing
    px = track.keypoints[:, 1, :, :2] * [1920, 1080]
    # the wrist sits at the photo's left edge, where the arm is cut off: allow 10% there
    assert ((px[..., 0] > x0 - 0.1 * w) & (px[..., 0] < x0 + w + 3)).all()
    assert ((px[..., 1] > y0 - 3) & (px[..., 1] < y0 + h + 3)).all()


def test_batch_shards_resume_and_corrupt_video(tmp_path, hand_image, hand_model, pose_model, capsys):
    videos = tmp_path / "videos"
    videos.mkdir()
    small = cv2.resize(hand_image, (320, 240), interpolation=cv2.INTER_AREA)
    for name in ("a", "b"):
        write_video(videos / f"{name}.mp4", [paste((300, 400), small, (40, 30))] * 3, fps=10)
    (videos / "broken.mp4").write_bytes(b"\x00not a video" * 100)
    out = tmp_path / "out"
    # the shards partition the videos
    shards = [{j.video.name for j in plan_jobs([videos], out, shard=(i, 2))} for i in range(2)]
    assert shards[0] | shards[1] == {"a.mp4", "b.mp4", "broken.mp4"} and not shards[0] & shards[1]

    first = run_extraction([videos], out, hand_model=hand_model, pose_model=pose_model, progress=False)
    assert (first.videos, first.done, first.skipped) == (3, 2, 0)
    broken = str(videos / "broken.mp4")
    assert list(first.failed) == [broken] and "broken.mp4" in first.failed[broken]
    assert first.frames == 6 and first.frames_with_hand == 6
    assert sorted(p.name for p in out.iterdir()) == ["a.npz", "b.npz"]
    assert read_hands(out / "a.npz").keypoints.shape == (3, 2, 21, 3)

    modes = {p.name: p.stat().st_mode & 0o777 for p in out.iterdir()}
    umask = os.umask(0)
    os.umask(umask)
    assert set(modes.values()) == {0o666 & ~umask}, modes  # readable as any file the user writes

    # the second run finds the outputs and does nothing (the broken one is tried again and fails again)
    capsys.readouterr()
    code = main(["extract-hands", str(videos / "a.mp4"), str(videos / "b.mp4"), "--out", str(out), "--json",
                 "--hand-model", str(hand_model), "--pose-model", str(pose_model)])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and (summary["done"], summary["skipped"], summary["frames"]) == (0, 2, 0)
    assert not summary["failures"]


def test_a_truncated_video_is_done_with_a_warning(tmp_path, hand_image, hand_model, pose_model, capsys):
    videos = tmp_path / "videos"
    videos.mkdir()
    small = cv2.resize(hand_image, (320, 240), interpolation=cv2.INTER_AREA)
    whole = write_video(videos / "whole.avi", [paste((300, 400), small, (40, 30))] * 8, fps=10)
    (videos / "cut.avi").write_bytes(whole.read_bytes()[: whole.stat().st_size * 7 // 8])
    whole.unlink()
    code = main(["extract-hands", str(videos), "--out", str(tmp_path / "out"), "--json", "--hand-model",
                 str(hand_model), "--pose-model", str(pose_model)])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["done"] == 1 and 0 < summary["frames"] < 8
    assert f"cut.avi: {summary['frames']} of the 8 frames its container lists" in summary["warnings"][
        str(videos / "cut.avi")]


def test_cli_json_summary(tmp_path, hand_image, hand_model, capsys):
    video, skel_dir, _ = _small_hand_clip(tmp_path, hand_image, frames=2)
    out = tmp_path / "out"
    args = ["extract-hands", str(video.parent), "--out", str(out), "--skeletons", str(skel_dir), "--json",
            "--hand-model", str(hand_model)]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["frames"] == 2 and summary["frames_with_hand"] == 2 and summary["done"] == 1
    assert summary["seconds"] > 0 and summary["sources"] == {"skeleton": 1}
    assert (out / "S001C001P001R001A001_rgb.npz").exists()
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["done"], again["skipped"], again["frames"]) == (0, 1, 0)


@pytest.mark.slow
def test_parallel_workers(tmp_path, hand_image, hand_model, pose_model):
    videos = tmp_path / "videos"
    videos.mkdir()
    small = cv2.resize(hand_image, (320, 240), interpolation=cv2.INTER_AREA)
    for name in ("a", "b", "c"):
        write_video(videos / f"{name}.mp4", [paste((300, 400), small, (40, 30))] * 3, fps=10)
    summary = run_extraction([videos], tmp_path / "out", workers=2, hand_model=hand_model, pose_model=pose_model,
                             progress=False)
    assert (summary.done, summary.frames_with_hand) == (3, 9) and not summary.failed


def test_landmarker_survives_a_restored_sigprof(tmp_path, hand_image, hand_model):
    """MediaPipe ignores SIGPROF once; a Lightning run restores the default (fatal) disposition."""
    import subprocess
    import sys

    video = write_video(tmp_path / "hand.mp4", [paste((480, 640), hand_image, (0, 0))] * 6, fps=10)
    script = f"""
import signal
from bharnet.video.landmarker import HandLandmarker
from bharnet.video.decode import iter_frames
for _ in range(2):
    with HandLandmarker({str(hand_model)!r}, video=True, fps=10) as marker:
        found = [marker.detect(f, t) for t, f in enumerate(iter_frames({str(video)!r}))]
    signal.signal(signal.SIGPROF, signal.SIG_DFL)  # what Lightning's Trainer does at its end
print(sum(map(len, found)))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[-1]) >= 5
