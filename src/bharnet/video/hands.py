"""Hands of one video, end to end: locate the body, pick the most active person, run the hand
landmarker on crops around that person's hands, assign left/right by the body's wrists, track,
interpolate short gaps. :func:`extract_hands` does one video,
:func:`run_extraction` many (in parallel, sharded, resumable)."""

from __future__ import annotations

import atexit
import threading
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np

from bharnet.core.errors import UserError
from bharnet.video.batch import RunSummary, VideoJob, check_out_folders, collect, pending, plan_videos, run_jobs
from bharnet.video.batch import find_videos as find_videos  # read here by the CLI and predict
from bharnet.video.batch import parse_shard as parse_shard
from bharnet.video.crops import BODY_ANCHORS, HandAnchors, body_scale
from bharnet.video.decode import VideoInfo, iter_frames, probe_video, short_decode
from bharnet.video.hand_files import HandTrack, read_ntu_color, save_hands
from bharnet.video.landmarker import HandDetection, HandLandmarker, PoseLandmarker
from bharnet.video.models import resolve_model
from bharnet.video.preview import write_contact_sheet
from bharnet.video.search import WRIST, Hand, HandSearch, SearchConfig, confirmed, hand_cues, same_hand
from bharnet.video.sides import NTU_PAIRS, POSE_PAIRS, is_mirrored, side_margin
from bharnet.video.track import (
    apply_swaps,
    assign_sides,
    by_activity,
    continuity_swaps,
    distinct_people,
    fill_body_gaps,
    fill_hidden,
    interpolate_gaps,
    link_tracks,
    lone_hand_sides,
    track_age,
)


@dataclass(frozen=True)
class ExtractConfig:
    """Settings of the extraction; the defaults are the documented behaviour."""

    search: SearchConfig = field(default_factory=SearchConfig)
    #: gaps of at most this many frames between two detections are filled linearly
    max_gap: int = 5
    #: MediaPipe detection / presence / tracking threshold
    min_confidence: float = 0.5
    #: people the pose landmarker looks for (videos without a skeleton file)
    num_poses: int = 2
    #: without a skeleton, the kept person's joints unseen for at most this long (between two frames
    #: where they are seen) are interpolated to place the hands' regions
    body_gap_seconds: float = 0.5
    #: whether the pose landmarker on whole frames follows people from frame to frame (MediaPipe's
    #: VIDEO mode) or detects them afresh in each (IMAGE mode: it keeps seeing both of two people
    #: in contact, see ``landmarker.PoseLandmarker``); None: VIDEO mode when one person is looked
    #: for (cheaper: no person detector while it is followed), IMAGE mode for more.
    #: :class:`~bharnet.video.track.PeopleTracker` links them either way
    pose_tracking: bool | None = None

    @property
    def pose_video_mode(self) -> bool:
        """Whether the pose landmarker on whole frames runs in VIDEO mode (see ``pose_tracking``)."""
        return self.num_poses == 1 if self.pose_tracking is None else self.pose_tracking
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
    #: with a skeleton file, the pose landmarker runs on the person's box to place the hands' regions
    #: in frames where a hand is lost, at most every this many frames (0: never; the skeleton alone)
    pose_every: int = 3
    #: the person whose hands are searched is the most active one of the last this many seconds
    #: (frame by frame, as a live stream must: :mod:`bharnet.video.stream`)
    follow_seconds: float = 10.0
    #: hands of this many people, the most active first (``extract-hands --people``); the paper keeps
    #: the most active person's
    people: int = 1
    #: whether the videos are mirror images (None: NTU RGB+D videos are, others are not); see
    #: :mod:`bharnet.video.sides`
    mirrored: bool | None = None


