"""BodyHand-Synth: a procedural body + two-hand skeleton dataset, made on the fly.

Every sample is an actor (a kinematic NTU-25 body: :mod:`.body`, moving by :mod:`.motions`) seen by
a Kinect-like camera (:mod:`.camera`), plus the actor's two hands as a MediaPipe-like hand
detector would report them (21 landmarks per hand, x and y normalised to the image, z relative
to the wrist). The hands sit where the body's wrists project through a pinhole camera, so they
move with the arms; their shape comes from a finger model (:mod:`.hand`). The classes and their
groups are in :mod:`.classes`, how samples vary in :mod:`.variation`."""

from __future__ import annotations

from collections.abc import Iterator

from bharnet.core.sequence import Sequence
from bharnet.synth.air import generate_air_batch
from bharnet.synth.batch import Batch
from bharnet.synth.classes import CLASSES_BY_ID, SynthClass, named_classes
from bharnet.synth.scene import generate_body_batch
from bharnet.synth.variation import Variation, make_variation, with_preset

__all__ = ["generate", "generate_batch"]


def generate_batch(class_id: int | SynthClass, n: int, key: tuple[int, ...], var: Variation) -> Batch:
    """``n`` samples of one class from the random ``key``. ``class_id``: an id of
    :data:`bharnet.synth.classes.CLASSES_BY_ID` or a class."""
    cls = CLASSES_BY_ID[class_id] if isinstance(class_id, int) else class_id
    if cls.group == "air":
        return generate_air_batch(cls, n, key, var)
    return generate_body_batch(cls, n, key, var)


def generate(num_samples: int, seed: int = 0, *, batch_per_class: int = 32, prefix: str = "synth",
             preset: str | None = None, synth_classes: tuple[SynthClass, ...] | None = None,
             **variation) -> Iterator[Sequence]:
    """Yield ``num_samples`` BodyHand-Synth samples, balanced over classes (sample ``i`` has label
    ``i % number of classes``), the same for the same arguments.

    ``variation`` overrides fields of :class:`bharnet.synth.variation.Variation` (frame range, actors,
    noise, camera, the subset of classes, ...), on top of the named ``preset``
    (:data:`bharnet.synth.variation.SYNTH_PRESETS`) when one is given.
    Samples are made per class in batches of ``batch_per_class``. ``synth_classes``: the classes
    themselves instead (e.g. with the object classes of :mod:`bharnet.synth.objects`), in label order.
    """
    var = make_variation(with_preset(preset, variation))
    chosen = named_classes(var.classes) if synth_classes is None else list(synth_classes)
    # a class's random key is its id by name (the same data whatever the subset), else 100+
    ids = [CLASSES_BY_ID.index(c) if c in CLASSES_BY_ID else 100 + j for j, c in enumerate(chosen)]
    num_classes = len(ids)
    per_block = min(batch_per_class, max(1, -(-num_samples // num_classes)))
    block = 0
    produced = 0
    while produced < num_samples:
        batches = [generate_batch(cls, per_block, (seed, block, c), var) for c, cls in zip(ids, chosen, strict=True)]
        for k in range(per_block):
            for label, (cls, b) in enumerate(zip(chosen, batches, strict=True)):
                if produced >= num_samples:
                    return
                t = int(b.frames[k])
                yield Sequence(name=f"{prefix}_{seed}_{produced:06d}_{cls.name}", label=label,
                               body=b.body[k, :t], hands=b.hands[k, :t], hand_conf=b.hand_conf[k, :t])
                produced += 1
        block += 1
