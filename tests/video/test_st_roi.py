"""ST-ROI images: patches land where the joints are, frames are the segments' middles, real NTU data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bharnet.core.errors import UserError
from bharnet.core.layouts import NTU25
from bharnet.video.st_roi import (
    ROI_PARTS,
    RoiConfig,
    body_scale_px,
    build_st_roi,
    cell_centre,
    part_centres,
    part_joints,
    segment_frames,
)

COLOURS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255]], np.uint8)


def _marked_frames(centres: np.ndarray, height: int = 240, width: int = 320, radius: int = 4) -> list[np.ndarray]:
    """Grey frames with a square of each part's colour at each person's part centre."""
    frames = []
    for k in range(len(centres)):
        frame = np.full((height, width, 3), 90, np.uint8)
        for m in range(centres.shape[1]):
            for p, (x, y) in enumerate(centres[k, m]):
                frame[int(y) - radius:int(y) + radius + 1, int(x) - radius:int(x) + radius + 1] = COLOURS[p]
        frames.append(frame)
    return frames


@pytest.mark.parametrize("persons", [1, 2])
def test_each_patch_is_centred_on_its_projected_joint(persons: int) -> None:
    rng = np.random.default_rng(0)
    config = RoiConfig()
    # parts and persons on a grid (markers never overlap), jittered per frame
    grid = np.stack(np.meshgrid(40 + 55 * np.arange(len(ROI_PARTS)), [60, 170]), -1)[:persons]
    centres = grid[None] + rng.uniform(-12, 12, (config.segments, persons, len(ROI_PARTS), 2))
    image = build_st_roi(_marked_frames(centres), centres, side=40.0, config=config)
    assert image.shape == (config.size, config.size, 3) and image.dtype == np.uint8
    for k in range(config.segments):
        for m in range(persons):
            for p in range(len(ROI_PARTS)):
                x, y = cell_centre(p, k, m, persons, config)
                assert np.abs(image[int(y), int(x)].astype(int) - COLOURS[p]).max() < 40, (k, m, p)


def test_an_unknown_part_gives_a_black_patch() -> None:
    config = RoiConfig()
    centres = np.full((config.segments, 1, len(ROI_PARTS), 2), 100.0)
    centres[2, 0, 1] = np.nan
    image = build_st_roi(_marked_frames(np.nan_to_num(centres, nan=100.0)), centres, 40.0, config)
    x, y = cell_centre(1, 2, config=config)
    assert image[int(y), int(x)].max() == 0
    x, y = cell_centre(1, 3, config=config)
    assert image[int(y), int(x)].max() > 0


def test_segment_frames_are_the_middles() -> None:
    assert segment_frames(100, 5).tolist() == [10, 30, 50, 70, 90]
    assert segment_frames(3, 5).tolist() == [0, 0, 1, 2, 2]  # shorter than the segments: frames repeat


def test_part_centres_are_the_means_of_known_joints() -> None:
    xy = np.full((1, 1, 25, 2), np.nan)
    ix = NTU25.index
    xy[0, 0, ix("left_wrist")] = [10, 20]
    xy[0, 0, ix("left_hand")] = [14, 24]
    xy[0, 0, ix("right_wrist")] = [50, 60]  # right hand joint unknown: the wrist alone
    centres = part_centres(xy, "ntu25")
    assert centres[0, 0, ROI_PARTS.index("left_hand")].tolist() == [12, 22]
    assert centres[0, 0, ROI_PARTS.index("right_hand")].tolist() == [50, 60]
    assert np.isnan(centres[0, 0, ROI_PARTS.index("head")]).all()
    assert len(part_joints("pose33")) == len(ROI_PARTS)
    with pytest.raises(UserError, match="ST-ROI"):
        part_joints("coco17")


def test_patch_side_follows_the_body_scale_not_the_resolution() -> None:
    xy = np.full((4, 1, 25, 2), np.nan)
    ix = NTU25.index
    xy[:, 0, ix("left_shoulder")] = [100, 100]
    xy[:, 0, ix("right_shoulder")] = [160, 100]
    xy[:, 0, ix("left_elbow")] = [100, 150]
    assert body_scale_px(xy, "ntu25") == pytest.approx(60)
    assert body_scale_px(xy * 4, "ntu25") == pytest.approx(240)  # the same body at 4x the resolution


def test_from_a_video_decodes_the_segment_frames(tmp_path: Path) -> None:
    pytest.importorskip("av")
    from bharnet.video.decode import write_video
    from bharnet.video.st_roi import st_roi_from_video

    frames = [np.full((96, 128, 3), 4 * t, np.uint8) for t in range(50)]  # brightness tells the frame
    video = write_video(tmp_path / "ramp.mp4", frames, fps=25)
    xy = np.full((50, 1, 25, 2), 64.0)
    roi = st_roi_from_video(video, xy, "ntu25")
    assert roi.frames.tolist() == [5, 15, 25, 35, 45]
    for k, t in enumerate(roi.frames):
        x, y = cell_centre(0, k)
        assert abs(int(roi.image[int(y), int(x)].mean()) - 4 * t) < 8


def test_no_joint_at_all_is_a_clear_error(tmp_path: Path) -> None:
    from bharnet.video.st_roi import st_roi_from_video

    with pytest.raises(UserError, match="no joint position"):
        st_roi_from_video(tmp_path / "x.mp4", np.full((5, 1, 25, 2), np.nan), "ntu25")


def test_ntu_sample_patches_sit_on_the_colour_positions(shared: Path) -> None:
    pytest.importorskip("av")
    from bharnet.video.roi_files import joints_from_skeleton, roi_of_video

    sample = shared / "data" / "ntu-sample"
    skeleton, video = sample / "S001C001P001R001A001.skeleton", sample / "S001C001P001R001A001_rgb.avi"
    roi = roi_of_video(video, skeleton)
    xy, frames = joints_from_skeleton(skeleton, 1920, 1080)
    rows = segment_frames(len(xy), 5)
    assert roi.frames.tolist() == frames[rows].tolist()
    assert roi.persons == 1  # one actor in A001: the empty second slot is left out
    np.testing.assert_allclose(roi.centres, part_centres(xy, "ntu25")[rows][:, :1])
    head, feet = roi.centres[:, 0, 0], roi.centres[:, 0, 3:]
    assert (head[:, 1] < feet[..., 1].min()).all()  # the head above the feet, all inside the frame
    assert ((roi.centres >= 0) & (roi.centres <= [1920, 1080])).all()
    assert 40 < roi.side < 200  # about MMNet's 96 px on a 1080p video
    assert roi.image.std() > 10  # pictures, not black patches