@dataclass
class RawHands:
    """Per-frame detections before tracking: pixels, (T, 2, 21, 3) / (T, 2) / (T, 2)."""

    kp: np.ndarray
    score: np.ndarray
    present: np.ndarray
    new: np.ndarray  # (T, 2) a hand not followed from the previous frame
    regions: np.ndarray  # (T, 2, 3) the square searched for each hand (x0, y0, side), NaN where none

    @classmethod
    def empty(cls, n: int) -> RawHands:
        return cls(np.zeros((n, 2, 21, 3)), np.zeros((n, 2)), np.zeros((n, 2), dtype=bool),
                   np.zeros((n, 2), dtype=bool), np.full((n, 2, 3), np.nan))

    def put(self, t: int, side: int, landmarks: np.ndarray, score: float, new: bool = False) -> None:
        self.kp[t, side], self.score[t, side], self.present[t, side] = landmarks, score, True
        self.new[t, side] = new

    def grown(self) -> RawHands:
        more = RawHands.empty(len(self.kp))
        return RawHands(*(np.concatenate([a, b]) for a, b in zip(self.arrays(), more.arrays(), strict=True)))

    def arrays(self) -> tuple[np.ndarray, ...]:
        return self.kp, self.score, self.present, self.new, self.regions

    def rows(self, start: int, stop: int) -> RawHands:
        """A copy of frames ``start`` to ``stop`` (exclusive)."""
        return RawHands(*(a[start:stop].copy() for a in self.arrays()))


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
    #: (T,) bool: frames where the person was out of sight behind another (None: not known)
    hidden: np.ndarray | None = None


def pose_people(pose: PoseLandmarker, frame: np.ndarray, t: int, mirrored: bool,
                config: ExtractConfig = ExtractConfig()) -> list[np.ndarray]:
    """The people the pose landmarker sees in frame ``t`` (RGB), sides in the convention, each
    ``(33, 9)``: pixels (2, NaN below the visibility threshold), image (3), world (3) and
    visibility (1) columns. A detection without a visible wrist is no person (see
    ``min_wrist_visibility``); one that repeats another is dropped
    (:func:`~bharnet.video.track.distinct_people`)."""
    anchors = BODY_ANCHORS["pose33"]
    h, w = frame.shape[:2]
    people = []
    for p in pose.detect(frame, t):
        p = p.in_convention(mirrored)
        if p.visibility[list(anchors.wrist)].max() < config.min_wrist_visibility:
            continue
        xy = p.image[:, :2] * np.array([w, h])
        xy[p.visibility < config.min_visibility] = np.nan
        people.append(np.concatenate([xy, p.image, p.world, p.visibility[:, None]], axis=1))
    return distinct_people(people, anchors)


def lasting_tracks(tracks: dict[int, np.ndarray], config: ExtractConfig = ExtractConfig()) -> dict[int, np.ndarray]:
    """The (T, 33, D) tracks (pixels first) seen, shoulders and all, in at least ``min_person_frac``
    of their T frames: on a video with no person the pose landmarker hallucinates short-lived ones."""
    shoulders = list(BODY_ANCHORS["pose33"].shoulders)
    return {k: track for k, track in tracks.items()
            if np.isfinite(track[:, shoulders, 0]).all(axis=1).sum() >= config.min_person_frac * len(track)}


def as_pose_track(track: np.ndarray, hidden: np.ndarray | None = None) -> PoseTrack:
    """A (T, 33, 9) track of :func:`pose_people` rows as a :class:`PoseTrack`."""
    return PoseTrack(track[..., :2], track[..., 2:5], track[..., 5:8], track[..., 8], hidden)


def pose_tracks(video: str | Path, pose_model: str | Path, info: VideoInfo,
                config: ExtractConfig = ExtractConfig()) -> list[PoseTrack]:
    """Every person the pose landmarker follows through ``video`` for long enough, with sides in
    the convention (:mod:`bharnet.video.sides`)."""
    mirrored = is_mirrored(video, config.mirrored)
    with PoseLandmarker(pose_model, num_poses=config.num_poses, min_confidence=config.min_confidence,
                        fps=info.fps, video=config.pose_video_mode) as pose:
        per_frame = [pose_people(pose, frame, t, mirrored, config) for t, frame in enumerate(iter_frames(video))]
    return link_people(per_frame, info.fps, config)


def link_people(per_frame: list[list[np.ndarray]], fps: float, config: ExtractConfig = ExtractConfig()
                ) -> list[PoseTrack]:
    """The people of each frame (:func:`pose_people`) linked into tracks
    (:func:`~bharnet.video.track.link_tracks`), those seen long enough (:func:`lasting_tracks`)."""
    linked = link_tracks(per_frame, BODY_ANCHORS["pose33"], max_age=track_age(fps))
    tracks = {k: track for k, (track, _) in enumerate(linked)}
    return [as_pose_track(track, linked[k][1]) for k, track in lasting_tracks(tracks, config).items()]


