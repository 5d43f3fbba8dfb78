"""One left/right convention (NTU's) on every path: pose landmarks on mirrored video, hands with
and without a skeleton, the ntu25 body of a video."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bharnet.core.layouts import NTU25, POSE33
from bharnet.video.sides import POSE33_SWAP, is_mirrored, pose_to_convention, side_margin
from tests.io.fixtures import write_ntu_skeleton


def test_ntu_videos_are_mirrored_others_are_not():
    assert is_mirrored("videos/S001C001P001R001A001_rgb.avi")
    assert is_mirrored("S017C003P020R002A120.mp4")
    assert not is_mirrored("cup.mp4") and not is_mirrored("S001_rgb.avi")
    assert not is_mirrored("videos/S001C001P001R001A001_rgb.avi", mirrored=False)
    assert is_mirrored("cup.mp4", mirrored=True)


def test_pose_on_a_mirrored_frame_swaps_sides_and_reflects_the_world():
    rng = np.random.default_rng(0)
    image, world, vis = rng.normal(size=(33, 3)), rng.normal(size=(33, 3)), rng.uniform(size=33)
    same = pose_to_convention(image, world, vis, mirrored=False)
    assert all(a is b for a, b in zip(same, (image, world, vis), strict=True))
    im2, w2, v2 = pose_to_convention(image, world, vis, mirrored=True)
    lw, rw, nose = POSE33.index("left_wrist"), POSE33.index("right_wrist"), POSE33.index("nose")
    np.testing.assert_array_equal(im2[lw], image[rw])  # pixels stay pixels, only the names change
    np.testing.assert_array_equal(w2[lw], world[rw] * [-1, 1, 1])
    assert v2[rw] == vis[lw] and (im2[nose] == image[nose]).all()
    assert sorted(POSE33_SWAP) == list(range(33))


def test_side_margin_says_which_way_round():
    pose = np.full((1, 33, 2), np.nan)
    skel = np.full((1, 25, 2), np.nan)
    for name, x in (("shoulder", 100), ("elbow", 90), ("hip", 105)):
        skel[0, NTU25.index(f"left_{name}")], skel[0, NTU25.index(f"right_{name}")] = [x, 0], [x + 80, 0]
        pose[0, POSE33.index(f"left_{name}")], pose[0, POSE33.index(f"right_{name}")] = [x + 2, 0], [x + 78, 0]
    assert side_margin(pose, skel) > 0
    assert side_margin(pose[:, POSE33_SWAP], skel) < 0


# ----------------------------------------------------------------------------------------------
# the real NTU sample (drink water, one person): Kinect's sides against the video's


STRIDE = 3  # every 3rd frame of the 103: 35 frames keep MediaPipe's share of the suite short


@pytest.fixture(scope="module")
def ntu_clip(shared: Path, tmp_path_factory) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    """The sample's video and skeleton, every ``STRIDE``-th frame, under NTU names; and the
    skeleton's colour pixels (T, 25, 2) and camera positions (T, 25, 3) of those frames."""
    pytest.importorskip("mediapipe")
    pytest.importorskip("av")
    from bharnet.io.ntu import read_skeleton
    from bharnet.video.decode import iter_frames, write_video

    folder = tmp_path_factory.mktemp("ntu")
    sample = shared / "data" / "ntu-sample"
    frames = list(iter_frames(sample / "S001C001P001R001A001_rgb.avi"))[::STRIDE]
    video = write_video(folder / "S001C001P001R001A001_rgb.avi", frames, fps=30 / STRIDE)
    (body_id, body), = read_skeleton(sample / "S001C001P001R001A001.skeleton").bodies.items()
    colour, xyz = body.color_xy[::STRIDE][:len(frames)], body.xyz[::STRIDE][:len(frames)]
    (folder / "skeletons").mkdir()
    skeleton = write_ntu_skeleton(folder / "skeletons" / "S001C001P001R001A001.skeleton", {body_id: colour})
    return video, skeleton, colour, xyz


