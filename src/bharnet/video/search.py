"""Where the two hands of one person are, frame by frame.

Each hand has its own region, a square of the frame resampled to ``size`` pixels for MediaPipe's
hand landmarker, and its own landmarker in VIDEO mode: while the hand is found the region follows
it and stays put between small moves, so that MediaPipe tracks the hand from the previous frame's
landmarks (no palm detection, and a lower threshold that the tracking confirms). When the hand is
lost the region goes back to where the body says the hand is (wrist and hand joints); when that
finds nothing, larger regions around the arm are searched once each (multi-scale), and a hand
found there is handed over to the tracker by centring the next frame's region on it; in its first
frames lost, a hand is also looked for again by palm detection at a few scales around where it
was last found (:meth:`HandSearch.redetect`: MediaPipe's tracking lets go of a hand whose look
changes, a fist closing, a hand half hidden, while it is still there). Offline, a hand found again
after a gap is followed back into it (:meth:`HandSearch.trace_back`): tracked, and looked for
again the same way where the tracker loses it.

Positions are full-frame pixels; a body's hands come as ``cues`` (2, 3, 2): per side (0 left,
1 right) the wrist, the hand's centre and the elbow, NaN where unknown.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bharnet.video.crops import HandAnchors
from bharnet.video.landmarker import HandLandmarker
from bharnet.video.track import best_matching

WRIST, CENTRE, ELBOW = 0, 1, 2
#: a hand followed back changes its size by less than this factor from one find to the next
_GROWTH = 2.0
#: which of two finds of one hand to believe: the one followed longest
_TRUST = {"tracked": 3, "handover": 2, "fallback": 1, "body": 0}


@dataclass(frozen=True)
class SearchConfig:
    """Settings of the hand search; the defaults are the documented, measured behaviour."""

    #: region side when the body places it = ``factor`` x body scale (max of shoulder width and forearm)
    factor: float = 2.5
    #: other region sides (x body scale) tried, in this order, when the first finds nothing: a smaller one
    #: (a hand in front of the face or body) centred on the hand, a larger one (the body misplaces the hand)
    #: centred between hand and elbow
    fallback: tuple[float, ...] = (1.5,)
    #: whether a followed hand that is lost is looked for with the fallback regions in the same frame
    #: (off: the next frame searches for it, and the frames between are followed back when it is found)
    fallback_when_lost: bool = False
    #: while a hand stays lost, it is searched for in its first three lost frames, then in every this
    #: many (each search costs palm detections; the frames between are followed back when it is found)
    lost_every: int = 4
    #: region side while a hand is followed = ``hand_factor`` x the hand's size (its landmarks' extent)
    hand_factor: float = 3.0
    #: a followed hand's region moves when the hand's centre is this far (x side) from the region's centre
    recentre: float = 0.15
    #: region sides are kept within [min_frac, max_frac] x frame height
    min_frac: float = 0.08
    max_frac: float = 0.6
    #: offline: a hand found again after a gap is followed back through at most this many frames (0: not
    #: at all, as live)
    trace_back: int = 10
    #: at most one landmarker call per hand per frame: a lost hand's regions (the body's, then the
    #: fallback's) are tried on successive frames instead of in one (live: bounded time per frame)
    one_call_per_hand: bool = False
    #: where a hand followed back is lost, palm detection is tried on its region and on these
    #: multiples of its side (a small hand moving fast, or beside the other hand)
    redetect: tuple[float, ...] = (0.6, 1.25)
    #: following a hand back stops after this many frames in a row without it (the frames missed
    #: in between are gaps that :attr:`ExtractConfig.max_gap` may fill)
    back_misses: int = 5
    #: a hand the tracker loses is looked for again as a hand followed back is (:meth:`HandSearch.redetect`:
    #: palm detection around where it was last found, only a hand that continues it counting) in each
    #: of the first this many frames it stays lost, where the body's regions do not find it (0: not at
    #: all; nor with ``one_call_per_hand``, as each try costs up to three palm detections)
    redetect_lost: int = 2
    #: pixels of the square image the landmarker gets
    size: int = 256
    #: MediaPipe palm detection threshold (a new hand) and presence / tracking threshold (a followed
    #: one). Low, so a new hand counts only when a neighbouring frame finds it too (:func:`confirmed`)
    min_detection: float = 0.3
    min_tracking: float = 0.3
    #: palm detection threshold where a hand followed back is looked for again
    #: (:meth:`HandSearch.redetect`): lower still, as only a hand that continues the one followed counts
    min_redetect: float = 0.1


#: the hand searches live can run: ``live`` (the default) is a whole video's search with a bounded cost per
#: frame, so that no frame stalls the stream: a lost hand's regions are tried on successive frames (one
#: landmarker call per hand), and a hand found again is not followed back into its gap; ``full`` is a whole
#: video's search as it is (on the benchmark's clip, frames with a left / right hand 201 / 166 of 300
#: against 218 / 213, at 23 instead of 45 ms of CPU a frame; docs/live.md)
HAND_SEARCHES = {"live": SearchConfig(trace_back=0, one_call_per_hand=True), "full": SearchConfig()}


@dataclass(frozen=True)
class Region:
    """A square of the frame: top-left corner and side in full-frame pixels (may reach outside it)."""

    x0: float
    y0: float
    side: float

    @classmethod
    def around(cls, centre: np.ndarray, side: float) -> Region:
        return cls(float(centre[0]) - side / 2, float(centre[1]) - side / 2, float(side))

    @property
    def centre(self) -> np.ndarray:
        return np.array([self.x0 + self.side / 2, self.y0 + self.side / 2])

    def cut(self, frame: np.ndarray, size: int) -> np.ndarray:
        """The region resampled to ``size`` x ``size`` (bilinear); outside the frame is black.
        Pixel edges map onto pixel edges, so that :meth:`to_frame` is the exact inverse."""
        import cv2

        s = size / self.side
        matrix = np.array([[s, 0.0, s * (0.5 - self.x0) - 0.5], [0.0, s, s * (0.5 - self.y0) - 0.5]])
        return cv2.warpAffine(frame, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)

    def to_frame(self, landmarks: np.ndarray) -> np.ndarray:
        """(21, 3) landmarks normalised to the region -> full-frame pixels; z (relative to the wrist,
        in about the units of x) scales with x."""
        out = landmarks.astype(np.float64) * self.side
        out[:, 0] += self.x0
        out[:, 1] += self.y0
        return out


@dataclass
class Hand:
    """One hand found in a frame: ``landmarks`` (21, 3) full-frame pixels, ``score``, and how it was
    found: ``"tracked"`` (region of the previous frame's hand), ``"handover"`` (region of a hand
    the fallback found in the previous frame), ``"body"`` (region placed by the body: a new hand)
    or ``"fallback"``."""

    landmarks: np.ndarray
    score: float
    how: str

    @property
    def centre(self) -> np.ndarray:
        return self.landmarks[:, :2].mean(axis=0)

    @property
    def size(self) -> float:
        return float(np.ptp(self.landmarks[:, :2], axis=0).max())


def hand_cues(body: np.ndarray, anchors: HandAnchors) -> np.ndarray:
    """(..., 2, 3, 2) wrist, hand centre (mean of the wrist and hand joints that are known) and
    elbow per side of ``body`` (..., J, 2) pixels; NaN where the wrist is unknown."""
    out = np.full((*body.shape[:-2], 2, 3, 2), np.nan)
    for side in (0, 1):
        wrist = body[..., anchors.wrist[side], :]
        points = body[..., [anchors.wrist[side], *anchors.hand[side]], :]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the mean of no known joint is NaN
            centre = np.nanmean(points, axis=-2)
        known = np.isfinite(wrist).all(axis=-1, keepdims=True)
        out[..., side, WRIST, :] = wrist
        out[..., side, CENTRE, :] = np.where(known, centre, np.nan)
        out[..., side, ELBOW, :] = body[..., anchors.elbow[side], :]
    return out


def same_hand(a: np.ndarray, b: np.ndarray, tol: float = 0.5) -> bool:
    """Whether two (21, 3) landmark sets are one hand: centres closer than ``tol`` x hand size (two
    regions of different scale give one small hand visibly different landmarks)."""
    size = max(np.ptp(a[:, :2], axis=0).max(), np.ptp(b[:, :2], axis=0).max(), 1e-6)
    return bool(np.linalg.norm(a[:, :2].mean(axis=0) - b[:, :2].mean(axis=0)) < tol * size)


@dataclass
class _Slot:
    landmarker: HandLandmarker
    region: Region | None = None
    last: Hand | None = None
    last_t: int = -(10 ** 9)
    handover: Region | None = None  # where a hand found on a fallback region is to be followed
    holding: bool = False  # its landmarker found a hand in its last call, so it tracks one
    tries: int = 0  # searches for the hand since it was lost
    fallback_first: bool = False  # the fallback found it last time it was lost: try it first next time


@dataclass
class HandSearch:
    """The two hands of one person, one frame at a time (:meth:`step`); close it (or use ``with``).

    ``fps`` only spaces MediaPipe's timestamps; frames must come in increasing index order.
    """

    hand_model: str | Path
    config: SearchConfig = field(default_factory=SearchConfig)
    fps: float = 30.0

    def __post_init__(self) -> None:
        c = self.config
        self._slots = [_Slot(HandLandmarker(self.hand_model, video=True, num_hands=1, fps=self.fps,
                                            min_confidence=c.min_detection, min_tracking=c.min_tracking))
                       for _ in (0, 1)]
        self._extra: dict[str, HandLandmarker] = {}  # made when first needed (each costs ~0.1 s)
        self._back_clock = 0  # the backward tracker's own frame counter (MediaPipe needs rising timestamps)
        #: per side, the region searched in the last :meth:`step` (the first one tried), None if none
        self.regions: list[Region | None] = [None, None]

    def _landmarker(self, kind: str) -> HandLandmarker:
        """``wide``: IMAGE mode for the fallback regions; ``back``: VIDEO mode for :meth:`trace_back`;
        ``near``: IMAGE mode with the low threshold of :meth:`redetect`."""
        if kind not in self._extra:
            c = self.config
            if kind == "back":
                made = HandLandmarker(self.hand_model, video=True, num_hands=1, fps=self.fps,
                                      min_confidence=c.min_detection, min_tracking=c.min_tracking)
            else:
                made = HandLandmarker(self.hand_model, video=False, num_hands=2,
                                      min_confidence=c.min_detection if kind == "wide" else c.min_redetect)
            self._extra[kind] = made
        return self._extra[kind]

    def close(self) -> None:
        for landmarker in [slot.landmarker for slot in self._slots] + list(self._extra.values()):
            landmarker.close()

    def restart(self, fps: float) -> None:
        """Get ready for another video (frame indices from 0 again): the landmarkers are kept."""
        self.fps = fps
        for slot in self._slots:
            slot.landmarker.restart(fps)
            slot.region, slot.last, slot.last_t, slot.handover, slot.holding = None, None, -(10 ** 9), None, False
            slot.tries, slot.fallback_first = 0, False
        if "back" in self._extra:
            self._extra["back"].restart(fps)

    def __enter__(self) -> HandSearch:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------

    def step(self, frame: np.ndarray, t: int, cues: np.ndarray | None, scale: float) -> list[Hand | None]:
        """The left and right hand in ``frame`` (index ``t``), None where not found. ``cues`` (2, 3, 2)
        is where the body puts the hands (or None), ``scale`` the body's size in pixels (NaN if unknown)."""
        h = frame.shape[0]
        lo, hi = self.config.min_frac * h, self.config.max_frac * h
        searched = [self._search(frame, t, side, cues, scale, lo, hi) for side in (0, 1)]
        self.regions = [slot.region for slot in self._slots]
        found = self._assign(searched, cues, scale)
        for side in (0, 1):
            slot = self._slots[side]
            followed = slot.last is not None and slot.last_t == t - 1
            due = not followed and self._due(slot, t)
            if found[side] is None and cues is not None and self._due(slot, t) and (
                    self.config.fallback_when_lost or not followed) and self._fallback_turn(slot):
                found[side] = self._fallback(frame, side, cues, scale, lo, hi, found[1 - side])
            if found[side] is None and self._redetect_turn(slot, t):
                found[side] = self.redetect(frame, slot.last, self._side_for(slot.last, lo, hi), found[1 - side],
                                            t - slot.last_t)
                if found[side] is not None:  # the tracker takes over on a region centred on it
                    slot.handover = Region.around(found[side].centre, self._side_for(found[side], lo, hi))
            slot.tries = 0 if found[side] is not None else slot.tries + int(due)
        for side, hand in enumerate(found):
            slot = self._slots[side]
            if hand is not None:
                slot.last, slot.last_t = hand, t
                if hand.how in ("body", "fallback"):
                    slot.fallback_first = hand.how == "fallback"
                if searched[side] is not hand and hand.how != "fallback":  # by the other side's region, or re-detected
                    slot.region = Region.around(hand.centre, self._side_for(hand, lo, hi))
            elif searched[side] is not None:  # its find went to the other side
                slot.last, slot.region = None, None
        return found

    def trace_back(self, start: np.ndarray, frames: list[np.ndarray], hand: Hand, other: list[Hand | None]
                   ) -> list[Hand | None]:
        """Follow ``hand``, found in frame ``start``, backwards: ``frames`` are the frames before
        ``start``, newest first; returns the hand per frame (None where it was not found) as far as
        it can be followed: VIDEO-mode tracking, and where that loses it, palm detection at a few
        scales around where it was last seen (:meth:`redetect`); it stops after
        :attr:`SearchConfig.back_misses` frames in a row without it. A find that is ``other``'s
        hand (the other side's, per frame) does not count. For offline use: a hand that motion
        blur or the other hand hides from palm detection when it first appears is often found
        from the frame where it is clear."""
        if not frames:
            return []
        misses = self.config.back_misses
        lo, hi = self.config.min_frac * frames[0].shape[0], self.config.max_frac * frames[0].shape[0]
        self._landmarker("back").forget()  # what it tracked before
        region = Region.around(hand.centre, self._side_for(hand, lo, hi))
        self._back_tick(region.cut(start, self.config.size))  # take hold of the hand
        slot = _Slot(self._landmarker("back"), region, hand, 0)
        out: list[Hand | None] = []
        for frame, theirs in zip(frames, other, strict=False):
            region = self._follow(slot, lo, hi)
            slot.region = region
            dets = self._back_tick(region.cut(frame, self.config.size))
            reach = 1 + trailing_misses(out)  # frames since it was last seen
            hands = [Hand(region.to_frame(d.landmarks), d.score, "tracked") for d in dets]
            found = continuing(hands, slot.last, theirs, reach)
            if found is None:
                # the tracker lost it (motion blur, a hand beside another): palm detection on this
                # frame at a few scales; the tracker starts afresh
                self._landmarker("back").forget()
                found = self.redetect(frame, slot.last, self._side_for(slot.last, lo, hi), theirs, reach)
            out.append(found)
            if found is not None:
                slot.last = found
            elif trailing_misses(out) >= misses:
                break
        while out and out[-1] is None:
            out.pop()
        return out

    def redetect(self, frame: np.ndarray, last: Hand, side: float, other: Hand | None, reach: int = 1
                  ) -> Hand | None:
        """IMAGE-mode palm detection around ``last`` (the hand ``reach`` frames away) on a region of
        ``side`` and then of :attr:`SearchConfig.redetect` x ``side``: the first hand found that
        continues ``last`` (see :func:`continuing`) and is not ``other``, or None."""
        for factor in (1.0, *self.config.redetect):
            view = Region.around(last.centre, side * factor)
            dets = self._landmarker("near").detect(view.cut(frame, self.config.size))
            found = continuing([Hand(view.to_frame(d.landmarks), d.score, "tracked") for d in dets], last, other, reach)
            if found is not None:
                return found
        return None

    def _back_tick(self, image: np.ndarray) -> list:
        self._back_clock += 1
        return self._landmarker("back").detect(image, self._back_clock)


    def drop(self, side: int) -> None:
        """Stop following the hand of ``side`` found in the last :meth:`step` (it is not this
        person's): the next frame searches for it afresh."""
        slot = self._slots[side]
        slot.last, slot.region, slot.handover = None, None, None

    def lost(self, t: int) -> bool:
        """Whether a hand will be looked for where the body puts it in frame ``t`` (one side has no
        hand followed from frame ``t - 1`` and is due a search): the body's cues are needed only then."""
        return any((slot.last is None or slot.last_t != t - 1 or slot.handover is not None) and self._due(slot, t)
                   for slot in self._slots)

    def _due(self, slot: _Slot, t: int) -> bool:
        """Whether a lost hand is searched for in frame ``t``: in its first frames lost, then every
        :attr:`SearchConfig.lost_every` frames (a hand out of view for long costs a search a frame
        otherwise; the frames between are recovered by tracing a found hand back)."""
        lost_for = t - max(slot.last_t, -1) - 1  # frames in a row without this hand before this one
        return lost_for < 3 or slot.handover is not None or lost_for % self.config.lost_every == 0

    def _redetect_turn(self, slot: _Slot, t: int) -> bool:
        """Whether a hand not found in frame ``t`` is looked for again around where it was last
        found (:attr:`SearchConfig.redetect_lost`)."""
        c = self.config
        return not c.one_call_per_hand and slot.last is not None and 0 < t - slot.last_t <= c.redetect_lost

    def _fallback_turn(self, slot: _Slot) -> bool:
        """Whether the fallback regions may be searched for a lost hand in this frame: always, or
        with :attr:`SearchConfig.one_call_per_hand` every other search: the body's region first,
        unless the fallback found the hand the last time it was lost."""
        return not self.config.one_call_per_hand or (slot.tries + slot.fallback_first) % 2 == 1

    def _search(self, frame: np.ndarray, t: int, side: int, cues: np.ndarray | None, scale: float,
                lo: float, hi: float) -> Hand | None:
        slot, c = self._slots[side], self.config
        followed = slot.last is not None and slot.last_t == t - 1
        if slot.handover is not None:
            region, how = slot.handover, "handover"
        elif followed:
            region, how = self._follow(slot, lo, hi), "tracked"
        elif self._due(slot, t) and not (c.one_call_per_hand and self._fallback_turn(slot)):
            region, how = self._from_body(cues, side, c.factor, scale, lo, hi), "body"
        else:
            region, how = None, "body"
        slot.handover = None
        if region is None:
            slot.region = None
            return None
        shifted = how == "tracked" and slot.region is not None and region.side == slot.region.side
        if slot.holding and region is not slot.region and not shifted:
            # MediaPipe tracks in the image's coordinates: in a region of another size or place its
            # hand sits elsewhere. Detect afresh there. (After a small shift of the same region its
            # tracking holds, its landmarks off by a few pixels for that one frame.)
            slot.landmarker.forget()
        slot.region = region
        dets = slot.landmarker.detect(region.cut(frame, c.size), t)
        slot.holding = bool(dets)
        if not dets:
            return None
        hand = Hand(region.to_frame(dets[0].landmarks), dets[0].score, how)
        if how != "body" and np.linalg.norm(hand.centre - slot.last.centre) > max(hand.size, slot.last.size):
            hand.how = "body"  # not the hand followed: a new one, which the body's wrists assign
        return hand

    def _side_for(self, hand: Hand, lo: float, hi: float) -> float:
        return float(np.clip(self.config.hand_factor * hand.size, lo, hi))

    def _follow(self, slot: _Slot, lo: float, hi: float) -> Region:
        """The region of a hand found in the previous frame. MediaPipe's tracking holds only while
        the image under it stays put, so the region keeps its place while the hand stays near its
        centre, moves (same size) when it drifts, and is re-cut around the hand only when the
        hand's size no longer suits it."""
        hand, region = slot.last, slot.region
        if region is None:
            return Region.around(hand.centre, self._side_for(hand, lo, hi))
        ratio = self._side_for(hand, lo, hi) / region.side
        if not 0.5 < ratio < 2.0:
            return Region.around(hand.centre, self._side_for(hand, lo, hi))
        if np.abs(hand.centre - region.centre).max() / region.side > self.config.recentre:
            return Region.around(hand.centre, region.side)
        return region

    @staticmethod
    def _from_body(cues: np.ndarray | None, side: int, factor: float, scale: float, lo: float,
                   hi: float) -> Region | None:
        if cues is None or not np.isfinite(cues[side, CENTRE]).all():
            return None
        size = factor * scale if np.isfinite(scale) else hi
        return Region.around(cues[side, CENTRE], float(np.clip(size, lo, hi)))

    def _fallback(self, frame: np.ndarray, side: int, cues: np.ndarray, scale: float, lo: float,
                  hi: float, other: Hand | None) -> Hand | None:
        """Other regions (:attr:`SearchConfig.fallback`), in IMAGE mode: of the hands found there that
        are not ``other`` (the other side's), the one nearest the body's wrist, handed over to the
        tracker for the next frame."""
        centre = cues[side, CENTRE]
        if not np.isfinite(centre).all():
            return None
        elbow = cues[side, ELBOW]
        arm = (centre + elbow) / 2 if np.isfinite(elbow).all() else centre
        for factor in self.config.fallback:
            size = factor * scale if np.isfinite(scale) else hi
            at = centre if factor <= self.config.factor else arm
            region = Region.around(at, float(np.clip(size, lo, hi * 1.5)))
            self.regions[side] = self.regions[side] or region
            dets = self._landmarker("wide").detect(region.cut(frame, self.config.size))
            if not dets:
                continue
            kept = [(region.to_frame(d.landmarks), d.score) for d in dets]
            kept = [(m, sc) for m, sc in kept if other is None or not same_hand(m, other.landmarks)]
            if not kept:
                continue
            anchor = cues[side, WRIST] if np.isfinite(cues[side, WRIST]).all() else centre
            marks, score = min(kept, key=lambda ms: float(np.linalg.norm(ms[0][0, :2] - anchor)))
            hand = Hand(marks, score, "fallback")
            # the tracker takes over on the view that found the hand, centred on it: palm detection
            # works at that scale, the hand's own size may be misjudged when it is partly hidden
            self._slots[side].handover = Region.around(hand.centre, region.side)
            return hand
        return None

    def _assign(self, searched: list[Hand | None], cues: np.ndarray | None, scale: float) -> list[Hand | None]:
        """Give each found hand to a side. A hand followed from the previous frame stays with its
        side; a new one goes to the side whose wrist is nearest (the body names the sides), and
        one hand found by both regions counts once."""
        hands = [h for h in searched if h is not None]
        if len(hands) == 2 and same_hand(hands[0].landmarks, hands[1].landmarks):
            hands = [max(hands, key=lambda h: (_TRUST[h.how], h.score))]
        unit = scale if np.isfinite(scale) and scale > 0 else 1.0
        cost = np.full((len(hands), 2), np.inf)
        for k, hand in enumerate(hands):
            for side in (0, 1):
                if hand is searched[side] and (hand.how in ("tracked", "handover") or cues is None):
                    cost[k, side] = 0.0
                elif cues is not None and np.isfinite(cues[side, WRIST]).all():
                    cost[k, side] = 1.0 + np.linalg.norm(hand.landmarks[0, :2] - cues[side, WRIST]) / unit
                elif hand is searched[side]:
                    cost[k, side] = 1.0 + 1e3
        out: list[Hand | None] = [None, None]
        for k, side in best_matching(cost):
            if np.isfinite(cost[k, side]):
                out[side] = hands[k]
        return out