def bodies_from_pose(video: str | Path, pose_model: str | Path, info: VideoInfo,
                     config: ExtractConfig = ExtractConfig()) -> list[tuple[str, np.ndarray]]:
    """``(track id, (T, 33, 2) pixels)`` for each person the pose landmarker follows through the video."""
    return [(f"pose{i}", track.pixels) for i, track in enumerate(pose_tracks(video, pose_model, info, config))]


def _assign_whole_frame(dets: list[HandDetection], mirrored: bool) -> list[tuple[int, HandDetection]]:
    # No body to compare with: MediaPipe's handedness label, a weak cue that the continuity pass then
    # corrects. MediaPipe labels hands as if the image were mirrored (a selfie view): on a camera
    # image its "Left" is the person's right hand.
    out, free = [], [0, 1]
    for det in sorted(dets, key=lambda d: -d.score)[:2]:
        want = 0 if det.label.lower().startswith("l") == mirrored else 1
        side = want if want in free else free[0]
        free.remove(side)
        out.append((side, det))
    return out


class Reusable:
    """Landmarkers kept for the next video while a :meth:`session` lasts (a batch run, a worker
    process): making one costs ~0.1 s of CPU, as much as a few frames of work, and a video needs
    several. They are closed when the outermost session ends: MediaPipe's threads must not outlive
    the extraction (a process forked later, e.g. by a data loader, would inherit them mid-work)."""

    def __init__(self) -> None:
        self._items: dict[tuple, object] = {}
        self._registered = False
        self._depth = 0
        self.new_video()

    @contextmanager
    def session(self) -> Iterator[Reusable]:
        """``with REUSABLE.session():`` landmarkers made inside are kept until the outermost one ends."""
        self._depth += 1
        try:
            yield self
        finally:
            self._depth -= 1
            if self._depth == 0:
                self.close()

    def get(self, key: tuple, fps: float, make: Callable[[], object]):
        """The landmarker of ``key``, made by ``make`` the first time; the first time in a video
        (see :meth:`new_video`) one used before is restarted at ``fps``."""
        item = self._items.get(key)
        if item is None:
            item = self._items[key] = make()
            self._close_at_exit()
        elif key not in self._in_video:
            item.restart(fps)
        self._in_video.add(key)
        return item

    def _close_at_exit(self) -> None:
        # MediaPipe closes a task through a thread pool that the interpreter shuts down before
        # atexit runs; the threading module's own exit hooks run earlier, the last registered
        # first, so registering after MediaPipe has loaded closes the landmarkers in time.
        if not self._registered:
            register = getattr(threading, "_register_atexit", atexit.register)
            register(self.close)
            self._registered = True

    def new_video(self) -> None:
        """The next calls of :meth:`get` are for a new video."""
        self._in_video: set[tuple] = set()

    def close(self) -> None:
        for item in self._items.values():
            item.close()
        self._items.clear()


#: pixels of the longer side of the person's box given to the pose landmarker
POSE_INPUT = 384

#: the landmarkers of this process
REUSABLE = Reusable()


class BodyGuide:
    """Where a person's hands are, frame by frame, for the hand search: ``cues(t, frame)`` gives
    (2, 3, 2) wrist, hand centre and elbow per side in the convention (NaN where unknown) or None,
    ``scale`` the person's size in pixels. This one reads them from a whole track known in advance.
    ``others`` (T, K, 2, 2): the wrists of the other people in view (NaN where unseen), whose hands
    are not this person's (:meth:`foreign`)."""

    def __init__(self, cues: np.ndarray, scale: float, others: np.ndarray | None = None) -> None:
        self._cues, self.scale, self._others = cues, scale, others

    @classmethod
    def of_body(cls, body: np.ndarray, anchors: HandAnchors, others: list[np.ndarray] = ()) -> BodyGuide:
        """From a (T, J, 2) body in the layout of ``anchors`` (pixels, NaN where unseen); ``others``
        the other people's bodies in the same layout."""
        return cls(hand_cues(body, anchors), body_scale(body, anchors), other_wrists(others, anchors))

    def foreign(self, t: int, wrist: np.ndarray, side: int, cues: np.ndarray | None) -> bool:
        """Whether a hand whose wrist is at ``wrist`` (pixels) in frame ``t`` is another person's: its
        wrist within half this person's size of another person's wrist, and less than half as far
        from it as from this person's wrist on ``side`` (from ``cues``; when this person is not seen,
        any hand at another's wrist is theirs). Two people in contact put their hands close; the one
        kept is often hidden behind the other, and a search around where they were finds the other's."""
        if self._others is None or t >= len(self._others) or not np.isfinite(self.scale):
            return False
        theirs = self._others[t].reshape(-1, 2)
        theirs = theirs[np.isfinite(theirs).all(axis=-1)]
        if not len(theirs):
            return False
        near = float(np.linalg.norm(theirs - wrist, axis=-1).min())
        own = cues[side, WRIST] if cues is not None else np.full(2, np.nan)
        mine = float(np.linalg.norm(own - wrist)) if np.isfinite(own).all() else np.inf
        return near < 0.5 * self.scale and near < 0.5 * mine

    def cues(self, t: int, frame: np.ndarray, lost: bool = True) -> np.ndarray | None:
        """The cues of frame ``t``; ``lost``: whether a hand is not being followed (so that the
        cues will be used)."""
        if t >= len(self._cues) or not np.isfinite(self._cues[t, :, WRIST]).any():
            return None
        return self._cues[t]

    def close(self) -> None:
        pass


