"""The hands of one video, one frame at a time (:class:`FrameHands`), the one per-frame path of every
extraction (a whole video, a live stream); its raw detections (:class:`RawHands`) become a hands
track through tracking, gap filling and normalisation (:func:`finish_hands`)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bharnet.core.errors import UserError
from bharnet.video.body_guide import BodyGuide
from bharnet.video.decode import VideoInfo, iter_frames
from bharnet.video.extract_config import ExtractConfig
from bharnet.video.hand_files import HandTrack
from bharnet.video.landmarker import REUSABLE, HandDetection, HandLandmarker
from bharnet.video.search import WRIST, Hand, HandSearch, confirmed, same_hand
from bharnet.video.sides import is_mirrored
from bharnet.video.track import apply_swaps, assign_sides, continuity_swaps, interpolate_gaps, lone_hand_sides


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
        self._found: list[tuple[int, np.ndarray] | None] = [None, None]  # per side: frame, wrist and centre
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
        if guide is not None:
            recent = [f if f is not None and t - f[0] <= self._fps else None for f in self._found]  # within 1 s
            cues = guide.with_hands_found(t, cues, recent)
        hands = self.search.step(frame, t, cues, guide.scale if guide is not None else float("nan"))
        for side, hand in enumerate(hands):
            if hand is not None and guide is not None and guide.foreign(t, hand.landmarks[0, :2], side, cues):
                hands[side] = None
                self.search.drop(side)
            if hands[side] is not None:
                marks = hands[side].landmarks[:, :2]
                self._found[side] = (t, np.stack([marks[0], marks.mean(axis=0)]))
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


def _distinct_hands(dets: list[HandDetection]) -> list[HandDetection]:
    """``dets`` less repeats: the landmarker asked for two hands can return one hand twice (with
    both handedness labels), which would put one hand in both slots."""
    kept: list[HandDetection] = []
    for det in sorted(dets, key=lambda d: -d.score):
        if not any(same_hand(det.landmarks, k.landmarks) for k in kept):
            kept.append(det)
    return kept


def detect_frames(video: str | Path, info: VideoInfo, hand_model: str | Path, config: ExtractConfig,
                  guide: BodyGuide | None) -> RawHands:
    """:class:`FrameHands` over the frames of ``video``."""
    hands = FrameHands(hand_model, info.fps, is_mirrored(video, config.mirrored), config, info.frames or 0)
    t = -1
    for t, frame in enumerate(iter_frames(video, config.frame_step)):
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


def every_step(info: VideoInfo, step: int) -> VideoInfo:
    """``info`` as the video of every ``step``-th frame looks."""
    return replace(info, fps=info.fps / step, frames=-(-info.frames // step))


def at_full_rate(track: HandTrack, step: int, frames: int) -> HandTrack:
    """A track found in every ``step``-th frame (``track.frames`` of them) at every frame: at least
    ``frames`` (the container's count; at least up to the last frame looked at), a frame between
    two looked at interpolated linearly when the hand is in both (its score and landmark scores
    the lower of the two), missing otherwise; the last frames held after the last one looked at."""
    n = track.frames
    total = max(frames, (n - 1) * step + 1)
    t = np.arange(total)
    lo = np.minimum(t // step, n - 1)
    hi = np.minimum(lo + 1, n - 1)
    w = np.clip((t - lo * step) / step, 0.0, 1.0)[:, None]
    exact = t == lo * step
    both = ~track.missing[lo] & ~track.missing[hi]
    has = np.where(exact[:, None], ~track.missing[lo], both)
    kp = (1 - w[..., None, None]) * track.keypoints[lo] + w[..., None, None] * track.keypoints[hi]
    conf = np.where(exact[:, None], track.hand_conf[lo], np.minimum(track.hand_conf[lo], track.hand_conf[hi]))
    lconf = np.where(exact[:, None, None], track.landmark_conf[lo],
                     np.minimum(track.landmark_conf[lo], track.landmark_conf[hi]))
    extra = {k: v[lo] for k, v in track.extra.items()}
    return replace(track, keypoints=np.where(has[..., None, None], kp, 0.0).astype(np.float32),
                   hand_conf=np.where(has, conf, 0.0).astype(np.float32),
                   landmark_conf=np.where(has[..., None], lconf, 0.0).astype(np.float32), missing=~has,
                   interpolated=(track.interpolated[lo] & exact[:, None]) | (has & ~exact[:, None]),
                   fps=track.fps * step, extra=extra)
