"""Where a person's hands are, frame by frame, for the hand search: :class:`BodyGuide` reads it
from a whole body track known in advance, :class:`SkeletonPoseGuide` from a Kinect skeleton
corrected by the pose landmarker run on the person's box."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bharnet.video.crops import BODY_ANCHORS, HandAnchors, body_scale
from bharnet.video.decode import VideoInfo
from bharnet.video.extract_config import ExtractConfig
from bharnet.video.landmarker import REUSABLE, PoseLandmarker
from bharnet.video.search import CENTRE, WRIST, hand_cues
from bharnet.video.sides import NTU_PAIRS, POSE_PAIRS, side_margin
from bharnet.video.track import shoulder_centres

#: pixels of the longer side of the person's box given to the pose landmarker
POSE_INPUT = 384


class BodyGuide:
    """Where a person's hands are, frame by frame, for the hand search: ``cues(t, frame)`` gives
    (2, 3, 2) wrist, hand centre and elbow per side in the convention (NaN where unknown) or None,
    ``scale`` the person's size in pixels. This one reads them from a whole track known in advance.
    ``others`` (T, K, 2, 2): the wrists of the other people in view (NaN where unseen), whose hands
    are not this person's (:meth:`foreign`); ``placed`` (T, 2) bool: the frames where this person's
    wrist (left, right) is placed rather than seen (filled between the frames where it is);
    ``centre`` (T, 2): the body's shoulder centre, which a placed wrist's hand moves with
    (:meth:`with_hands_found`)."""

    def __init__(self, cues: np.ndarray, scale: float, others: np.ndarray | None = None,
                 placed: np.ndarray | None = None, centre: np.ndarray | None = None) -> None:
        self._cues, self.scale, self._others, self._placed, self._centre = cues, scale, others, placed, centre

    @classmethod
    def of_body(cls, body: np.ndarray, anchors: HandAnchors, others: list[np.ndarray] = (),
                seen: np.ndarray | None = None) -> BodyGuide:
        """From a (T, J, 2) body in the layout of ``anchors`` (pixels, NaN where unseen); ``others``
        the other people's bodies in the same layout; ``seen`` the body as seen, before any filling
        (None: ``body`` is)."""
        seen = body if seen is None else seen
        placed = ~np.isfinite(seen[:, list(anchors.wrist)]).all(axis=-1)
        centre = shoulder_centres(body, anchors)
        return cls(hand_cues(body, anchors), body_scale(body, anchors), other_wrists(others, anchors), placed,
                   centre)

    def with_hands_found(self, t: int, cues: np.ndarray | None, found: list[tuple[int, np.ndarray] | None]
                         ) -> np.ndarray | None:
        """``cues`` of frame ``t`` with each wrist that is placed, not seen, put where that hand was
        last found (``found``: per side, the frame and its (2, 2) wrist and centre, or None) moved
        as the body's shoulders moved since. A placed wrist is a line drawn between the frames where
        the pose model sees it (it loses a hanging arm over another person's body); the hand found
        a moment ago says better where it is. The hand is still no evidence against another
        person's (:meth:`foreign` takes the wrist as placed): the one found a moment ago may be
        theirs."""
        if cues is None or self._placed is None or self._centre is None or t >= len(self._placed):
            return cues
        out = cues
        for side, last in enumerate(found):
            if last is None or not self._placed[t, side]:
                continue
            shift = self._centre[t] - self._centre[last[0]]
            if np.isfinite(shift).all():
                out = out.copy() if out is cues else out
                out[side, WRIST], out[side, CENTRE] = last[1] + shift
        return out

    def foreign(self, t: int, wrist: np.ndarray, side: int, cues: np.ndarray | None) -> bool:
        """Whether a hand whose wrist is at ``wrist`` (pixels) in frame ``t`` is another person's: its
        wrist within half this person's size of another person's wrist, and less than half as far
        from it as from this person's wrist on ``side`` (from ``cues``; when this person's wrist is
        not seen, only placed, any hand at another's wrist is theirs). Two people in contact put
        their hands close; the one kept is often hidden behind the other, and a search around where
        they were finds the other's."""
        if self._others is None or t >= len(self._others) or not np.isfinite(self.scale):
            return False
        theirs = self._others[t].reshape(-1, 2)
        theirs = theirs[np.isfinite(theirs).all(axis=-1)]
        if not len(theirs):
            return False
        near = float(np.linalg.norm(theirs - wrist, axis=-1).min())
        own = cues[side, WRIST] if cues is not None else np.full(2, np.nan)
        if self._placed is not None and t < len(self._placed) and self._placed[t, side]:
            own = np.full(2, np.nan)
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