def _check_same_side_wrists(track, colour: np.ndarray) -> None:
    """Each detected hand's wrist against the skeleton's wrists: with both hands seen, the
    pairing left-left / right-right is the nearer one; a hand seen alone is nearer its own side's
    wrist. (Kinect mis-tracks the hanging left arm of this clip, so positions are compared, not
    distances to one wrist.)"""
    wrists = track.keypoints[:, :, 0, :2] * [track.width, track.height]
    skel = colour[:, [NTU25.index("left_wrist"), NTU25.index("right_wrist")]]
    seen = ~track.missing & ~track.interpolated

    def d(t: int, hand: int, wrist: int) -> float:
        return float(np.linalg.norm(wrists[t, hand] - skel[t, wrist]))

    checked = 0
    for t in range(min(len(wrists), len(skel))):
        if seen[t].all():
            assert d(t, 0, 0) + d(t, 1, 1) < d(t, 0, 1) + d(t, 1, 0), f"frame {t}: slots crossed"
        elif seen[t].any():
            s = int(np.flatnonzero(seen[t])[0])
            assert d(t, s, s) < d(t, s, 1 - s), f"frame {t}: the {('left', 'right')[s]} hand is nearer the other wrist"
        checked += int(seen[t].any())
    assert checked >= 0.7 * len(wrists)


@pytest.fixture(scope="module")
def both_paths(ntu_clip, hand_model, pose_model):
    from bharnet.video.hands import extract_hands

    video, skeleton, _, _ = ntu_clip
    return (extract_hands(video, hand_model, skeleton=skeleton, pose_model=pose_model),
            extract_hands(video, hand_model, pose_model=pose_model))


def test_hands_with_the_skeleton_keep_its_sides(ntu_clip, both_paths):
    with_skeleton, _ = both_paths
    assert with_skeleton.source == "skeleton"
    _check_same_side_wrists(with_skeleton, ntu_clip[2])


def test_hands_without_the_skeleton_take_the_same_slots(ntu_clip, both_paths):
    with_skeleton, from_pose = both_paths
    assert from_pose.source == "pose"
    _check_same_side_wrists(from_pose, ntu_clip[2])
    # the same hand in the same slot on both paths
    a, b = (tr.keypoints[:, :, 0, :2] * [tr.width, tr.height] for tr in (with_skeleton, from_pose))
    both = ~with_skeleton.missing & ~from_pose.missing
    assert both.sum() >= 40
    assert (np.linalg.norm(a - b, axis=-1)[both] < 30).mean() > 0.95


def test_the_ntu25_body_of_the_video_has_the_skeletons_sides(ntu_clip, pose_model):
    from bharnet.video.skeleton import read_video_skeleton

    video, _, _, xyz = ntu_clip
    body = read_video_skeleton(video, pose_model, body_layout="ntu25").body[:, 0]
    xyz = xyz[:len(body)]
    ix = NTU25.index
    # left-to-right across shoulders and hips points the same way as Kinect's (not a mirror image)
    for joint in ("shoulder", "hip"):
        ours = body[:, ix(f"right_{joint}")] - body[:, ix(f"left_{joint}")]
        kinect = xyz[:, ix(f"right_{joint}")] - xyz[:, ix(f"left_{joint}")]
        assert ((ours * kinect).sum(axis=-1) > 0).mean() > 0.9
    # she drinks with her right hand (Kinect's right wrist is the raised one from frame 20 on)
    late = slice(20 // STRIDE, None)
    assert (xyz[late, ix("right_wrist"), 1] > xyz[late, ix("left_wrist"), 1]).mean() > 0.8
    assert (body[late, ix("right_wrist"), 1] > body[late, ix("left_wrist"), 1]).mean() > 0.9


@pytest.mark.slow
@pytest.mark.parametrize("with_skeleton", [True, False], ids=["skeleton", "pose"])
def test_the_whole_sample_has_each_hand_in_most_frames_on_its_side(shared, hand_model, pose_model, with_skeleton):
    """All 103 frames: her left hand is behind the cup in frames 0-19 and visible from frame 20 on,
    her right hand holds the cup throughout; each is found (or filled) in >= 80% of the frames,
    every one at its own side's wrist."""
    from bharnet.io.ntu import read_skeleton
    from bharnet.video.hands import extract_hands

    sample = shared / "data" / "ntu-sample"
    skeleton = sample / "S001C001P001R001A001.skeleton"
    track = extract_hands(sample / "S001C001P001R001A001_rgb.avi", hand_model,
                          skeleton=skeleton if with_skeleton else None, pose_model=pose_model)
    assert track.frames == 103
    assert ((~track.missing).sum(axis=0) >= 0.8 * track.frames).all(), track.hand_counts()
    (body,) = read_skeleton(skeleton).bodies.values()
    _check_same_side_wrists(track, body.color_xy)
