"""How much samples vary (:class:`Variation`) and the named settings of the variation
(:data:`SYNTH_PRESETS`)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from bharnet.synth.classes import AIR_CLASSES, class_ids

__all__ = ["Variation", "SYNTH_PRESETS", "with_preset", "make_variation"]


#: named settings of :func:`bharnet.synth.generate.generate` and :func:`bharnet.synth.store.write_synth_store`
#: (explicit variation overrides them)
SYNTH_PRESETS: dict[str, dict] = {
    # Sign-language-like: every class is its own hand shape, the arm position is shared by 2-4 classes
    # (the hand-only classes whose gesture no mixed class reuses, and the mixed classes), and the body
    # is noisy: the hand expert is far stronger than the body expert, which still carries some evidence.
    # Recorded in sessions, as sign-language sets are: within a session each sign comes with a habit of
    # the free arm (how the signer stands for it) that the next session does not repeat. A body expert
    # learns the habit and is confidently wrong on a new session; the hands carry no such trace.
    "hand-dominant": {
        "classes": ("fist", "thumb_down", "count", "pinch", "point_forward", "grab_forward", "thumb_up_high",
                    "victory_high", "phone_call", "ok_by_face"),
        "body_noise": 0.08,
        "distractor": 0.5,
        "session_cue": 40.0,
    },
    # Gestures that move: one hand close to the camera (an egocentric view, a close-up), no body,
    # the same pointing hand in every class; only the path it draws through the frame tells them apart.
    "hand-only": {
        "classes": tuple(c.name for c in AIR_CLASSES),
        "second_person": 0.0,
        "distractor": 0.0,
    },
}


def with_preset(preset: str | None, variation: dict) -> dict:
    """A preset's variation (:data:`SYNTH_PRESETS`) updated with ``variation``."""
    if preset is None:
        return variation
    if preset not in SYNTH_PRESETS:
        raise ValueError(f"unknown BodyHand-Synth preset {preset!r}; known: {', '.join(SYNTH_PRESETS)}")
    return {**SYNTH_PRESETS[preset], **variation}


@dataclass(frozen=True)
class Variation:
    """How much samples vary. ``generate(..., **variation)`` overrides any field."""

    min_frames: int = 40
    max_frames: int = 100
    #: actor ids to draw from; an actor fixes body size, proportions, hand size and style
    actors: tuple[int, ...] = tuple(range(30))
    scale: tuple[float, float] = (0.85, 1.12)  # actor height factor range
    speed: float = 0.3  # spread of the log time warp
    amplitude: float = 0.25  # spread of each sample's motion amplitude
    yaw: float = 45.0  # camera yaw range, +- degrees
    pitch: tuple[float, float] = (-8.0, 15.0)
    distance: tuple[float, float] = (2.6, 4.0)  # metres from the camera
    body_noise: float = 0.035  # metres, upper end of each sample's joint-noise level
    hand_noise: float = 0.007  # image-normalised, upper end of each sample's landmark-noise level
    hand_jitter: float = 25.0  # degrees, spread of each hand's orientation around the gesture's
    dropout: float = 1.5  # mean number of detector-miss runs per hand and sample
    hand_missing: float = 0.03  # probability that a hand is never detected in a sample
    second_person: float = 0.3  # probability of a second person doing a neutral motion
    distractor: float = 0.35  # probability of an unrelated arm movement during the action
    #: degrees: the free (left) arm's class habit within a recording session, 0 for none; each session
    #: pairs the classes with the habits in its own order (see :func:`bharnet.synth.scene.session_habit`)
    session_cue: float = 0.0
    session: int = 0  # the recording session, when ``session_cue`` is set
    #: the classes to make, by name, in label order (empty: all of SYNTH_CLASSES)
    classes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 2 <= self.min_frames <= self.max_frames:
            raise ValueError(f"need 2 <= min_frames <= max_frames, got {self.min_frames}, {self.max_frames}")
        if not self.actors:
            raise ValueError("actors is empty")
        class_ids(self.classes)


def make_variation(overrides: dict) -> Variation:
    """The default :class:`Variation` with ``overrides``; ``TypeError`` naming a field that does not exist."""
    known = {f.name for f in fields(Variation)}
    unknown = set(overrides) - known
    if unknown:
        raise TypeError(f"unknown variation {sorted(unknown)}; known: {', '.join(sorted(known))}")
    if "actors" in overrides:
        overrides = {**overrides, "actors": tuple(int(a) for a in overrides["actors"])}
    if "classes" in overrides:
        overrides = {**overrides, "classes": tuple(str(c) for c in overrides["classes"])}
    return replace(Variation(), **overrides)
