"""The skeleton of a video one frame at a time: the extraction of every video path (``bharnet
predict`` on a whole file, ``bharnet live`` on a camera), so that both give the same body and
hands for the same frames.

Per frame: the pose landmarker (VIDEO mode) finds the people, :class:`~bharnet.video.track.PeopleTracker`
links them to tracks, the person to follow is the most active one of the last
``ExtractConfig.follow_seconds`` (among those seen long enough), and the hand search
(:class:`~bharnet.video.frame_hands.FrameHands`) looks for that person's hands. A window of kept frames
(:meth:`StreamExtractor.window`) becomes a skeleton with :func:`bharnet.video.skeleton.window_skeleton`.

The work of a frame comes in two stages, :meth:`StreamExtractor.locate` (pose, follow) and
:meth:`StreamExtractor.find_hands`, which a live loop runs in two threads, one frame apart.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bharnet.video.body_guide import BodyGuide, other_wrists
from bharnet.video.crops import BODY_ANCHORS, body_scale
from bharnet.video.extract_config import ExtractConfig
from bharnet.video.frame_hands import FrameHands, RawHands
from bharnet.video.landmarker import REUSABLE, PoseLandmarker
from bharnet.video.people import lasting_tracks, pose_people
from bharnet.video.search import hand_cues
from bharnet.video.track import PeopleTracker, most_active, track_age, tracks_of

__all__ = ["FrameMarks", "Located", "StreamWindow", "StreamExtractor"]

_ANCHORS = BODY_ANCHORS["pose33"]
#: columns of a person row of :func:`bharnet.video.people.pose_people`
PERSON_COLUMNS = 9


@dataclass(frozen=True)
class Located:
    """The first stage's result for frame ``t`` (the extractor's own count): the followed person's
    pose landmarks ``body`` (33, 2) pixels (None when nobody is followed or not seen in this frame)
    and the hand search's guide."""

    t: int
    body: np.ndarray | None
    guide: BodyGuide | None


@dataclass(frozen=True)
class FrameMarks:
    """What one frame gave, in its pixels, for drawing: the followed person's pose landmarks
    ``body`` (33, 2) (NaN where unseen; None when nobody), the hands ``hands`` (2, 21, 2) with
    ``hand_found`` (2,)."""

    body: np.ndarray | None
    hands: np.ndarray
    hand_found: np.ndarray


@dataclass(frozen=True)
class StreamWindow:
    """Kept frames whose hands are done (a snapshot another thread may work on): ``indices`` (T,)
    their numbers in the source, ``people`` per frame ``{track id: (33, 9)}``, ``raw`` their hands
    (None without a hand model), the frame size and rate."""

    indices: np.ndarray
    people: list[dict[int, np.ndarray]]
    raw: RawHands | None
    width: int
    height: int
    fps: float


class _FrameGuide(BodyGuide):
    """The cues of the frame being processed: a stream knows no frame ahead."""

    def __init__(self, cues: np.ndarray, scale: float, others: np.ndarray | None = None) -> None:
        super().__init__(cues[None], scale, others)  # others: (1, K, 2, 2), this frame's

    def cues(self, t: int, frame: np.ndarray, lost: bool = True) -> np.ndarray | None:
        return super().cues(0, frame, lost)

    def foreign(self, t: int, wrist: np.ndarray, side: int, cues: np.ndarray | None) -> bool:
        return super().foreign(0, wrist, side, cues)


@dataclass
class _Frame:
    index: int
    people: dict[int, np.ndarray]
    done: bool = False
    marks: FrameMarks | None = field(default=None, repr=False)


