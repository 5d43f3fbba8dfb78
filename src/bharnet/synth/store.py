"""BodyHand-Synth into a store (:mod:`bharnet.synth.generate` generates it)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np

from bharnet.core.interrupts import ignore_interrupts
from bharnet.core.machine import usable_cores
from bharnet.core.sequence import Sequence
from bharnet.store.packed import SkeletonStore, StoreWriter
from bharnet.store.rgb import has_rois, write_rois
from bharnet.synth.classes import SynthClass, class_groups, named_classes
from bharnet.synth.generate import generate
from bharnet.synth.objects import RGB_CLASSES
from bharnet.synth.render import FRAME_H, FRAME_W, SYNTH_ROI, render_st_roi
from bharnet.synth.variation import with_preset
from bharnet.video.st_roi import RoiConfig

__all__ = ["write_synth_store", "write_synth_rgb_store"]

_ROI_CHUNK = 64  # ST-ROI images a worker renders per task: a few tasks per core, little pickling


def write_synth_store(out_dir: str | Path, num_samples: int = 6000, seed: int = 0, val_fraction: float = 0.15,
                      test_fraction: float = 0.2, preset: str | None = None,
                      synth_classes: tuple[SynthClass, ...] | None = None, **variation) -> Path:
    """Write a BodyHand-Synth store with splits ``train``, ``val`` and ``test``.

    Train and val come from one set of actors, test from other actors and another random stream;
    every split is balanced over classes. ``preset`` and ``variation`` as
    :func:`bharnet.synth.generate.generate`. Returns the store's path.
    """
    variation = with_preset(preset, variation)
    chosen = named_classes(tuple(variation.get("classes", ()))) if synth_classes is None \
        else list(synth_classes)
    names = [c.name for c in chosen]
    groups = dict.fromkeys(("body", "hand", "mixed", *(c.group for c in chosen)))
    if not (0 <= val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(f"bad split fractions: val {val_fraction}, test {test_fraction}")
    actors = tuple(variation.pop("actors", range(40)))
    if len(actors) < 2:
        raise ValueError("need at least two actors (train and test use different ones)")
    n_test_actors = max(1, round(len(actors) * 0.25))
    train_actors, test_actors = actors[:-n_test_actors], actors[-n_test_actors:]
    num_classes = len(names)
    n_test = int(round(num_samples * test_fraction))
    n_trainval = num_samples - n_test
    n_val_per_class = int(round(n_trainval * val_fraction / num_classes))
    out = Path(out_dir)
    group_ids = (class_groups(tuple(names)) if synth_classes is None
                 else {g: [i for i, c in enumerate(chosen) if c.group == g] for g in groups})
    source = {"generator": "bodyhand-synth", "seed": seed, "class_groups": group_ids,
              "num_samples": num_samples, "preset": preset, "train_actors": list(train_actors),
              "test_actors": list(test_actors)}
    with StoreWriter(out, body_layout="ntu25", num_persons=2, arrays=("hands",), classes=names,
                     source=source) as writer:
        for seq, split in _train_and_val(n_trainval, n_val_per_class, num_classes, seed, train_actors,
                                         synth_classes, variation):
            seq.splits = frozenset({split})
            _add(writer, seq)
        # the test stream: seed offset far away, so its random streams share nothing with train's
        for seq in generate(n_test, seed + 1_000_003, prefix="test", actors=test_actors,
                            synth_classes=synth_classes, **{**variation, "session": 2}):
            seq.splits = frozenset({"test"})
            _add(writer, seq)
    return out


def _train_and_val(num_samples: int, val_per_class: int, num_classes: int, seed: int, actors: tuple[int, ...],
                   synth_classes: tuple[SynthClass, ...] | None, variation: dict) -> Iterator[tuple[Sequence, str]]:
    """Train and val samples of the train actors. Val is the first samples of each class of one
    stream, unless sessions leave a trace (``session_cue``): then val is recorded in a session of
    its own, so that it shows what a new session does to each expert, as the test does."""
    if not variation.get("session_cue"):  # labels cycle through the classes
        for i, seq in enumerate(generate(num_samples, seed, prefix="trainval", actors=actors,
                                         synth_classes=synth_classes, **variation)):
            yield seq, "val" if i // num_classes < val_per_class else "train"
        return
    num_val = val_per_class * num_classes
    for seq in generate(num_samples - num_val, seed, prefix="train", actors=actors, synth_classes=synth_classes,
                        **{**variation, "session": 0}):
        yield seq, "train"
    for seq in generate(num_val, seed + 2_000_003, prefix="val", actors=actors, synth_classes=synth_classes,
                        **{**variation, "session": 1}):
        yield seq, "val"


def _add(writer: StoreWriter, seq: Sequence) -> None:
    # generation is deterministic, so an interrupted write resumes by skipping what is done
    if seq.name not in writer.done_sources:
        writer.add(seq)
        writer.source_done(seq.name)


def write_synth_rgb_store(out_dir: str | Path, num_samples: int = 6000, seed: int = 0,
                          classes: tuple[SynthClass, ...] = RGB_CLASSES, roi: RoiConfig = SYNTH_ROI,
                          preset: str | None = None, **variation) -> Path:
    """A BodyHand-Synth store (:func:`write_synth_store`) of ``classes`` (default: every class and the
    object classes) with an ST-ROI image per sample rendered from its skeletons (``rgb_roi.npy``)."""
    out = write_synth_store(out_dir, num_samples, seed, preset=preset, synth_classes=classes, **variation)
    if has_rois(out):
        return out
    names = SkeletonStore(out).names
    images = _rendered_rois(out, seed, classes, roi, len(names))
    write_rois(out, names, lambda i, name: next(images), roi.size,
               source={"renderer": "bodyhand-synth", "frame": [FRAME_W, FRAME_H]})
    return out


def _rendered_rois(store: Path, seed: int, classes: tuple[SynthClass, ...], roi: RoiConfig,
                   count: int) -> Iterator[np.ndarray]:
    """Every sample's ST-ROI image in order, rendered on every usable core (each sample draws from
    its own random stream, so the images do not depend on how the work is shared)."""
    chunks = [range(start, min(start + _ROI_CHUNK, count)) for start in range(0, count, _ROI_CHUNK)]
    workers = min(usable_cores(), len(chunks))
    if workers <= 1:
        for chunk in chunks:
            yield from _render_chunk(store, seed, classes, roi, chunk)
        return
    executor = ProcessPoolExecutor(max_workers=workers, initializer=ignore_interrupts)
    try:
        for images in executor.map(partial(_render_chunk, store, seed, classes, roi), chunks):
            yield from images
    finally:
        executor.shutdown(cancel_futures=True)


def _render_chunk(store: Path, seed: int, classes: tuple[SynthClass, ...], roi: RoiConfig,
                  indices: range) -> list[np.ndarray]:
    data = SkeletonStore(store)
    return [render_st_roi(data[i], classes[int(data.labels[i])], np.random.default_rng([seed, i, 0xC010]), roi)
            for i in indices]