def other_wrists(others: list[np.ndarray] | tuple, anchors: HandAnchors) -> np.ndarray | None:
    """(T, K, 2, 2) the wrists of ``others`` ((T, J, 2+) bodies), None when there is none."""
    if not len(others):
        return None
    return np.stack([body[:, list(anchors.wrist), :2] for body in others], axis=1)


class SkeletonPoseGuide(BodyGuide):
    """A Kinect skeleton names the person and the sides; the pose landmarker, run on a fixed box
    around that person in the frames where a hand is lost (at most every ``pose_every`` frames),
    says where the arms really are (Kinect often mis-tracks an arm that hangs or is occluded) and
    how large the person is. The pose's sides are matched to the skeleton's by position
    (shoulders, elbows, hips) over the frames seen so far."""

    def __init__(self, skeleton: np.ndarray, pose_model: str | Path, info: VideoInfo, config: ExtractConfig,
                 others: list[np.ndarray] = ()) -> None:
        self._skeleton = skeleton
        ntu = BODY_ANCHORS["ntu25"]
        super().__init__(hand_cues(skeleton, ntu), body_scale(skeleton, ntu), other_wrists(others, ntu))
        self._box = person_box(skeleton, self.scale, info.width, info.height)
        self._every, self._config = max(1, config.pose_every), config
        self._pose = REUSABLE.get(("pose", str(pose_model), config.min_confidence), info.fps, lambda: PoseLandmarker(
            pose_model, num_poses=2, min_confidence=config.min_confidence, fps=info.fps))
        self._margin = 0.0  # sum over frames of (crossed - same) side distances: < 0 means crossed
        self._last: np.ndarray | None = None  # pose cues of the last pose run, in the pose's own sides
        self._pose_t = -(10 ** 9)
        self._scales: list[float] = []

    def cues(self, t: int, frame: np.ndarray, lost: bool = True) -> np.ndarray | None:
        skeleton = super().cues(t, frame)
        if self._box is not None and lost and t - self._pose_t >= self._every:
            self._last, self._pose_t = self._run_pose(t, frame), t
        if self._last is None:
            return skeleton
        pose = self._last[::-1] if self._margin < 0 else self._last
        if skeleton is None:
            return pose
        seen = np.isfinite(pose[:, WRIST]).all(axis=-1)
        return np.where(seen[:, None, None], pose, skeleton)

    def _run_pose(self, t: int, frame: np.ndarray) -> np.ndarray | None:
        import cv2  # optional (bharnet[video]), loaded only when a video is processed

        x0, y0, x1, y1 = self._box
        box = frame[y0:y1, x0:x1]
        if max(box.shape[:2]) > POSE_INPUT:  # the pose model sees 256 px: a smaller copy costs less
            f = POSE_INPUT / max(box.shape[:2])
            box = cv2.resize(box, (max(1, round(box.shape[1] * f)), max(1, round(box.shape[0] * f))),
                             interpolation=cv2.INTER_AREA)
        people = self._pose.detect(np.ascontiguousarray(box), t)
        body = self._skeleton[t] if t < len(self._skeleton) else None
        if not people or body is None or not np.isfinite(body).any():
            return None
        xy = [p.image[:, :2] * [x1 - x0, y1 - y0] + [x0, y0] for p in people]
        for p, q in zip(people, xy, strict=True):
            q[p.visibility < self._config.min_visibility] = np.nan
        # the detection nearest the skeleton's shoulders, whichever way round its sides are
        pose_sh, skel_sh = list(BODY_ANCHORS["pose33"].shoulders), list(BODY_ANCHORS["ntu25"].shoulders)
        dist = [np.nanmean(np.linalg.norm(q[pose_sh] - body[skel_sh], axis=-1)
                           + np.linalg.norm(q[pose_sh] - body[skel_sh[::-1]], axis=-1)) for q in xy]
        k = int(np.nanargmin(dist)) if np.isfinite(dist).any() else 0
        if not np.isfinite(dist[k]) or dist[k] > 4 * self.scale:
            return None
        self._margin += side_margin(xy[k][None], body[None], POSE_PAIRS, NTU_PAIRS)
        scale = body_scale(xy[k][None], BODY_ANCHORS["pose33"])
        if np.isfinite(scale):  # the regions' size from what the image shows, as the places
            self._scales.append(scale)
            self.scale = float(np.median(self._scales))
        return hand_cues(xy[k], BODY_ANCHORS["pose33"])