def trailing_misses(found: list[Hand | None]) -> int:
    """How many of the last entries of ``found`` are None."""
    n = 0
    while n < len(found) and found[-1 - n] is None:
        n += 1
    return n


def continuing(hands: list[Hand], last: Hand, other: Hand | None, reach: int = 1) -> Hand | None:
    """Of ``hands``, the one nearest ``last`` that continues it (its centre within a hand's size
    per frame of ``reach``, the frames between them; its size within a factor of :data:`_GROWTH`
    of ``last``'s) and is not ``other``; None if there is none."""
    kept = [h for h in hands if np.linalg.norm(h.centre - last.centre) <= reach * max(h.size, last.size)
            and last.size / _GROWTH <= h.size <= last.size * _GROWTH
            and (other is None or not same_hand(h.landmarks, other.landmarks))]
    return min(kept, key=lambda h: float(np.linalg.norm(h.centre - last.centre)), default=None)


def confirmed(present: np.ndarray, new: np.ndarray, centres: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """``present`` (T, 2) without the new hands (``new`` (T, 2): not followed from the previous
    frame) that no neighbouring frame confirms: a hand within one hand size (``sizes`` (T, 2)) of
    it (``centres`` (T, 2, 2)) in the frame before or after."""
    keep = present.copy()
    for t, side in zip(*np.nonzero(present & new), strict=True):
        near = [u for u in (t - 1, t + 1) if 0 <= u < len(present) and present[u, side]
                and np.linalg.norm(centres[u, side] - centres[t, side]) < sizes[t, side]]
        keep[t, side] = bool(near)
    return keep
