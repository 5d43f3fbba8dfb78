"""The settings of a hand extraction (:class:`ExtractConfig`), shared by every path that finds
hands: a whole video (:mod:`bharnet.video.hands`), many videos (:mod:`bharnet.video.hands_batch`),
a stream (:mod:`bharnet.video.stream`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bharnet.video.search import SearchConfig


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
    #: ... unless seen in this fraction of the frames of some one-second window (the people it
    #: hallucinates come and go: at most 14 of 30 frames on cup.mp4 and arm_wrestling.mp4; a person
    #: who walks in and then stands against another, whom it loses, is seen in 29)
    steady_person_frac: float = 0.8
    #: with a skeleton file, the pose landmarker runs on the person's box to place the hands' regions
    #: in frames where a hand is lost, at most every this many frames (0: never; the skeleton alone)
    pose_every: int = 3
    #: the person whose hands are searched is the most active one of the last this many seconds
    #: (frame by frame, as a live stream must: :mod:`bharnet.video.stream`)
    follow_seconds: float = 10.0
    #: hands of this many people, the most active first (``extract-hands --people``); the paper keeps
    #: the most active person's
    people: int = 1
    #: hands (and people, without a skeleton) are looked for in every this-many-th frame and
    #: interpolated between (NTU's models resample each clip to 64 frames anyway): about this many
    #: times fewer landmark runs (docs/hands.md, "Frame step")
    frame_step: int = 1
    #: whether the videos are mirror images (None: NTU RGB+D videos are, others are not); see
    #: :mod:`bharnet.video.sides`
    mirrored: bool | None = None