def person_box(body: np.ndarray, scale: float, width: int, height: int) -> tuple[int, int, int, int] | None:
    """A fixed box (x0, y0, x1, y1) around every position of ``body`` (T, J, 2) over the video, with
    a margin of two body scales for arms the skeleton misplaces; None when the body is never seen."""
    if not np.isfinite(body).any() or not np.isfinite(scale):
        return None
    lo, hi = np.nanmin(body, axis=(0, 1)) - 2 * scale, np.nanmax(body, axis=(0, 1)) + 2 * scale
    x0, y0 = max(0, int(lo[0])), max(0, int(lo[1]))
    x1, y1 = min(width, int(np.ceil(hi[0]))), min(height, int(np.ceil(hi[1])))
    return (x0, y0, x1, y1) if x1 - x0 >= 16 and y1 - y0 >= 16 else None


class FrameHands:
    """The hands of one video, one frame at a time (:meth:`step`): the hand search
    (:class:`~bharnet.video.search.HandSearch`) with the body's cues, a hand found again after a
    gap followed back into it, and the whole frame searched where no body is known or nothing is
    found. The one per-frame path of every extraction (a whole video, a live stream). Its raw
    detections (pixels) are read with :meth:`rows`; :meth:`forget_before` bounds the memory of a
    stream. Landmarkers come from :data:`REUSABLE` (use it inside a session)."""

    def __init__(self, hand_model: str | Path, fps: float, mirrored: bool, config: ExtractConfig = ExtractConfig(),
                 frames: int = 0) -> None:
        self.config, self.mirrored, self._hand_model, self._fps = config, mirrored, hand_model, fps
        self.search = REUSABLE.get(("search", str(hand_model), config.search), fps,
                                   lambda: HandSearch(hand_model, config.search, fps))
        self._raw = RawHands.empty(max(frames, 1))
        self._first = 0  # frame number of the first raw row kept
        self._recent: deque[np.ndarray] = deque(maxlen=config.search.trace_back)
        self.t = -1  # the last frame stepped

    def _on_frames(self) -> HandLandmarker:
        c = self.config
        return REUSABLE.get(("frames", str(self._hand_model), c.min_confidence), self._fps, lambda: HandLandmarker(
            self._hand_model, video=True, min_confidence=c.min_confidence, fps=self._fps))

    def step(self, t: int, frame: np.ndarray, guide: BodyGuide | None) -> None:
        """Frame ``t`` (the one after the last), RGB; ``guide`` says where the body puts the hands."""
        while t - self._first >= len(self._raw.kp):  # the container's frame count was short
            self._raw = self._raw.grown()
        self.t = t
        cues = guide.cues(t, frame, self.search.lost(t)) if guide is not None else None
        hands = self.search.step(frame, t, cues, guide.scale if guide is not None else float("nan"))
        for side, hand in enumerate(hands):
            if hand is not None and guide is not None and guide.foreign(t, hand.landmarks[0, :2], side, cues):
                hands[side] = None
                self.search.drop(side)
        for side, hand in enumerate(hands):
            if hand is not None:
                self._put(t, side, hand.landmarks, hand.score, hand.how != "tracked")
            region = self.search.regions[side]
            if region is not None:
                self._raw.regions[t - self._first, side] = region.x0, region.y0, region.side
        self._trace_back(t, hands, guide)
        self._recent.append(frame)
        if all(hand is None for hand in hands):
            # nothing near the body (or no body): the whole frame, which finds large hands that a
            # region cuts, and hands of videos with nobody in view
            self._whole_frame(t, frame, cues, guide)
            square = max(frame.shape[:2])  # the region searched for both: the whole frame
            self._raw.regions[t - self._first] = (frame.shape[1] - square) / 2, (frame.shape[0] - square) / 2, square

    def rows(self, start: int, stop: int) -> RawHands:
        """A copy of the raw detections of frames ``start`` to ``stop`` (exclusive), kept ones only."""
        return self._raw.rows(start - self._first, stop - self._first)

    def forget_before(self, t: int) -> None:
        """Drop the raw rows before frame ``t`` (at most the rows a trace back may still change
        are kept anyway)."""
        t = min(t, self.t - self.config.search.trace_back - 2)
        if t > self._first:
            self._raw = self._raw.rows(t - self._first, len(self._raw.kp))
            self._first = t

    def _put(self, t: int, side: int, landmarks: np.ndarray, score: float, new: bool = False) -> None:
        self._raw.put(t - self._first, side, landmarks, score, new)

    def _present(self, t: int, side: int) -> bool:
        return t >= self._first and bool(self._raw.present[t - self._first, side])

    def _trace_back(self, t: int, hands: list[Hand | None], guide: BodyGuide | None) -> None:
        """A hand seen in frame ``t - 1`` after a gap and again in ``t`` (so not a stray detection) is
        followed backwards into the gap, through the frames kept in ``recent`` (oldest first, up to
        ``t - 1``)."""
        if t < 2 or not self._recent:  # (a search that keeps no frames does not follow back)
            return
        for side, hand in enumerate(hands):
            if hand is None or not self._present(t - 1, side) or self._present(t - 2, side):
                continue
            r = t - 1 - self._first
            start = Hand(self._raw.kp[r, side], float(self._raw.score[r, side]), "tracked")
            kept = list(self._recent)
            before = kept[:-1][::-1]  # frames t - 2, t - 3, ...
            gap = 0  # missing frames before t - 1
            while gap < len(before) and t - 2 - gap >= self._first and not self._present(t - 2 - gap, side):
                gap += 1
            before = before[:gap]
            other = [self._hand_at(t - 2 - k, 1 - side) for k in range(len(before))]
            for k, found in enumerate(self.search.trace_back(kept[-1], before, start, other)):
                if found is not None and not (guide is not None and guide.foreign(
                        t - 2 - k, found.landmarks[0, :2], side, guide.cues(t - 2 - k, before[k], False))):
                    self._put(t - 2 - k, side, found.landmarks, found.score)

    def _hand_at(self, t: int, side: int) -> Hand | None:
        r = t - self._first
        return Hand(self._raw.kp[r, side], float(self._raw.score[r, side]), "tracked") if self._present(t, side) \
            else None

    def _whole_frame(self, t: int, frame: np.ndarray, cues: np.ndarray | None, guide: BodyGuide | None) -> None:
        h, w = frame.shape[:2]
        dets = self._on_frames().detect(frame, t)
        if guide is not None:  # another person's hand is none of the sides'
            dets = [d for d in dets if not any(guide.foreign(t, d.landmarks[0, :2] * [w, h], s, cues) for s in (0, 1))]
        dets = _distinct_hands(dets)
        wrists = cues[:, WRIST] if cues is not None else np.full((2, 2), np.nan)
        if np.isnan(wrists).all():
            for side, det in _assign_whole_frame(dets, self.mirrored):
                self._put(t, side, det.landmarks * np.array([w, h, w]), det.score)
        elif dets:
            marks = [d.landmarks * np.array([w, h, w]) for d in dets]
            for k, side in assign_sides(np.array([m[0, :2] for m in marks]), wrists).items():
                self._put(t, side, marks[k], dets[k].score)


