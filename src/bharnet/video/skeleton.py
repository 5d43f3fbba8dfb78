"""RGB videos as skeleton sequences: the body from MediaPipe's pose landmarker, the hands from its
hand landmarker on crops around the body's wrists (:mod:`bharnet.video`).

The pose landmarker gives each of its 33 landmarks in two forms, and the body layout picks one:

- ``pose33``: the image landmarks, x and y normalised to the frame and z the landmarker's relative
  depth (what MediaPipe Holistic vectors hold);
- ``ntu25``: the metric world landmarks (origin between the hips) turned to
  Kinect's camera axes and mapped to its joints (:func:`bharnet.core.layouts.convert_layout`).

Sides are NTU's (the person's own) on every video, mirrored or not (:mod:`bharnet.video.sides`).

Every video goes through the one frame-by-frame extraction (:mod:`bharnet.video.stream`), the
same for a file and a live camera. The most active person (the most wrist motion) fills the
first person slot and gives the hands;
the others fill the remaining slots in the order they were found. Zeros, with zero confidence,
where a person is not seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bharnet.core.errors import UserError
from bharnet.core.layouts import convert_layout, get_layout
from bharnet.core.sequence import Sequence
from bharnet.video.crops import BODY_ANCHORS
from bharnet.video.decode import VideoInfo, iter_frames, probe_video
from bharnet.video.extract_config import ExtractConfig
from bharnet.video.frame_hands import finish_hands
from bharnet.video.landmarker import REUSABLE
from bharnet.video.people import as_pose_track, lasting_tracks
from bharnet.video.sides import is_mirrored
from bharnet.video.stream import PERSON_COLUMNS, StreamExtractor, StreamWindow
from bharnet.video.track import most_active, tracks_of

__all__ = ["VIDEO_BODY_LAYOUTS", "VideoSkeleton", "read_video_skeleton", "window_skeleton"]

#: body layouts a video gives
VIDEO_BODY_LAYOUTS = ("pose33", "ntu25")
#: MediaPipe's world axes (x right, y down, z away) -> Kinect's camera axes (x to the camera's
#: left, y up, z away): a half turn about the viewing axis (a rotation: the sides, put in NTU's
#: convention by the pose tracks, stay as they are)
_TO_KINECT = np.array([-1.0, -1.0, 1.0])


@dataclass
class VideoSkeleton:
    """The skeleton of one video: ``body`` (T, M, V, 3) with ``body_conf`` (T, M, V) (the pose
    landmarker's visibility), ``hands`` (T, 2, 21, 3) with ``hand_conf`` (T, 2, 21) or None when not
    asked for; ``person`` is the pose track of the first slot ("" when nobody was found);
    ``frames_with_hand`` counts the frames with a hand, detected or filled in; ``pixels`` (T, M, 33, 2)
    the pose landmarks of the same persons in frame pixels, NaN where unseen (what ST-ROI images of
    the RGB stream are cut around); ``listed_frames`` the frames a video's container lists (0: not
    a video file, or it does not say), more than T when the file is cut short."""

    body: np.ndarray
    body_conf: np.ndarray
    hands: np.ndarray | None
    hand_conf: np.ndarray | None
    person: str
    fps: float
    frames_with_hand: int = 0
    pixels: np.ndarray | None = None
    listed_frames: int = 0

    def arrays(self, frames: slice = slice(None)) -> dict[str, np.ndarray | None]:
        """The sample view's arrays (``body``, ``hands``, ``hand_conf``) of some frames."""
        return {"body": self.body[frames], "hands": None if self.hands is None else self.hands[frames],
                "hand_conf": None if self.hand_conf is None else self.hand_conf[frames]}

    def sequence(self, name: str, label: int = 0, splits: frozenset[str] = frozenset()) -> Sequence:
        return Sequence(name=name, label=label, body=self.body, body_conf=self.body_conf, hands=self.hands,
                        hand_conf=self.hand_conf, splits=splits)


