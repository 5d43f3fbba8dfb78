"""Hands of many videos (``bharnet extract-hands``): one hands file per video (and per person with
``people`` > 1), on the batch runner of :mod:`bharnet.video.batch` (shards, resume, failures,
worker processes), with a progress bar and a summary of the hands found."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from bharnet.core.errors import UserError
from bharnet.video.batch import RunSummary, VideoJob, check_out_folders, collect, pending, plan_videos, run_jobs
from bharnet.video.decode import short_decode
from bharnet.video.extract_config import ExtractConfig
from bharnet.video.hand_files import save_hands
from bharnet.video.hands import extract_people_hands
from bharnet.video.landmarker import REUSABLE
from bharnet.video.models import resolve_model
from bharnet.video.preview import write_contact_sheet


@dataclass
class Summary(RunSummary):
    """What a run did. ``failed`` maps a video to the reason it was skipped."""

    frames: int = 0
    frames_with_hand: int = 0
    #: per hand (left, right): frames found, interpolated, missing, summed over the videos done
    hands: dict[str, dict[str, int]] = field(default_factory=lambda: {
        side: {"found": 0, "interpolated": 0, "missing": 0} for side in ("left", "right")})
    sources: dict[str, int] = field(default_factory=dict)
    #: videos done with a caveat (e.g. fewer frames decoded than the container lists): video -> why
    warnings: dict[str, str] = field(default_factory=dict)

    def add(self, result: dict) -> None:
        """Count one video done (a result of a job)."""
        self.done += 1
        self.frames += result["frames"]
        self.frames_with_hand += result["frames_with_hand"]
        for side, counts in result["hands"].items():
            for key, n in counts.items():
                self.hands[side][key] += n
        self.sources[result["source"]] = self.sources.get(result["source"], 0) + 1
        if "warning" in result:
            self.warnings[result["video"]] = result["warning"]

    def as_dict(self) -> dict:
        return {"videos": self.videos, "done": self.done, "skipped": self.skipped, "failed": len(self.failed),
                "frames": self.frames, "frames_with_hand": self.frames_with_hand, "hands": self.hands,
                "seconds": round(self.seconds, 3), "sources": self.sources, "failures": self.failed,
                "warnings": self.warnings}


def plan_jobs(inputs: list[str | Path], out: str | Path, skeletons: str | Path | None = None,
              shard: tuple[int, int] = (0, 1), preview: str | Path | None = None) -> list[VideoJob]:
    """The jobs of shard ``I`` of ``N`` (:func:`bharnet.video.batch.plan_videos`), each video's
    hands going to ``<out>/<video stem>.npz``; with ``preview``, its contact sheet to
    ``<preview>/<video stem>.png``."""
    return plan_videos(inputs, lambda v: Path(out) / f"{v.stem}.npz", skeletons, shard,
                       None if preview is None else (lambda v: Path(preview) / f"{v.stem}.png"))


def person_path(out: Path, k: int) -> Path:
    """Where the hands of the ``k``-th most active person go (k >= 1; the most active one's go to
    ``out``): ``<stem>.person<k>.npz`` beside it."""
    return out.with_name(f"{out.stem}.person{k}{out.suffix}")


def _run_job(hand_model: Path, pose_model: Path | None, config: ExtractConfig, job: VideoJob) -> dict:
    """Process one video (errors are caught by :func:`bharnet.video.batch.guarded`)."""
    import time

    start = time.perf_counter()
    tracks = extract_people_hands(job.video, hand_model, skeleton=job.skeleton, pose_model=pose_model, config=config)
    track = tracks[0]
    save_hands(track, job.out)
    for k, more in enumerate(tracks[1:], 1):
        save_hands(more, person_path(job.out, k))
    if job.preview is not None:
        write_contact_sheet(job.video, track, job.preview)
    result = {"video": str(job.video), "ok": True, "frames": track.frames, "source": track.source,
              "frames_with_hand": track.frames_with_hand, "hands": track.hand_counts(),
              "seconds": time.perf_counter() - start}
    short = short_decode(job.video, track.frames)
    if short:
        result["warning"] = f"{short}; the hands of those frames are saved"
    return result


def run_extraction(inputs: list[str | Path], out: str | Path, skeletons: str | Path | None = None,
                   workers: int = 1, shard: tuple[int, int] = (0, 1), hand_model: str | Path | None = None,
                   pose_model: str | Path | None = None, config: ExtractConfig = ExtractConfig(),
                   progress: bool = True, preview: str | Path | None = None) -> Summary:
    """Extract the hands of every video of ``inputs`` (this shard) into ``out``.

    Videos whose output exists are skipped (resume); a video that fails is reported in the summary
    and the run goes on. ``workers`` > 1 uses that many processes.
    """
    import time

    start = time.perf_counter()
    summary = Summary()
    check_out_folders(inputs, {"--out": (out, ("*.npz",)), "--preview": (preview, ("*.png",))})
    todo = pending(plan_jobs(inputs, out, skeletons, shard, preview), summary)
    if todo:
        hand = resolve_model("hand", hand_model)
        pose, config = _pose_model_for(todo, pose_model, config)
        return collect(_execute(todo, hand, pose, config, workers, progress), summary, start)
    summary.seconds = time.perf_counter() - start
    return summary


def _keep_landmarkers() -> None:
    """A worker process's start: its landmarkers serve all its videos (closed when it exits)."""
    REUSABLE.session().__enter__()


def _pose_model_for(jobs: list[VideoJob], pose_model: str | Path | None, config: ExtractConfig
                    ) -> tuple[Path | None, ExtractConfig]:
    """The pose model the jobs need: always without a skeleton; with one, to place the hands'
    regions, but a missing model there only means the skeleton's joints place them (warned)."""
    if any(j.skeleton is None for j in jobs):
        return resolve_model("pose", pose_model), config
    if config.pose_every <= 0:
        return None, config
    try:
        return resolve_model("pose", pose_model), config
    except UserError as err:
        warnings.warn(f"{err} Going on with the skeletons' joints alone to place the hands' regions, which "
                      "finds fewer hands where Kinect mis-tracks an arm.", stacklevel=2)
        return None, replace(config, pose_every=0)


def _execute(jobs: list[VideoJob], hand: Path, pose: Path | None, config: ExtractConfig, workers: int,
             progress: bool):
    """Yield job results as they finish, with a progress bar (videos/s, ETA) on stderr."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("hands"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]} videos/s"),
               TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), disable=not progress) as bar:
        task = bar.add_task("hands", total=len(jobs), rate="-")
        # in this process the landmarkers serve every video, closed at the end; a worker process
        # keeps its own from its start (_keep_landmarkers)
        results = run_jobs(jobs, partial(_run_job, hand, pose, config), workers, initializer=_keep_landmarkers,
                           session=REUSABLE.session)
        for k, result in enumerate(results, 1):
            elapsed = bar.tasks[0].elapsed or 1e-9
            bar.update(task, advance=1, rate=f"{k / elapsed:.2f}")
            yield result
