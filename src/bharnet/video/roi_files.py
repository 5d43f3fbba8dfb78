"""ST-ROI images of many videos (``bharnet extract-roi``): joint positions, one PNG per video.

Joint pixel positions come from NTU's ``.skeleton`` colour positions (the two actors the skeleton
stream keeps, after the standard cleaning) or, for any other video, from MediaPipe's pose
landmarker (the most active person first, at most two). Each video gives ``<out>/<sample>.png``
(the uint8 ST-ROI image, written atomically). A run skips videos whose PNG exists (resume), takes
shard ``I/N`` of the sorted video list, and reports a video that fails without stopping.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from bharnet.core.errors import UserError
from bharnet.core.words import plural
from bharnet.io.ntu import clean_bodies, read_skeleton
from bharnet.video.batch import RunSummary, VideoJob, check_out_folders, collect, pending, plan_videos, run_jobs
from bharnet.video.crops import BODY_ANCHORS
from bharnet.video.decode import probe_video
from bharnet.video.hand_files import sample_name
from bharnet.video.models import resolve_model
from bharnet.video.people import pose_tracks
from bharnet.video.st_roi import DEFAULT_ROI, RoiConfig, StRoi, st_roi_from_video
from bharnet.video.track import most_active

__all__ = ["RoiSummary", "joints_from_skeleton", "joints_from_pose", "roi_of_video", "save_roi",
           "read_roi", "plan_roi_jobs", "run_roi_extraction"]

#: the frame size NTU's colour positions refer to (Kinect v2 colour camera)
NTU_COLOR_SIZE = (1920, 1080)


def joints_from_skeleton(skeleton: str | Path, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """The two cleaned actors' colour positions ``(T', 2, 25, 2)`` (NaN where absent, scaled to a
    ``width`` x ``height`` video) and the video frame of each row ``(T',)``."""
    try:
        cleaned = clean_bodies(read_skeleton(skeleton))
    except (OSError, ValueError) as err:
        raise UserError(f"{skeleton}: not a readable NTU .skeleton file ({err})") from err
    if len(cleaned.frames) == 0:
        raise UserError(f"{skeleton}: no body in the skeleton file")
    xy = cleaned.color_xy.astype(np.float64) * np.array([width / NTU_COLOR_SIZE[0], height / NTU_COLOR_SIZE[1]])
    xy[(cleaned.color_xy == 0).all(-1)] = np.nan  # absent actors and untracked joints come as (0, 0)
    return xy, np.asarray(cleaned.frames)


def joints_from_pose(video: str | Path, pose_model: str | Path, persons: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Pose landmarks ``(T, M, 33, 2)`` pixels of up to ``persons`` people, the most active first."""
    tracks = pose_tracks(video, pose_model, probe_video(video))
    if not tracks:
        raise UserError(f"{video}: the pose landmarker finds no person")
    pixels = [t.pixels for t in tracks]
    first = most_active(pixels, BODY_ANCHORS["pose33"])
    order = [first] + [i for i in range(len(pixels)) if i != first]
    xy = np.stack([pixels[i] for i in order[:persons]], axis=1).astype(np.float64)
    return xy, np.arange(len(xy))


def roi_of_video(video: str | Path, skeleton: str | Path | None = None, pose_model: str | Path | None = None,
                 config: RoiConfig = DEFAULT_ROI) -> StRoi:
    """The ST-ROI of one video, its joints from ``skeleton`` (NTU) or else from the pose landmarker."""
    if skeleton is not None:
        info = probe_video(video)
        xy, index = joints_from_skeleton(skeleton, info.width, info.height)
        return st_roi_from_video(video, xy, "ntu25", config, frame_index=index, frame_height=info.height)
    if pose_model is None:
        raise UserError(f"{video}: no skeleton file and no pose model, so no joint positions for its ST-ROI")
    xy, index = joints_from_pose(video, pose_model)
    return st_roi_from_video(video, xy, "pose33", config, frame_index=index)


def save_roi(image: np.ndarray, path: str | Path) -> Path:
    """Write an ST-ROI image as PNG, atomically (temporary file beside it, then rename)."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        Image.fromarray(np.asarray(image, np.uint8)).save(tmp, format="PNG")
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def read_roi(path: str | Path, size: int | None = None) -> np.ndarray:
    """An ST-ROI PNG as ``(S, S, 3)`` uint8; with ``size``, checked to be ``size`` x ``size``."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            image = np.asarray(img.convert("RGB"))
    except (OSError, UnidentifiedImageError) as err:
        raise UserError(f"{path}: not a readable ST-ROI image ({err})") from err
    if size is not None and image.shape[:2] != (size, size):
        raise UserError(f"{path}: ST-ROI image is {image.shape[1]}x{image.shape[0]}, expected {size}x{size}")
    return image


@dataclass
class RoiSummary(RunSummary):
    """What a run did; ``failed`` maps a video to the reason; ``seconds_per_video`` over the videos done."""

    seconds_per_video: float = 0.0
    busy: float = field(default=0.0, repr=False)  # seconds spent on the videos done

    def add(self, result: dict) -> None:
        self.done += 1
        self.busy += result["seconds"]
        self.seconds_per_video = self.busy / self.done

    def lines(self) -> list[str]:
        """A short human-readable report."""
        out = [f"ST-ROI: {self.done} of {plural(self.videos, 'video')} done, {self.skipped} existed, "
               f"{len(self.failed)} failed, {self.seconds:.1f} s ({self.seconds_per_video:.2f} s per video)"]
        return out + [f"failed: {reason if video in reason else f'{video}: {reason}'}"
                      for video, reason in self.failed.items()]

    def as_dict(self) -> dict:
        return {"videos": self.videos, "done": self.done, "skipped": self.skipped, "failed": len(self.failed),
                "seconds": round(self.seconds, 3), "seconds_per_video": round(self.seconds_per_video, 3),
                "failures": self.failed}


def plan_roi_jobs(inputs: list[str | Path], out: str | Path, skeletons: str | Path | None = None,
                  shard: tuple[int, int] = (0, 1)) -> list[VideoJob]:
    """Shard ``I`` of ``N`` of the videos (:func:`bharnet.video.batch.plan_videos`), each video's
    image going to ``<out>/<sample>.png``."""
    return plan_videos(inputs, lambda v: Path(out) / f"{sample_name(v)}.png", skeletons, shard)


def _run_job(pose_model: Path | None, config: RoiConfig, job: VideoJob) -> dict:
    """One video (errors are caught by :func:`bharnet.video.batch.guarded`)."""
    start = time.perf_counter()
    roi = roi_of_video(job.video, job.skeleton, pose_model, config)
    save_roi(roi.image, job.out)
    return {"video": str(job.video), "ok": True, "seconds": time.perf_counter() - start}


def run_roi_extraction(inputs: list[str | Path], out: str | Path, skeletons: str | Path | None = None,
                       workers: int = 1, shard: tuple[int, int] = (0, 1), pose_model: str | Path | None = None,
                       config: RoiConfig = DEFAULT_ROI) -> RoiSummary:
    """Write the ST-ROI PNG of every video of ``inputs`` (this shard) into ``out``; resumable."""
    start = time.perf_counter()
    summary = RoiSummary()
    check_out_folders(inputs, {"--out": (out, ("*.png",))})
    todo = pending(plan_roi_jobs(inputs, out, skeletons, shard), summary)
    pose = None
    if any(j.skeleton is None for j in todo):
        try:
            pose = resolve_model("pose", pose_model)
        except UserError as err:  # the videos with a skeleton file go on; the others fail with the reason
            summary.failed.update({str(j.video): f"{j.video}: no skeleton file, and {err}" for j in todo
                                   if j.skeleton is None})
            todo = [j for j in todo if j.skeleton is not None]
    return collect(run_jobs(todo, partial(_run_job, pose, config), workers), summary, start)