def _distinct_hands(dets: list[HandDetection]) -> list[HandDetection]:
    """``dets`` less repeats: the landmarker asked for two hands can return one hand twice (with
    both handedness labels), which would put one hand in both slots."""
    kept: list[HandDetection] = []
    for det in sorted(dets, key=lambda d: -d.score):
        if not any(same_hand(det.landmarks, k.landmarks) for k in kept):
            kept.append(det)
    return kept


def _detect_frames(video: str | Path, info: VideoInfo, hand_model: str | Path, config: ExtractConfig,
                   guide: BodyGuide | None) -> RawHands:
    """:class:`FrameHands` over the frames of ``video``."""
    hands = FrameHands(hand_model, info.fps, is_mirrored(video, config.mirrored), config, info.frames or 0)
    t = -1
    for t, frame in enumerate(iter_frames(video)):
        hands.step(t, frame, guide)
    if t < 0:
        raise UserError(f"{video}: no decodable frame")
    return hands.rows(0, t + 1)


def finish_hands(raw: RawHands, info: VideoInfo, source: str, person: str, config: ExtractConfig) -> HandTrack:
    """Tracking, gap filling and normalisation of raw per-frame detections."""
    centres = raw.kp[..., :2].mean(axis=2)
    sizes = np.ptp(raw.kp[..., :2], axis=2).max(axis=-1)
    raw.present = confirmed(raw.present, raw.new, centres, sizes)
    kp, score, present = raw.kp, raw.score, raw.present
    if source == "frame":  # no body names the sides: each slot follows one hand ("sort")
        swap = continuity_swaps(centres, raw.present, sizes)
        kp, score, present = apply_swaps(swap, raw.kp, raw.score, raw.present)
        flip = lone_hand_sides(present, swap, score)
        kp, score, present = apply_swaps(flip, kp, score, present)
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
                     ~has, filled_kp, info.width, info.height, info.fps, source, person,
                     extra={"regions": raw.regions})


