"""The classes of BodyHand-Synth. Each is a body motion of the main actor and a gesture of the
right hand; they come in three groups:

- ``body``: differ only in body motion; the hands hold articulations drawn from one common
  distribution, the same for every class of the group;
- ``hand``: one common arm movement (raise the right hand in front of the chest), differing
  only in finger articulation;
- ``mixed``: pairs that share an arm movement and differ in hand shape, where each hand shape is
  also that of a ``hand`` class shown with another arm movement: only body and hand together
  tell them apart.

The hand-only classes (group ``air``) are asked for by name; the object classes are in
:mod:`bharnet.synth.objects`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SynthClass", "SYNTH_CLASSES", "AIR_CLASSES", "CLASSES_BY_ID", "class_groups", "class_ids", "named_classes"]


@dataclass(frozen=True)
class SynthClass:
    """One class: a body motion of the main actor and a gesture of the right hand (``None``: the common
    relaxed hands)."""

    name: str
    group: str
    motion: str
    gesture: str | None = None


def _build_classes() -> tuple[SynthClass, ...]:
    body = [SynthClass(m if m != "raise_both" else "raise_both_arms", "body", m) for m in
            ("wave", "punch", "squat", "kick", "jump", "bow", "walk", "raise_both", "clap", "arm_circles")]
    hand = [SynthClass(f"{g}_sign" if g in ("ok", "victory") else g, "hand", "chest", g) for g in
            ("ok", "victory", "thumb_up", "thumb_down", "fist", "point", "call_me", "count", "grasp", "pinch")]
    mixed = [SynthClass("point_forward", "mixed", "reach", "point"),
             SynthClass("grab_forward", "mixed", "reach", "grasp"),
             SynthClass("thumb_up_high", "mixed", "overhead", "thumb_up"),
             SynthClass("victory_high", "mixed", "overhead", "victory"),
             SynthClass("phone_call", "mixed", "ear", "call_me"), SynthClass("ok_by_face", "mixed", "ear", "ok")]
    return tuple(body + hand + mixed)


#: every class, in label order
SYNTH_CLASSES: tuple[SynthClass, ...] = _build_classes()
#: hand-only classes (group ``air``, the ``hand-only`` preset): one hand seen close up, no body, the
#: index pointing in every class; the class is the path the hand draws (``motion``, see
#: :data:`bharnet.synth.air.AIR_PATHS`)
AIR_CLASSES: tuple[SynthClass, ...] = tuple(
    SynthClass(name, "air", path, "point") for name, path in (
        ("draw_circle", "circle"), ("draw_star", "star"), ("draw_tick", "tick"), ("swipe_left", "left"),
        ("swipe_right", "right"), ("swipe_down", "down"), ("tap_forward", "tap")))
#: the classes a name may ask for, by id: the default set, then the hand-only ones
CLASSES_BY_ID: tuple[SynthClass, ...] = SYNTH_CLASSES + AIR_CLASSES


def class_groups(classes: tuple[str, ...] = ()) -> dict[str, list[int]]:
    """Class ids per group: ``{"body": [...], "hand": [...], "mixed": [...]}``; of the labels of a
    subset ``classes`` (names, in label order) when one is given."""
    chosen = named_classes(classes)
    groups = ("body", "hand", "mixed") + (("air",) if any(c.group == "air" for c in chosen) else ())
    return {g: [i for i, c in enumerate(chosen) if c.group == g] for g in groups}


def class_ids(classes: tuple[str, ...] = ()) -> list[int]:
    """Ids of a subset given by names (empty: every class of SYNTH_CLASSES); the hand-only
    classes follow SYNTH_CLASSES' ids."""
    if not classes:
        return list(range(len(SYNTH_CLASSES)))
    ids = {c.name: i for i, c in enumerate(CLASSES_BY_ID)}
    unknown = [c for c in classes if c not in ids]
    if unknown:
        raise ValueError(f"unknown BodyHand-Synth classes {unknown}; known: {', '.join(ids)}")
    if len(set(classes)) != len(classes):
        raise ValueError(f"repeated class in {list(classes)}")
    return [ids[c] for c in classes]


def named_classes(classes: tuple[str, ...] = ()) -> list[SynthClass]:
    """The classes of a subset given by names (empty: SYNTH_CLASSES), in that order."""
    return [CLASSES_BY_ID[i] for i in class_ids(classes)]
