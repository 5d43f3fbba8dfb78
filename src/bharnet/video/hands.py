"""Hands of one video, end to end: locate the body, pick the most active person, run the hand
landmarker on crops around that person's hands, assign left/right by the body's wrists, track,
interpolate short gaps. :func:`extract_hands` does one video,
:func:`run_extraction` many (in parallel, sharded, resumable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bharnet.core.errors import UserError
from bharnet.video.crops import (
    BODY_ANCHORS,
    CropConfig,
    HandAnchors,
    body_scale,
    crop_side,
    cut,
    hand_boxes,
    hand_centres,
    to_frame,
)
from bharnet.video.decode import VIDEO_SUFFIXES, VideoInfo, iter_frames, probe_video
from bharnet.video.hand_files import HandTrack, read_ntu_color, sample_name, save_hands
from bharnet.video.landmarker import HandDetection, HandLandmarker, PoseLandmarker
from bharnet.video.models import resolve_model
from bharnet.video.track import (
    apply_swaps,
    assign_sides,
    continuity_swaps,
    dedup_hands,
    interpolate_gaps,
    most_active,
    track_people,
)


@dataclass(frozen=True)
class ExtractConfig:
    """Settings of the extraction; the defaults are the documented behaviour."""

    crop: CropConfig = field(default_factory=CropConfig)
    #: gaps of at most this many frames between two detections are filled linearly
    max_gap: int = 5
    #: MediaPipe detection / presence / tracking threshold
    min_confidence: float = 0.5
    #: people the pose landmarker looks for (videos without a skeleton file)
    num_poses: int = 2
    #: pose landmarks with a lower visibility are treated as unseen
    min_visibility: float = 0.2
    #: a pose detection counts as a person only when a wrist is this visible: with no person in view
    #: the pose landmarker still reports faces and shoulders, but with wrist visibility about 0.1-0.3
    min_wrist_visibility: float = 0.5
    #: the frame size NTU's colour positions refer to (Kinect v2 colour camera); rescaled to the video's
    ntu_color_size: tuple[int, int] = (1920, 1080)
    #: a person the pose landmarker sees in fewer frames than this fraction is ignored: on a video
    #: with no person (a close-up of a hand) it hallucinates short-lived people
    min_person_frac: float = 0.3


@dataclass
class _Raw:
    """Per-frame detections before tracking: pixels, (T, 2, 21, 3) / (T, 2) / (T, 2)."""

    kp: np.ndarray
    score: np.ndarray
    present: np.ndarray

    @classmethod
    def empty(cls, n: int) -> _Raw:
        return cls(np.zeros((n, 2, 21, 3)), np.zeros((n, 2)), np.zeros((n, 2), dtype=bool))

    def put(self, t: int, side: int, landmarks: np.ndarray, score: float) -> None:
        self.kp[t, side], self.score[t, side], self.present[t, side] = landmarks, score, True


def bodies_from_skeleton(path: str | Path, info: VideoInfo, config: ExtractConfig = ExtractConfig()
                         ) -> list[tuple[str, np.ndarray]]:
    """``(bodyID, (T, 25, 2) pixels)`` for each body of an NTU skeleton file, scaled to the video."""
    sx = info.width / config.ntu_color_size[0]
    sy = info.height / config.ntu_color_size[1]
    bodies = []
    for body_id, xy in read_ntu_color(path).items():
        xy = xy * np.array([sx, sy])
        xy[(xy == 0).all(axis=-1)] = np.nan  # untracked joints come as (0, 0)
        bodies.append((body_id, xy))
    return bodies


@dataclass
class PoseTrack:
    """One person the pose landmarker follows through a video, NaN in the frames where it is not
    seen: ``pixels`` (T, 33, 2), also NaN for landmarks below the visibility threshold; ``image``
    (T, 33, 3), ``world`` (T, 33, 3) and ``visibility`` (T, 33) as in ``landmarker.PoseDetection``."""

    pixels: np.ndarray
    image: np.ndarray
    world: np.ndarray
    visibility: np.ndarray


def pose_tracks(video: str | Path, pose_model: str | Path, info: VideoInfo,
                config: ExtractConfig = ExtractConfig()) -> list[PoseTrack]:
    """Every person the pose landmarker follows through ``video`` for long enough."""
    anchors = BODY_ANCHORS["pose33"]
    per_frame: list[list[np.ndarray]] = []
    with PoseLandmarker(pose_model, num_poses=config.num_poses, min_confidence=config.min_confidence,
                        fps=info.fps) as pose:
        for t, frame in enumerate(iter_frames(video)):
            h, w = frame.shape[:2]
            people = []
            for p in pose.detect(frame, t):
                if p.visibility[list(anchors.wrist)].max() < config.min_wrist_visibility:
                    continue
                xy = p.image[:, :2] * np.array([w, h])
                xy[p.visibility < config.min_visibility] = np.nan
                people.append(np.concatenate([xy, p.image, p.world, p.visibility[:, None]], axis=1))
            per_frame.append(people)
    needed = config.min_person_frac * len(per_frame)
    shoulders = list(anchors.shoulders)
    return [PoseTrack(track[..., :2], track[..., 2:5], track[..., 5:8], track[..., 8])
            for track in track_people(per_frame, anchors)
            if np.isfinite(track[:, shoulders, 0]).all(axis=1).sum() >= needed]


def bodies_from_pose(video: str | Path, pose_model: str | Path, info: VideoInfo,
                     config: ExtractConfig = ExtractConfig()) -> list[tuple[str, np.ndarray]]:
    """``(track id, (T, 33, 2) pixels)`` for each person the pose landmarker follows through the video."""
    return [(f"pose{i}", track.pixels) for i, track in enumerate(pose_tracks(video, pose_model, info, config))]


def _assign_whole_frame(dets: list[HandDetection]) -> list[tuple[int, HandDetection]]:
    # No body to compare with: MediaPipe's label, a weak cue that the continuity pass then corrects.
    out, free = [], [0, 1]
    for det in sorted(dets, key=lambda d: -d.score)[:2]:
        want = 0 if det.label.lower().startswith("l") else 1
        side = want if want in free else free[0]
        free.remove(side)
        out.append((side, det))
    return out


def _detect_frames(video: str | Path, info: VideoInfo, hand_model: str | Path, config: ExtractConfig,
                   person: np.ndarray | None, anchors: HandAnchors | None) -> _Raw:
    """Run the hand landmarker over the video: on crops around ``person``'s hands in frames where
    the body is seen, on the whole frame where it is not or where the crops find nothing."""
    n = info.frames or 0
    raw = _Raw.empty(max(n, 1))
    side_px = None
    if person is not None:
        side_px = crop_side(body_scale(person, anchors), info.height, config.crop)
    t = -1
    with HandLandmarker(hand_model, video=False, min_confidence=config.min_confidence) as on_crops, \
            HandLandmarker(hand_model, video=True, min_confidence=config.min_confidence, fps=info.fps) as on_frames:
        for t, frame in enumerate(iter_frames(video)):
            if t >= len(raw.kp):  # the container's frame count was short
                grow = _Raw.empty(len(raw.kp))
                raw = _Raw(*(np.concatenate([a, b]) for a, b in
                             ((raw.kp, grow.kp), (raw.score, grow.score), (raw.present, grow.present))))
            h, w = frame.shape[:2]
            body = person[t] if person is not None and t < len(person) else None
            wrists = body[list(anchors.wrist)] if body is not None else np.full((2, 2), np.nan)
            boxes = hand_boxes(hand_centres(body, anchors), side_px, w, h) if body is not None else []
            found = [(to_frame(d.landmarks, box), d.score) for box in boxes for d in on_crops.detect(cut(frame, box))]
            found = [found[i] for i in dedup_hands([f[0] for f in found], [f[1] for f in found])]
            if found:
                for k, side in assign_sides(np.array([f[0][0, :2] for f in found]), wrists, 1.5 * side_px).items():
                    raw.put(t, side, *found[k])
                continue
            # nothing on crops (or no body): search the whole frame, which finds large hands that a
            # crop cuts, and hands of videos with nobody in view
            dets = on_frames.detect(frame, t)
            if np.isnan(wrists).all():
                for side, det in _assign_whole_frame(dets):
                    raw.put(t, side, det.landmarks * np.array([w, h, w]), det.score)
            elif dets:
                marks = [d.landmarks * np.array([w, h, w]) for d in dets]
                for k, side in assign_sides(np.array([m[0, :2] for m in marks]), wrists).items():
                    raw.put(t, side, marks[k], dets[k].score)
    if t < 0:
        raise UserError(f"{video}: no decodable frame")
    return _Raw(raw.kp[:t + 1], raw.score[:t + 1], raw.present[:t + 1])


def _finish(raw: _Raw, info: VideoInfo, source: str, person: str, config: ExtractConfig) -> HandTrack:
    """Tracking, gap filling and normalisation of raw per-frame detections."""
    centres = raw.kp[..., :2].mean(axis=2)
    sizes = np.ptp(raw.kp[..., :2], axis=2).max(axis=-1)
    swap = continuity_swaps(centres, raw.present, sizes)
    kp, score, present = apply_swaps(swap, raw.kp, raw.score, raw.present)
    kp, filled_kp = interpolate_gaps(kp, present, config.max_gap)
    score, _ = interpolate_gaps(score, present, config.max_gap)
    # an interpolated hand is no more certain than the weaker of its two ends
    for s in (0, 1):
        for t in np.flatnonzero(filled_kp[:, s]):
            before = np.flatnonzero(present[:t, s])[-1]
            after = t + 1 + np.flatnonzero(present[t + 1:, s])[0]
            score[t, s] = min(score[before, s], score[after, s])
    has = present | filled_kp
    norm = kp / np.array([info.width, info.height, info.width])
    norm[~has] = 0.0
    score = np.where(has, score, 0.0)
    inside = ((norm[..., 0] >= 0) & (norm[..., 0] <= 1) & (norm[..., 1] >= 0) & (norm[..., 1] <= 1))
    landmark_conf = np.where(inside & has[..., None], score[..., None], 0.0)
    return HandTrack(norm.astype(np.float32), score.astype(np.float32), landmark_conf.astype(np.float32),
                     ~has, filled_kp, info.width, info.height, info.fps, source, person)


def extract_hands(video: str | Path, hand_model: str | Path, skeleton: str | Path | None = None,
                  pose_model: str | Path | None = None, config: ExtractConfig = ExtractConfig()) -> HandTrack:
    """The two hands of the most active person of ``video``.

    With ``skeleton`` (an NTU ``.skeleton`` file) the body comes from its colour positions;
    otherwise from the pose landmarker (``pose_model``); when that finds nobody, whole frames are
    searched. Raises :class:`UserError` when the video cannot be read, the skeleton has no body,
    or no person and no hand is found.
    """
    info = probe_video(video)
    if skeleton is not None:
        bodies, source, anchors = bodies_from_skeleton(skeleton, info, config), "skeleton", BODY_ANCHORS["ntu25"]
        if not bodies:
            raise UserError(f"{skeleton}: no person in the skeleton file")
    elif pose_model is not None:
        bodies, source, anchors = bodies_from_pose(video, pose_model, info, config), "pose", BODY_ANCHORS["pose33"]
    else:
        bodies, source, anchors = [], "frame", None
    if bodies:
        pick = most_active([b for _, b in bodies], anchors)
        person_id, person = bodies[pick]
    else:
        person_id, person, source = "", None, "frame"
    return hands_of_person(video, info, hand_model, person, anchors, source, person_id, config)


def hands_of_person(video: str | Path, info: VideoInfo, hand_model: str | Path, person: np.ndarray | None,
                    anchors: HandAnchors | None, source: str, person_id: str = "",
                    config: ExtractConfig = ExtractConfig()) -> HandTrack:
    """The hands of one person, given as ``(T, J, 2)`` pixels in the layout of ``anchors`` (NaN
    where unseen), or of whoever is in view when ``person`` is None."""
    raw = _detect_frames(video, info, hand_model, config, person, anchors)
    track = _finish(raw, info, source, person_id, config)
    if person is None and track.frames_with_hand == 0:
        raise UserError(f"{video}: no person and no hand found")
    return track


# ----------------------------------------------------------------------------------------------
# many videos


@dataclass(frozen=True)
class Job:
    """One video to process and where its result goes."""

    video: Path
    out: Path
    skeleton: Path | None


@dataclass
class Summary:
    """What a run did. ``failed`` maps a video to the reason it was skipped."""

    videos: int = 0
    done: int = 0
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    frames: int = 0
    frames_with_hand: int = 0
    seconds: float = 0.0
    sources: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"videos": self.videos, "done": self.done, "skipped": self.skipped, "failed": len(self.failed),
                "frames": self.frames, "frames_with_hand": self.frames_with_hand,
                "seconds": round(self.seconds, 3), "sources": self.sources, "failures": self.failed}


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` -> (I, N) with 0 <= I < N (shards count from 0)."""
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise UserError(f"--shard {text!r}: expected I/N, e.g. 0/4") from None
    if n < 1 or not 0 <= i < n:
        raise UserError(f"--shard {text!r}: need 0 <= I < N")
    return i, n


