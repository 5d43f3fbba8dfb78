"""The people of a video, for the hand search: the bodies of an NTU skeleton file scaled to the
video, or the people the pose landmarker sees in each frame linked into tracks, sides in the
convention (:mod:`bharnet.video.sides`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bharnet.video.crops import BODY_ANCHORS
from bharnet.video.decode import VideoInfo, iter_frames
from bharnet.video.extract_config import ExtractConfig
from bharnet.video.hand_files import read_ntu_color
from bharnet.video.landmarker import PoseLandmarker
from bharnet.video.sides import is_mirrored
from bharnet.video.track import distinct_people, link_tracks, seen_frames, track_age


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


def lasting_tracks(tracks: dict[int, np.ndarray], fps: float, config: ExtractConfig = ExtractConfig()
                   ) -> dict[int, np.ndarray]:
    """The (T, 33, D) tracks (pixels first) seen, shoulders and all, in at least ``min_person_frac``
    of their T frames, or in ``steady_person_frac`` of the frames of some one-second window: on a
    video with no person the pose landmarker hallucinates short-lived ones, seen now and then; a
    person who walks in and stands against another (whom it then loses) is seen steadily a moment."""
    second = max(1, round(fps if fps and fps > 0 else 30.0))

    def lasting(seen: np.ndarray) -> bool:
        if seen.sum() >= config.min_person_frac * len(seen):
            return True
        window = min(second, len(seen))
        return bool(np.convolve(seen, np.ones(window), "valid").max() >= config.steady_person_frac * window)

    return {k: track for k, track in tracks.items() if lasting(seen_frames(track, BODY_ANCHORS["pose33"]))}


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
        per_frame = [pose_people(pose, frame, t, mirrored, config)
                     for t, frame in enumerate(iter_frames(video, config.frame_step))]
    return link_people(per_frame, info.fps, config)


def link_people(per_frame: list[list[np.ndarray]], fps: float, config: ExtractConfig = ExtractConfig()
                ) -> list[PoseTrack]:
    """The people of each frame (:func:`pose_people`) linked into tracks
    (:func:`~bharnet.video.track.link_tracks`), those seen long enough (:func:`lasting_tracks`)."""
    linked = link_tracks(per_frame, BODY_ANCHORS["pose33"], max_age=track_age(fps))
    tracks = {k: track for k, (track, _) in enumerate(linked)}
    return [as_pose_track(track, linked[k][1]) for k, track in lasting_tracks(tracks, fps, config).items()]


def bodies_from_pose(video: str | Path, pose_model: str | Path, info: VideoInfo,
                     config: ExtractConfig = ExtractConfig()) -> list[tuple[str, np.ndarray]]:
    """``(track id, (T, 33, 2) pixels)`` for each person the pose landmarker follows through the video."""
    return [(f"pose{i}", track.pixels) for i, track in enumerate(pose_tracks(video, pose_model, info, config))]
