"""The contact sheet: where a missing hand's close-up looks."""

from __future__ import annotations

import numpy as np
import pytest

from bharnet.video.hand_files import HandTrack
from bharnet.video.preview import MISSING, TILE, _close_up, contact_sheet, hand_states, searched_region


def _track(frames: int, width: int = 320, height: int = 240) -> HandTrack:
    keypoints = np.zeros((frames, 2, 21, 3), np.float32)
    keypoints[:, 0, :, 0] = np.linspace(0.1, 0.2, 21)  # the left hand, top left, found throughout
    keypoints[:, 0, :, 1] = np.linspace(0.1, 0.2, 21)
    missing = np.zeros((frames, 2), bool)
    missing[:, 1] = True  # the right hand never found
    conf = np.where(missing, 0.0, 0.9).astype(np.float32)
    return HandTrack(keypoints, conf, np.repeat(conf[..., None], 21, axis=-1), missing, np.zeros_like(missing),
                     width, height, 30.0, "skeleton")


def test_the_searched_region_of_a_frame_or_the_nearest_searched_one():
    regions = np.full((6, 2, 3), np.nan)
    regions[1, 1] = [10, 20, 30]
    regions[4, 1] = [40, 50, 60]
    assert searched_region(regions, 4, 1)[0] == 4
    t, region = searched_region(regions, 2, 1)
    assert t == 1 and region.tolist() == [10, 20, 30]
    assert searched_region(regions, 2, 0) is None


def test_a_missing_hand_shows_the_region_searched_not_a_stale_place():
    pytest.importorskip("cv2")
    frame = np.full((240, 320, 3), 200, np.uint8)
    frame[150:190, 230:270] = (0, 0, 255)  # something blue inside the searched region
    track = _track(3)
    pixels = track.keypoints[..., :2] * [320, 240]
    regions = np.full((3, 2, 3), np.nan)
    regions[1, 1] = [200, 120, 100]  # the square x 200..300, y 120..220
    tile = _close_up(frame, 1, 1, pixels, hand_states(track), regions)
    assert tile.shape == (TILE, TILE, 3)
    centre = tile[TILE // 2 - 5:TILE // 2 + 5, TILE // 2 - 5:TILE // 2 + 5]
    assert (centre == (0, 0, 255)).all()  # the region's middle is in the middle of the close-up
    assert (tile[:2, :2] == MISSING).all()  # framed as missed
    # the outline of the region, inside the margin of the close-up
    margin = int(round(TILE * 0.125 / 1.25))
    assert (np.abs(tile[TILE // 2, margin - 1:margin + 2].astype(int) - MISSING).sum(axis=-1) < 120).any()
    # no region known at all: a blank tile, not a crop somewhere
    blank = _close_up(frame, 1, 1, pixels, hand_states(track), np.full((3, 2, 3), np.nan))
    assert (blank[TILE // 2, TILE // 2] == 235).all()


def test_contact_sheet_of_a_generated_video(tmp_path):
    pytest.importorskip("cv2")
    pytest.importorskip("av")
    from bharnet.video.decode import write_video

    frames = [np.full((240, 320, 3), 40 * k, np.uint8) for k in range(4)]
    video = write_video(tmp_path / "clip.mp4", frames, fps=30)
    track = _track(4)
    regions = np.full((4, 2, 3), np.nan)
    regions[:, 1] = [200, 120, 100]
    track.extra["regions"] = regions
    sheet = contact_sheet(video, track, samples=4, columns=2)
    assert sheet.ndim == 3 and sheet.shape[1] == 2 * 3 * TILE