def find_videos(inputs: list[str | Path]) -> list[Path]:
    """Video files named in ``inputs`` (files, or folders searched recursively), sorted by name."""
    found: set[Path] = set()
    for item in map(Path, inputs):
        if item.is_dir():
            found.update(p for p in item.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
        elif item.is_file():
            found.add(item)
        else:
            raise UserError(f"{item}: no such file or folder")
    return sorted(found, key=lambda p: (p.name, str(p)))


def plan_jobs(inputs: list[str | Path], out: str | Path, skeletons: str | Path | None = None,
              shard: tuple[int, int] = (0, 1)) -> list[Job]:
    """The jobs of shard ``I`` of ``N``: video k (in sorted order) belongs to shard k mod N, so the
    shards partition the videos and the assignment does not depend on the machine."""
    index: dict[str, Path] = {}
    if skeletons is not None:
        if not Path(skeletons).is_dir():
            raise UserError(f"--skeletons {skeletons}: no such folder")
        index = {p.name[: -len(".skeleton")]: p for p in Path(skeletons).rglob("*.skeleton")}
    i, n = shard
    videos = find_videos(inputs)[i::n]
    return [Job(v, Path(out) / f"{v.stem}.npz", index.get(sample_name(v))) for v in videos]


def _run_job(job: Job, hand_model: Path, pose_model: Path | None, config: ExtractConfig) -> dict:
    """Process one video; never raises: a failure comes back as a reason."""
    import time

    start = time.perf_counter()
    try:
        track = extract_hands(job.video, hand_model, skeleton=job.skeleton, pose_model=pose_model, config=config)

        save_hands(track, job.out)
        return {"video": str(job.video), "ok": True, "frames": track.frames, "source": track.source,
                "frames_with_hand": track.frames_with_hand, "seconds": time.perf_counter() - start}
    except UserError as err:
        return {"video": str(job.video), "ok": False, "reason": str(err)}
    except Exception as err:  # noqa: BLE001 - one bad video must not end a long run
        return {"video": str(job.video), "ok": False, "reason": f"{type(err).__name__}: {err}"}


def run_extraction(inputs: list[str | Path], out: str | Path, skeletons: str | Path | None = None,
                   workers: int = 1, shard: tuple[int, int] = (0, 1), hand_model: str | Path | None = None,
                   pose_model: str | Path | None = None, config: ExtractConfig = ExtractConfig(),
                   progress: bool = True) -> Summary:
    """Extract the hands of every video of ``inputs`` (this shard) into ``out``.

    Videos whose output exists are skipped (resume); a video that fails is reported in the summary
    and the run goes on. ``workers`` > 1 uses that many processes.
    """
    import time


    start = time.perf_counter()
    jobs = plan_jobs(inputs, out, skeletons, shard)
    summary = Summary(videos=len(jobs))
    todo = [j for j in jobs if not j.out.exists()]
    summary.skipped = len(jobs) - len(todo)
    if todo:
        hand = resolve_model("hand", hand_model)
        pose = resolve_model("pose", pose_model) if any(j.skeleton is None for j in todo) else None
        for result in _execute(todo, hand, pose, config, workers, progress):
            if result["ok"]:
                summary.done += 1
                summary.frames += result["frames"]
                summary.frames_with_hand += result["frames_with_hand"]
                summary.sources[result["source"]] = summary.sources.get(result["source"], 0) + 1
            else:
                summary.failed[result["video"]] = result["reason"]
    summary.seconds = time.perf_counter() - start
    return summary


def _execute(jobs: list[Job], hand: Path, pose: Path | None, config: ExtractConfig, workers: int,
             progress: bool):
    """Yield job results as they finish, with a progress bar (videos/s, ETA) on stderr."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("hands"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]} videos/s"),
               TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), disable=not progress) as bar:
        task = bar.add_task("hands", total=len(jobs), rate="-")

        def advance(n_done: int) -> None:
            elapsed = bar.tasks[0].elapsed or 1e-9
            bar.update(task, advance=1, rate=f"{n_done / elapsed:.2f}")

        if workers <= 1:
            for k, job in enumerate(jobs, 1):
                result = _run_job(job, hand, pose, config)
                advance(k)
                yield result
            return
        # spawn: MediaPipe's native threads do not survive fork
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = [pool.submit(_run_job, job, hand, pose, config) for job in jobs]
            for k, future in enumerate(as_completed(futures), 1):
                advance(k)
                yield future.result()