def _body_of(track, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """A pose track's body ``(T, V, 3)`` in ``layout`` and its confidence ``(T, V)``; zeros in frames
    where it is not seen."""
    if layout == "pose33":
        body, conf = track.image, track.visibility
    else:
        body = convert_layout(track.world * _TO_KINECT, "pose33", layout)
        conf = convert_layout(track.visibility[..., None], "pose33", layout)[..., 0]
    return np.nan_to_num(body, nan=0.0).astype(np.float32), np.nan_to_num(conf, nan=0.0).astype(np.float32)


def read_video_skeleton(video: str | Path, pose_model: str | Path, hand_model: str | Path | None = None, *,
                        body_layout: str = "pose33", num_persons: int = 1, require_body: bool = True,
                        config: ExtractConfig | None = None) -> VideoSkeleton:
    """The body (and, with ``hand_model``, the hands) of ``video``, frame by frame as a live stream
    gives them (:class:`bharnet.video.stream.StreamExtractor`).

    Without anyone in view, ``require_body`` raises :class:`UserError`; otherwise the body is zeros
    and the hands come from whole frames (a close-up of a hand).
    """
    _check_layout(body_layout)
    config = config or ExtractConfig()
    info = probe_video(video)
    with REUSABLE.session():
        stream = StreamExtractor(pose_model, hand_model, fps=info.fps, mirrored=is_mirrored(video, config.mirrored),
                                 config=config, frames=info.frames)
        for index, frame in enumerate(iter_frames(video)):
            stream.add(frame, index)
        window = stream.window()
    skeleton = window_skeleton(window, body_layout=body_layout, num_persons=num_persons, require_body=require_body,
                               config=config, name=str(video))
    skeleton.listed_frames = info.frames
    return skeleton


def _check_layout(body_layout: str) -> None:
    if get_layout(body_layout).name not in VIDEO_BODY_LAYOUTS:
        raise UserError(f"a video gives a {' / '.join(VIDEO_BODY_LAYOUTS)} body, not {body_layout}")


def window_skeleton(window: StreamWindow, *, body_layout: str = "pose33", num_persons: int = 1,
                    require_body: bool = True, config: ExtractConfig | None = None, name: str = "the stream"
                    ) -> VideoSkeleton:
    """The skeleton of the frames of ``window`` (a whole video or a live window): the people seen
    long enough, the most active first (its hands are the ones searched), and the hands tracked,
    gap-filled and normalised. Raises :class:`UserError` (naming ``name``) when there is nothing:
    nobody (with ``require_body`` or without hands), or nobody and no hand."""
    _check_layout(body_layout)
    layout = get_layout(body_layout)
    config = config or ExtractConfig()
    frames = len(window.indices)
    tracks = [as_pose_track(t) for t in lasting_tracks(tracks_of(window.people, (33, PERSON_COLUMNS)),
                                                        window.fps, config).values()] if frames else []
    if not tracks and (require_body or window.raw is None):
        raise UserError(f"{name}: the pose landmarker finds no person")
    anchors = BODY_ANCHORS["pose33"]
    # the most active person first: its hands are the ones kept
    first = most_active([t.pixels for t in tracks], anchors) if tracks else None
    order = [first] + [i for i in range(len(tracks)) if i != first] if tracks else []
    person = f"pose{first}" if tracks else ""
    hands = None
    if window.raw is not None:
        info = VideoInfo(window.width, window.height, window.fps, frames)
        hands = finish_hands(window.raw, info, "pose" if tracks else "frame", person, config)
        if not tracks and hands.frames_with_hand == 0:
            raise UserError(f"{name}: no person and no hand found")
    body = np.zeros((frames, num_persons, layout.num_joints, 3), np.float32)
    body_conf = np.zeros((frames, num_persons, layout.num_joints), np.float32)
    pixels = np.full((frames, num_persons, 33, 2), np.nan)
    for slot, i in enumerate(order[:num_persons]):
        body[:, slot], body_conf[:, slot] = _body_of(tracks[i], layout.name)
        pixels[:, slot] = tracks[i].pixels
    if hands is None:
        return VideoSkeleton(body, body_conf, None, None, person, window.fps, pixels=pixels)
    return VideoSkeleton(body, body_conf, hands.keypoints, hands.landmark_conf, person, window.fps,
                         hands.frames_with_hand, pixels)