class StreamExtractor:
    """Feed frames in order with :meth:`add` (or its two stages :meth:`locate`, then
    :meth:`find_hands`); :meth:`window` snapshots the kept frames. ``keep``: frames kept for
    windows (None: all, for a whole video); ``hand_model`` None: no hands; ``mirrored``: whether
    the frames are mirror images (:mod:`bharnet.video.sides`). Use inside ``REUSABLE.session()``
    (the landmarkers are reused from video to video); ``clock`` (anything with
    ``add(stage, seconds)``) learns where the time goes."""

    def __init__(self, pose_model: str | Path, hand_model: str | Path | None, *, fps: float, mirrored: bool,
                 keep: int | None = None, config: ExtractConfig | None = None, frames: int = 0,
                 clock: Any = None) -> None:
        self.config = config or ExtractConfig()
        self.fps, self.mirrored, self.clock = fps, mirrored, clock
        c = self.config
        REUSABLE.new_video()
        self.pose = REUSABLE.get(("pose-frames", str(pose_model), c.num_poses, c.min_confidence, c.pose_video_mode),
                                 fps, lambda: PoseLandmarker(pose_model, num_poses=c.num_poses,
                                                             min_confidence=c.min_confidence, fps=fps,
                                                             video=c.pose_video_mode))
        self.hands = FrameHands(hand_model, fps, mirrored, c, frames) if hand_model is not None else None
        self.tracker = PeopleTracker(_ANCHORS, max_age=track_age(fps))
        self.follow_frames = max(1, round(c.follow_seconds * fps))
        self.keep = keep
        self._frames: OrderedDict[int, _Frame] = OrderedDict()  # the extractor's frame count -> frame
        self._lock = threading.Lock()
        self._size = (0, 0)
        self._t = -1

    # ------------------------------------------------------------------------------------------

    def add(self, image: np.ndarray, index: int) -> FrameMarks:
        """Both stages on frame ``index`` (its number in the source) of the stream, RGB."""
        return self.find_hands(image, self.locate(image, index))

    def locate(self, image: np.ndarray, index: int) -> Located:
        """First stage: the people in the frame, and where the followed person's hands are."""
        began = time.perf_counter()
        self._t += 1
        t = self._t
        people = pose_people(self.pose, image, t, self.mirrored, self.config)
        posed = time.perf_counter()
        linked = dict(zip(self.tracker.add(people), people, strict=True))
        with self._lock:
            self._size = (image.shape[1], image.shape[0])
            self._frames[t] = _Frame(index, linked)
            self._forget(t)
            # the last frames, newest first (a whole video keeps all of its frames)
            history = [f.people for f in itertools.islice(reversed(self._frames.values()), self.follow_frames)][::-1]
        located = self._follow(t, history)
        self._time("pose", posed - began)
        self._time("follow", time.perf_counter() - posed)
        return located

    def find_hands(self, image: np.ndarray, located: Located) -> FrameMarks:
        """Second stage: the followed person's hands (or whoever's hands are in view)."""
        began = time.perf_counter()
        t = located.t
        if self.hands is not None:
            self.hands.step(t, image, located.guide)
            if self.keep is not None:
                self.hands.forget_before(t - self._needed() + 1)
            row = self.hands.rows(t, t + 1)
            marks = FrameMarks(located.body, row.kp[0, :, :, :2], row.present[0])
        else:
            marks = FrameMarks(located.body, np.zeros((2, 21, 2)), np.zeros(2, bool))
        with self._lock:
            if t in self._frames:
                self._frames[t].done = True
        self._time("hands", time.perf_counter() - began)
        return marks

    def _follow(self, t: int, history: list[dict[int, np.ndarray]]) -> Located:
        """The most active person of ``history`` (the last frames, up to ``t``) among those seen
        long enough, as a whole video picks its person; its cues in frame ``t``."""
        everyone = tracks_of(history, (33, PERSON_COLUMNS))
        tracks = lasting_tracks(everyone, self.fps, self.config)
        if not tracks:
            return Located(t, None, None)
        ids = list(tracks)
        kept = ids[most_active([tracks[k][..., :2] for k in ids], _ANCHORS)]
        chosen = tracks[kept][..., :2]
        now = chosen[-1]
        if not np.isfinite(now).any():
            return Located(t, None, None)
        # everyone else, lasting or not, held where last seen while behind someone: a hand at their
        # wrist is not the kept person's
        others = []
        for k, body in everyone.items():
            where = self._held(k, body[..., :2]) if k != kept else None
            if where is not None:
                others.append(where[None])
        return Located(t, now, _FrameGuide(hand_cues(now, _ANCHORS), body_scale(chosen, _ANCHORS),
                                           other_wrists(others, _ANCHORS)))

    def _held(self, k: int, body: np.ndarray) -> np.ndarray | None:
        """Track ``k``'s (33, 2) pixels in the last frame of ``body`` (its (T, 33, 2) history), held
        where last seen while it is behind another person, as over a whole video
        (:func:`~bharnet.video.track.hold_hidden`); None where it is not seen. (The followed person
        is not held: a stream cannot place them on the way to where they come out.)"""
        if np.isfinite(body[-1]).any():
            return body[-1]
        if not self.tracker.hidden_now(k):
            return None
        seen = np.flatnonzero(np.isfinite(body).any(axis=(1, 2)))
        return body[seen[-1]] if len(seen) else None

    def _forget(self, t: int) -> None:
        """Frames no window and no follow decision needs any more."""
        if self.keep is None:
            return
        while self._frames and next(iter(self._frames)) <= t - self._needed():
            self._frames.popitem(last=False)

    def _needed(self) -> int:
        return max(self.keep or 0, self.follow_frames)

    def _time(self, stage: str, seconds: float) -> None:
        if self.clock is not None:
            self.clock.add(stage, seconds)

    # ------------------------------------------------------------------------------------------

    def window(self, frames: int | None = None) -> StreamWindow:
        """The last ``frames`` kept frames whose hands are done (all when None); fewer when
        frames of the source were dropped."""
        with self._lock:
            done = [(t, f) for t, f in self._frames.items() if f.done]
            if frames is not None and done:
                last_index = done[-1][1].index
                done = [(t, f) for t, f in done if f.index > last_index - frames]
            raw = None
            if self.hands is not None and done:
                raw = self.hands.rows(done[0][0], done[-1][0] + 1)
            size = self._size
        indices = np.array([f.index for _, f in done], dtype=int)
        if raw is not None and len(raw.kp) != len(done):  # frames of the range not yet done are left out
            keep = np.array([t for t, _ in done]) - done[0][0]
            raw = RawHands(*(a[keep] for a in raw.arrays()))
        if self.hands is not None and raw is None:
            raw = RawHands.empty(0)
        return StreamWindow(indices, [f.people for _, f in done], raw, *size, self.fps)

    def __len__(self) -> int:
        return len(self._frames)