def extract_hands(video: str | Path, hand_model: str | Path, skeleton: str | Path | None = None,
                  pose_model: str | Path | None = None, config: ExtractConfig = ExtractConfig()) -> HandTrack:
    """The two hands of the most active person of ``video``.

    With ``skeleton`` (an NTU ``.skeleton`` file) the person and the sides come from its colour
    positions, and where the hands are from the pose landmarker run on that person's box (when
    ``pose_model`` is given and ``config.pose_every`` > 0); otherwise from the pose landmarker
    (``pose_model``) over whole frames; when that finds nobody, whole frames are searched.
    Raises :class:`UserError` when the video cannot be read, the skeleton has no body, or no
    person and no hand is found.
    """
    return extract_people_hands(video, hand_model, skeleton, pose_model, replace(config, people=1))[0]


def extract_people_hands(video: str | Path, hand_model: str | Path, skeleton: str | Path | None = None,
                         pose_model: str | Path | None = None, config: ExtractConfig = ExtractConfig()
                         ) -> list[HandTrack]:
    """The two hands of each of the ``config.people`` most active people of ``video``, the most
    active first (:func:`extract_hands` for each; fewer when fewer people are found, one track of
    whoever's hands are in view when nobody is)."""
    info = probe_video(video)
    with REUSABLE.session():
        REUSABLE.new_video()
        return _extract(video, info, hand_model, skeleton, pose_model, config)


def _extract(video: str | Path, info: VideoInfo, hand_model: str | Path, skeleton: str | Path | None,
             pose_model: str | Path | None, config: ExtractConfig) -> list[HandTrack]:
    hidden: list[np.ndarray | None] = []
    if skeleton is not None:
        bodies, source, anchors = bodies_from_skeleton(skeleton, info, config), "skeleton", BODY_ANCHORS["ntu25"]
        if not bodies:
            raise UserError(f"{skeleton}: no person in the skeleton file")
    elif pose_model is not None:
        people = pose_tracks(video, pose_model, info, config)
        bodies, source, anchors = [(f"pose{i}", t.pixels) for i, t in enumerate(people)], "pose", BODY_ANCHORS["pose33"]
        hidden = [t.hidden for t in people]
    else:
        bodies, source, anchors = [], "frame", None
    if not bodies:
        return [hands_of_person(video, info, hand_model, None, None, "frame", "", config)]
    tracks = []
    for kept in by_activity([b for _, b in bodies], anchors)[:max(1, config.people)]:
        REUSABLE.new_video()
        person = _searched_body(bodies[kept][1], hidden[kept] if hidden else None, source, info, config)
        tracks.append(_person_hands(video, info, hand_model, pose_model, config, bodies, kept, person, source,
                                    anchors))
    return tracks


