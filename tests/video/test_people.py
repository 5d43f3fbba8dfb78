"""People tracked through contact on real frames: the composites of the hand development set (two
copies of the NTU sample, one sliding across the other or walking in to stand against her; built by
benchmarks/dev_clips.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from bharnet.cli import main
from bharnet.video.crops import BODY_ANCHORS
from bharnet.video.decode import iter_frames, probe_video
from bharnet.video.extract_config import ExtractConfig
from bharnet.video.hands_batch import person_path
from bharnet.video.landmarker import PoseLandmarker
from bharnet.video.people import link_people, pose_people
from bharnet.video.track import fill_hidden, most_active

pytest.importorskip("mediapipe")
pytest.importorskip("av")
pytest.importorskip("cv2")

pytestmark = pytest.mark.integration  # MediaPipe on real video

SHOULDERS = list(BODY_ANCHORS["pose33"].shoulders)
NTU_SHOULDERS = list(BODY_ANCHORS["ntu25"].shoulders)


def _dev_clips():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "dev_clips.py"
    spec = importlib.util.spec_from_file_location("dev_clips", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _centre(xy: np.ndarray, joints: list[int]) -> np.ndarray:
    return xy[..., joints, :2].mean(axis=-2)


@pytest.mark.parametrize("clip", ["crossing_front", "crossing_behind", "walk_in", "crossing_front_reversed",
                                  "crossing_behind_reversed", "walk_in_reversed"])
def test_the_kept_person_has_a_body_wherever_the_pose_landmarker_sees_them(shared: Path, pose_model: Path,
                                                                            tmp_path: Path, clip: str):
    clips = _dev_clips()
    ntu = shared / "data" / "ntu-sample"
    video = clips.build_clip(ntu, tmp_path / f"{clip}.avi", clip)
    behind = clips.CLIPS[clip][3]
    config = ExtractConfig(mirrored=True)  # NTU footage
    info = probe_video(video)
    with PoseLandmarker(pose_model, num_poses=config.num_poses, min_confidence=config.min_confidence,
                        fps=info.fps, video=config.pose_video_mode) as pose:
        per_frame = [pose_people(pose, frame, t, True, config) for t, frame in enumerate(iter_frames(video))]
    tracks = link_people(per_frame, info.fps, config)
    kept_track = tracks[most_active([t.pixels for t in tracks], BODY_ANCHORS["pose33"])]
    kept = kept_track.pixels
    a, b = clips.person_a_b(ntu, len(per_frame), clip)
    a, b = _centre(a, NTU_SHOULDERS), _centre(b, NTU_SHOULDERS)
    width = 75.0  # her shoulder width in the composite, pixels
    # a detection is B's when it lies at B's place, nearer B than A, and the two stand far enough
    # apart to tell (where they coincide, the one in front is all that is seen)
    distinct = np.abs(a[:, 0] - b[:, 0]) > 0.5 * width

    def is_b(p: np.ndarray, t: int) -> bool:
        c = _centre(p, SHOULDERS)
        return np.linalg.norm(c - b[t]) < min(0.5 * width, np.linalg.norm(c - a[t]))

    seen_b = np.array([distinct[t] and any(is_b(p, t) for p in people) for t, people in enumerate(per_frame)])
    apart = np.abs(a[:, 0] - b[:, 0]) > 2 * width  # (False where B is out of the window: NaN)
    assert seen_b.sum() > 0.3 * len(per_frame)
    # B moves, so B is the person kept; wherever the pose landmarker sees B, the kept track has a body
    has_body = np.isfinite(kept[:, SHOULDERS, 0]).all(axis=1)
    missing = np.flatnonzero(seen_b & ~has_body)
    assert missing.size == 0, f"the kept person has no body in frames {missing.tolist()}"
    # and it is B's, not A's, wherever the two are apart (identity kept through the crossing)
    centre = _centre(kept, SHOULDERS)
    near_a = np.linalg.norm(centre - a, axis=-1) < np.linalg.norm(centre - b, axis=-1)
    wrong = np.flatnonzero(has_body & apart & near_a)
    assert wrong.size == 0, f"the kept track follows the other person in frames {wrong.tolist()}"
    # passing behind A, B is held hidden (not given A's detection) and is placed between where B
    # went in and came out
    hidden = kept_track.hidden
    assert not (hidden & has_body).any()
    if behind:
        assert hidden.sum() >= 10
        placed = np.isfinite(fill_hidden(kept, hidden, BODY_ANCHORS["pose33"])[:, SHOULDERS, 0]).all(axis=1)
        assert placed[hidden].all()


def test_the_second_persons_hands_go_beside_the_first_ones():
    assert person_path(Path("hands/S001C001P001R001A050.npz"), 1) == Path("hands/S001C001P001R001A050.person1.npz")


def test_people_must_be_at_least_one(tmp_path: Path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["extract-hands", str(tmp_path), "--out", str(tmp_path / "out"), "--people", "0"])
    assert exit_.value.code == 2
    assert "--people" in capsys.readouterr().err
