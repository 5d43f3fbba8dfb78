"""BodyHand-Synth's object classes: pairs that move exactly alike and differ only in a held object.

=================  ==================  ============  =================================
class              motion              gesture       object
=================  ==================  ============  =================================
``hold_red_cup``   reach forward       fist          a red cup
``hold_blue_cup``  reach forward       fist          a blue cup (colour alone differs)
``raise_ball``     right hand overhead fist          a yellow ball
``raise_box``      right hand overhead fist          a yellow box (shape alone differs)
=================  ==================  ============  =================================

The two classes of a pair share motion and gesture, so their skeletons come from the same
distribution: a skeleton model can do no better than chance within a pair. Only the rendered
frames (:mod:`bharnet.synth.render`) show the object.
"""

from __future__ import annotations

from collections.abc import Sequence

from bharnet.synth.classes import SYNTH_CLASSES, SynthClass

__all__ = ["OBJECT_CLASSES", "OBJECTS", "RGB_CLASSES", "select_classes"]

OBJECT_CLASSES = (SynthClass("hold_red_cup", "object", "reach", "fist"),
                  SynthClass("hold_blue_cup", "object", "reach", "fist"),
                  SynthClass("raise_ball", "object", "overhead", "fist"),
                  SynthClass("raise_box", "object", "overhead", "fist"))
#: class name -> (shape, RGB colour, width and height in metres)
OBJECTS = {"hold_red_cup": ("cup", (215, 35, 35), (0.09, 0.13)),
           "hold_blue_cup": ("cup", (35, 70, 215), (0.09, 0.13)),
           "raise_ball": ("ball", (230, 200, 40), (0.14, 0.14)),
           "raise_box": ("box", (230, 200, 40), (0.14, 0.14))}
#: every class of the colour data set: BodyHand-Synth's and the object classes
RGB_CLASSES = SYNTH_CLASSES + OBJECT_CLASSES


def select_classes(names: Sequence[str] | None = None) -> tuple[SynthClass, ...]:
    """The classes named (in :data:`RGB_CLASSES` order), or all of them."""
    if not names:
        return RGB_CLASSES
    known = {c.name for c in RGB_CLASSES}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValueError(f"unknown BodyHand-Synth classes {unknown}; known: {', '.join(sorted(known))}")
    return tuple(c for c in RGB_CLASSES if c.name in set(names))
