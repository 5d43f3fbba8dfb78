"""Hands of one video, end to end: locate the body (:mod:`bharnet.video.people`), pick the most
active person, run the hand landmarker on crops around that person's hands
(:mod:`bharnet.video.frame_hands`, guided by :mod:`bharnet.video.body_guide`), assign left/right by
the body's wrists, track, interpolate short gaps. :func:`extract_hands` does one video; many
videos: :mod:`bharnet.video.hands_batch`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from bharnet.core.errors import UserError
from bharnet.video.body_guide import BodyGuide, SkeletonPoseGuide
from bharnet.video.crops import BODY_ANCHORS, HandAnchors
from bharnet.video.decode import VideoInfo, probe_video
from bharnet.video.extract_config import ExtractConfig
from bharnet.video.frame_hands import at_full_rate, detect_frames, every_step, finish_hands
from bharnet.video.hand_files import HandTrack
from bharnet.video.landmarker import REUSABLE
from bharnet.video.people import bodies_from_skeleton, pose_tracks
from bharnet.video.track import by_activity, fill_body_gaps, place_hidden


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
    step = config.frame_step
    with REUSABLE.session():
        REUSABLE.new_video()
        if step == 1:
            return _extract(video, info, hand_model, skeleton, pose_model, config)
        tracks = _extract(video, every_step(info, step), hand_model, skeleton, pose_model, config)
        return [at_full_rate(track, step, info.frames) for track in tracks]


def _extract(video: str | Path, info: VideoInfo, hand_model: str | Path, skeleton: str | Path | None,
             pose_model: str | Path | None, config: ExtractConfig) -> list[HandTrack]:
    hidden: list[np.ndarray | None] = []
    if skeleton is not None:
        bodies = [(body_id, xy[::config.frame_step]) for body_id, xy in bodies_from_skeleton(skeleton, info, config)]
        source, anchors = "skeleton", BODY_ANCHORS["ntu25"]
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
    placed = [_placed_body(b, hidden[k] if hidden else None, source, info, config) for k, (_, b) in enumerate(bodies)]
    tracks = []
    for kept in by_activity([b for _, b in bodies], anchors)[:max(1, config.people)]:
        REUSABLE.new_video()
        others = [b for k, b in enumerate(placed) if k != kept]
        tracks.append(_person_hands(video, info, hand_model, pose_model, config, bodies[kept], placed[kept], others,
                                    source, anchors))
    return tracks


def _placed_body(body: np.ndarray, hidden: np.ndarray | None, source: str, info: VideoInfo,
                 config: ExtractConfig) -> np.ndarray:
    """A person's body where the pose landmarker over a whole video does not see them: placed
    between where they went behind another person and came out, held where last seen when they
    stay behind them to the end (two people in contact: the pose model, seeing one body where two
    overlap, may never see the one behind again while they stand there), and where the pose model
    loses them a moment, placed between. Both for the person whose hands are searched (where to
    look) and for the others (whose hands are not theirs)."""
    if source != "pose":
        return body
    if hidden is not None:
        body = place_hidden(body, hidden, BODY_ANCHORS["pose33"])
    return fill_body_gaps(body, round(config.body_gap_seconds * info.fps))


def _person_hands(video: str | Path, info: VideoInfo, hand_model: str | Path, pose_model: str | Path | None,
                  config: ExtractConfig, seen: tuple[str, np.ndarray], person: np.ndarray, others: list[np.ndarray],
                  source: str, anchors: HandAnchors) -> HandTrack:
    """The hands of ``person`` (as searched; ``seen``: its id and body as seen); ``others`` the
    other people's bodies, whose hands are not this person's."""
    person_id = seen[0]
    if source == "skeleton" and pose_model is not None and config.pose_every > 0:
        guide: BodyGuide = SkeletonPoseGuide(person, pose_model, info, config, others)
    else:
        guide = BodyGuide.of_body(person, anchors, others, seen[1])
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
        raw = detect_frames(video, info, hand_model, config, guide)
    finally:
        if guide is not None:
            guide.close()
    track = finish_hands(raw, info, source, person_id, config)
    if guide is None and track.frames_with_hand == 0:
        raise UserError(f"{video}: no person and no hand found")
    return track
