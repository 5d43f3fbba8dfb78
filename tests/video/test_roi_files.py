"""extract-roi over many videos (resume, shards, failures), attach-roi, prepare ntu --rgb on the real sample."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bharnet.cli import main
from bharnet.core.errors import UserError
from bharnet.store.rgb import RoiArray, attach_rois
from bharnet.video.roi_files import plan_roi_jobs, read_roi, run_roi_extraction, save_roi
from tests.io.fixtures import write_ntu_skeleton

av = pytest.importorskip("av")


def _clip_with_skeleton(folder: Path, name: str, frames: int = 30) -> None:
    """A small video of a moving square and an NTU skeleton file whose joints sit on it."""
    from bharnet.video.decode import write_video

    video = [np.full((108, 192, 3), 40, np.uint8) for _ in range(frames)]
    xy = np.zeros((frames, 25, 2))
    for t, image in enumerate(video):
        x, y = 40 + 3 * t, 54
        image[y - 6:y + 6, x - 6:x + 6] = 250
        xy[t] = [x * 10, y * 10]  # colour positions refer to 1920 x 1080
        xy[t, 4:9] += [[-100, 0], [-150, 0], [-150, 0], [-150, 0], [100, 0]]  # shoulders / elbows apart
    write_video(folder / f"{name}_rgb.mp4", video, fps=15)
    write_ntu_skeleton(folder / f"{name}.skeleton", {"72057594037931101": xy})


def test_extract_resume_shards_and_a_failure(tmp_path: Path) -> None:
    videos, out = tmp_path / "videos", tmp_path / "rois"
    videos.mkdir()
    for name in ("S001C001P001R001A001", "S001C001P001R001A002"):
        _clip_with_skeleton(videos, name)
    (videos / "S001C001P001R001A003_rgb.mp4").write_bytes(b"not a video")
    jobs = plan_roi_jobs([videos], out, skeletons=videos)
    assert [j.out.name for j in jobs] == [f"S001C001P001R001A00{i}.png" for i in (1, 2, 3)]
    assert len(plan_roi_jobs([videos], out, videos, shard=(1, 2))) == 1
    first = run_roi_extraction([videos], out, skeletons=videos)
    assert (first.done, len(first.failed)) == (2, 1)
    assert "S001C001P001R001A003" in next(iter(first.failed))
    image = read_roi(out / "S001C001P001R001A001.png", size=225)
    assert image.max() >= 200  # the bright square is in the patches
    again = run_roi_extraction([videos], out, skeletons=videos)
    assert (again.done, again.skipped) == (0, 2)


def test_attach_gives_each_sample_its_image_by_name(tmp_path: Path, make_sequence, write_store) -> None:
    store = tmp_path / "store"
    write_store(store, [make_sequence(i, frames=10) for i in range(3)])
    names = json.loads((store / "names.json").read_text())
    rois = tmp_path / "rois"
    save_roi(np.full((20, 20, 3), 7, np.uint8), rois / f"{names[1]}.png")
    meta = attach_rois(store, rois)
    assert meta["found"] == 1 and meta["missing"] == [names[0], names[2]] and meta["size"] == 20
    array = RoiArray(store)
    assert array.present.tolist() == [False, True, False]
    assert array.image(1).min() == 7 and array.image(0).max() == 0
    with pytest.raises(UserError, match="expected 20x20"):
        save_roi(np.zeros((30, 30, 3), np.uint8), rois / f"{names[2]}.png")
        attach_rois(store, rois)
    with pytest.raises(UserError, match="no ST-ROI images"):
        RoiArray(tmp_path)


def test_prepare_ntu_with_rgb_on_the_real_sample(shared: Path, tmp_path: Path) -> None:
    sample = shared / "data" / "ntu-sample"
    out = tmp_path / "ntu"
    code = main(["prepare", "ntu", "--skeletons", str(sample), "--rgb", str(sample), "--out", str(out),
                 "--workers", "1", "--no-progress"])
    assert code == 0
    array = RoiArray(out)
    assert array.present.tolist() == [True] and array.size == 225
    assert (tmp_path / "ntu-roi" / "S001C001P001R001A001.png").is_file()