def _searched_body(body: np.ndarray, hidden: np.ndarray | None, source: str, info: VideoInfo,
                   config: ExtractConfig) -> np.ndarray:
    """The body whose hands are searched: from the pose landmarker over a whole video, placed
    between where they went behind another person and came out, and where the pose model loses
    them a moment, where they were going."""
    if source != "pose":
        return body
    if hidden is not None:
        body = fill_hidden(body, hidden)
    return fill_body_gaps(body, round(config.body_gap_seconds * info.fps))


def _person_hands(video: str | Path, info: VideoInfo, hand_model: str | Path, pose_model: str | Path | None,
                  config: ExtractConfig, bodies: list[tuple[str, np.ndarray]], kept: int, person: np.ndarray,
                  source: str, anchors: HandAnchors) -> HandTrack:
    """The hands of ``person`` (body ``kept`` of ``bodies`` as searched), the other bodies as seen
    (whose hands are not this person's)."""
    person_id = bodies[kept][0]
    others = [b for k, (_, b) in enumerate(bodies) if k != kept]
    if source == "skeleton" and pose_model is not None and config.pose_every > 0:
        guide: BodyGuide = SkeletonPoseGuide(person, pose_model, info, config, others)
    else:
        guide = BodyGuide.of_body(person, anchors, others)
    return hands_with_guide(video, info, hand_model, guide, source, person_id, config)


def hands_of_person(video: str | Path, info: VideoInfo, hand_model: str | Path, person: np.ndarray | None,
                    anchors: HandAnchors | None, source: str, person_id: str = "",
                    config: ExtractConfig = ExtractConfig()) -> HandTrack:
    """The hands of one person, given as ``(T, J, 2)`` pixels in the layout of ``anchors`` (NaN
    where unseen, sides in the convention), or of whoever is in view when ``person`` is None."""
    with REUSABLE.session():
        REUSABLE.new_video()
        guide = BodyGuide.of_body(person, anchors) if person is not None else None
        return hands_with_guide(video, info, hand_model, guide, source, person_id, config)


def hands_with_guide(video: str | Path, info: VideoInfo, hand_model: str | Path, guide: BodyGuide | None,
                     source: str, person_id: str = "", config: ExtractConfig = ExtractConfig()) -> HandTrack:
    """The hands that ``guide`` leads to (or of whoever is in view when it is None)."""
    try:
        raw = _detect_frames(video, info, hand_model, config, guide)
    finally:
        if guide is not None:
            guide.close()
    track = finish_hands(raw, info, source, person_id, config)
    if guide is None and track.frames_with_hand == 0:
        raise UserError(f"{video}: no person and no hand found")
    return track


# ----------------------------------------------------------------------------------------------
# many videos


#: one video to process and where its result (and its contact sheet, if wanted) goes
Job = VideoJob


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
              shard: tuple[int, int] = (0, 1), preview: str | Path | None = None) -> list[Job]:
    """The jobs of shard ``I`` of ``N`` (:func:`bharnet.video.batch.plan_videos`), each video's
    hands going to ``<out>/<video stem>.npz``; with ``preview``, its contact sheet to
    ``<preview>/<video stem>.png``."""
    return plan_videos(inputs, lambda v: Path(out) / f"{v.stem}.npz", skeletons, shard,
                       None if preview is None else (lambda v: Path(preview) / f"{v.stem}.png"))


def person_path(out: Path, k: int) -> Path:
    """Where the hands of the ``k``-th most active person go (k >= 1; the most active one's go to
    ``out``): ``<stem>.person<k>.npz`` beside it."""
    return out.with_name(f"{out.stem}.person{k}{out.suffix}")


def _run_job(hand_model: Path, pose_model: Path | None, config: ExtractConfig, job: Job) -> dict:
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


def _pose_model_for(jobs: list[Job], pose_model: str | Path | None, config: ExtractConfig
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


def _execute(jobs: list[Job], hand: Path, pose: Path | None, config: ExtractConfig, workers: int,
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
