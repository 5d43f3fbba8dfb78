"""BodyHand-Synth: determinism, shapes, balance, groups, splits, and what each stream may reveal."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from bharnet.core.layouts import NTU25
from bharnet.store.packed import SkeletonStore
from bharnet.synth.classes import AIR_CLASSES, SYNTH_CLASSES, class_groups
from bharnet.synth.generate import generate, generate_batch
from bharnet.synth.scene import session_habit
from bharnet.synth.store import write_synth_store
from bharnet.synth.variation import Variation

C = len(SYNTH_CLASSES)
CLEAN = Variation(body_noise=0.0, hand_noise=0.0, dropout=0.0, hand_missing=0.0, second_person=0.0)


def _ids(group: str) -> list[int]:
    return class_groups()[group]


def test_same_seed_same_samples_other_seed_other_samples():
    a = list(generate(C, seed=3))
    b = list(generate(C, seed=3))
    c = list(generate(C, seed=4))
    for x, y in zip(a, b, strict=True):
        assert x.name == y.name and x.label == y.label
        np.testing.assert_array_equal(x.body, y.body)
        np.testing.assert_array_equal(x.hands, y.hands)
        np.testing.assert_array_equal(x.hand_conf, y.hand_conf)
    assert any(x.body.shape != z.body.shape or not np.array_equal(x.body, z.body) for x, z in zip(a, c, strict=True))


def test_shapes_dtypes_and_ranges():
    for seq in generate(2 * C, seed=1, min_frames=40, max_frames=100):
        t = seq.num_frames
        assert 40 <= t <= 100
        seq.validate(num_persons=2, num_joints=25, channels=3)
        assert seq.body.dtype == seq.hands.dtype == seq.hand_conf.dtype == np.float32
        assert seq.hands.shape == (t, 2, 21, 3) and seq.hand_conf.shape == (t, 2, 21)
        assert set(np.unique(seq.hand_conf)) <= {0.0, 1.0}
        seen = seq.hand_conf > 0
        assert (seq.hands[seen][:, :2] >= 0).all() and (seq.hands[seen][:, :2] <= 1).all()
        assert (seq.hands[~seen] == 0).all()
        # the wrist is the origin of the hand's z; the hand spans a few centimetres of image
        assert np.allclose(seq.hands[..., 0, 2][seen[..., 0]], 0.0)
        # the main actor stands a few metres in front of the camera (Kinect camera space)
        assert 1.5 < np.median(seq.body[:, 0, :, 2]) < 5.5


def test_classes_balanced_and_groups_cover_every_class_once():
    labels = Counter(seq.label for seq in generate(3 * C, seed=0))
    assert labels == {c: 3 for c in range(C)}
    groups = class_groups()
    ids = sorted(i for g in groups.values() for i in g)
    assert ids == list(range(C))
    assert all(len(groups[g]) >= 5 for g in ("body", "hand", "mixed"))
    assert len({c.name for c in SYNTH_CLASSES}) == C
    assert [SYNTH_CLASSES[i].group for i in groups["hand"]] == ["hand"] * len(groups["hand"])


def test_bones_keep_their_length_over_time():
    """A kinematic body: without noise every bone keeps its length through the motion."""
    for cid in (_ids("body")[:4]):
        body = generate_batch(cid, 3, (7, 0, cid), CLEAN).body[:, :40, 0]
        for child, parent in NTU25.edges:
            length = np.linalg.norm(body[:, :, child] - body[:, :, parent], axis=-1)
            assert np.allclose(length, length[:, :1], atol=1e-4), (SYNTH_CLASSES[cid].name, child, parent)


def test_body_is_blind_to_the_fingers():
    """Hand-only classes (and mixed pairs sharing an arm motion) give identical bodies, NTU hand
    joints included, for the same random key; only the hands differ."""
    var = Variation()
    hand = _ids("hand")
    batches = [generate_batch(c, 4, (5, 0, 0), var) for c in hand[:4]]
    for other in batches[1:]:
        np.testing.assert_array_equal(batches[0].body, other.body)
        seen = (batches[0].hand_conf[..., 0] > 0) & (other.hand_conf[..., 0] > 0)
        assert not np.allclose(batches[0].hands[seen], other.hands[seen])
    by_motion: dict[str, list[int]] = {}
    for c in _ids("mixed"):
        by_motion.setdefault(SYNTH_CLASSES[c].motion, []).append(c)
    for pair in by_motion.values():
        a, b = (generate_batch(c, 2, (6, 1, 1), var) for c in pair)
        np.testing.assert_array_equal(a.body, b.body)


def test_body_classes_share_the_hand_distribution():
    """Body-only classes draw hands from one distribution: same key, same finger articulation."""
    a, b = (generate_batch(c, 3, (8, 0, 0), CLEAN) for c in _ids("body")[:2])
    # wrist-centred and palm-size-scaled (as the pipeline normalises hands) they are the same hands:
    # the arm's motion moves the hand in the image and changes its size, nothing else
    def normalised(x: np.ndarray) -> np.ndarray:
        rel = x - x[..., :1, :]
        return rel / np.linalg.norm(rel[..., 9:10, :2], axis=-1, keepdims=True).clip(1e-9)

    seen = (a.hand_conf[..., 0] > 0) & (b.hand_conf[..., 0] > 0)
    assert seen.mean() > 0.9
    np.testing.assert_allclose(normalised(a.hands)[seen], normalised(b.hands)[seen], atol=1e-3)


def test_detector_misses_are_runs_with_confidence_zero():
    seqs = list(generate(C, seed=2, dropout=3.0))
    conf = np.concatenate([s.hand_conf for s in seqs])
    assert 0 < (conf == 0).mean() < 0.8
    # a miss drops the whole hand, never single landmarks
    assert (conf.min(-1) == conf.max(-1)).all()
    never = list(generate(4, seed=2, hand_missing=1.0))
    assert all((s.hand_conf == 0).all() and (s.hands == 0).all() for s in never)


def test_second_person_appears_when_asked():
    alone = list(generate(C, seed=0, second_person=0.0))
    crowd = list(generate(C, seed=0, second_person=1.0))
    assert all((s.body[:, 1] == 0).all() for s in alone)
    assert all((s.body[:, 1] != 0).any(axis=(-1, -2)).all() for s in crowd)


def test_unknown_variation_is_refused():
    with pytest.raises(TypeError, match="unknown variation"):
        next(generate(1, noise_level=3))
    with pytest.raises(ValueError):
        next(generate(1, min_frames=50, max_frames=40))


def test_store_splits_are_disjoint_stratified_and_test_uses_other_actors(tmp_path):
    path = write_synth_store(tmp_path / "synth", num_samples=10 * C, seed=1, val_fraction=0.2, test_fraction=0.3)
    store = SkeletonStore(path)
    assert len(store) == 10 * C
    assert store.classes == [c.name for c in SYNTH_CLASSES]
    assert store.body_layout == "ntu25" and store.has("hands") and store.has("hand_conf")
    source = store.meta["source"]
    assert source["generator"] == "bodyhand-synth" and source["seed"] == 1
    assert source["class_groups"] == class_groups()
    assert not set(source["train_actors"]) & set(source["test_actors"])
    parts = {s: set(store.split(s).tolist()) for s in ("train", "val", "test")}
    assert not parts["train"] & parts["val"] and not parts["train"] & parts["test"] and not parts["val"] & parts["test"]
    assert parts["train"] | parts["val"] | parts["test"] == set(range(len(store)))
    for s, idx in parts.items():
        counts = Counter(store.labels[sorted(idx)].tolist())
        assert set(counts) == set(range(C)), s
        assert max(counts.values()) - min(counts.values()) <= 1, s
    sample = store[int(store.split("test")[0])]
    assert sample.hands.shape[1:] == (2, 21, 3) and sample.body.shape[1:] == (2, 25, 3)
    assert json.loads((path / "meta.json").read_text())["splits"] == {s: len(v) for s, v in parts.items()}
    # deterministic: the same call writes the same store
    again = SkeletonStore(write_synth_store(tmp_path / "again", num_samples=10 * C, seed=1, val_fraction=0.2,
                                            test_fraction=0.3))
    np.testing.assert_array_equal(np.asarray(store.array("body")), np.asarray(again.array("body")))


def test_hand_dominant_preset_makes_its_classes_with_labels_in_order(tmp_path):
    from bharnet.synth.variation import SYNTH_PRESETS

    names = SYNTH_PRESETS["hand-dominant"]["classes"]
    samples = list(generate(2 * len(names), seed=0, preset="hand-dominant", min_frames=8, max_frames=10))
    assert [s.label for s in samples] == list(range(len(names))) * 2
    assert all(s.name.endswith(names[s.label]) for s in samples)
    store = SkeletonStore(write_synth_store(tmp_path / "hd", num_samples=6 * len(names), preset="hand-dominant",
                                            min_frames=8, max_frames=10))
    assert store.classes == list(names)
    groups = store.meta["source"]["class_groups"]
    assert groups == {"body": [], "hand": [0, 1, 2, 3], "mixed": [4, 5, 6, 7, 8, 9]}
    assert store.meta["source"]["preset"] == "hand-dominant"
    # every class is its own hand shape: no gesture repeats among the preset's classes
    gestures = [next(c.gesture for c in SYNTH_CLASSES if c.name == n) for n in names]
    assert len(set(gestures)) == len(gestures)


def test_a_session_habit_moves_the_free_arm_per_class_and_each_session_deals_its_own():
    """With ``session_cue`` a class's left arm sits at a posture of its session; the right arm,
    the hands and every sample without the cue are as before."""
    left_wrist, right_wrist = NTU25.index("left_wrist"), NTU25.index("right_wrist")
    key = (0, 0, 14)  # (seed, block, class key), as generate makes it
    plain = generate_batch(14, 4, key, Variation(min_frames=20, max_frames=20))
    zero = generate_batch(14, 4, key, Variation(min_frames=20, max_frames=20, session=1))
    np.testing.assert_array_equal(plain.body, zero.body)  # no cue: the session changes nothing
    sessions = [generate_batch(14, 4, key, Variation(min_frames=20, max_frames=20, session_cue=40.0, session=s))
                for s in (0, 1)]
    for cued in sessions:  # the right hand as before; the left hand's shape about its wrist as before
        np.testing.assert_array_equal(cued.hands[:, :, 1], plain.hands[:, :, 1])
        seen = (cued.hand_conf[:, :, 0, 0] > 0) & (plain.hand_conf[:, :, 0, 0] > 0)
        shape = [(h.hands[:, :, 0] - h.hands[:, :, 0, :1])[seen][..., :2] for h in (cued, plain)]
        np.testing.assert_allclose(*shape, atol=0.01)
        np.testing.assert_allclose(cued.body[:, :, 0, right_wrist], plain.body[:, :, 0, right_wrist], atol=1e-5)
    moved = [np.linalg.norm(c.body[:, :, 0, left_wrist] - plain.body[:, :, 0, left_wrist], axis=-1).mean()
             for c in sessions]
    assert moved[0] != pytest.approx(moved[1], abs=0.02)  # each session pairs this class with another posture
    cells = {session_habit(k, Variation(session_cue=40.0)) for k in range(len(SYNTH_CLASSES))}
    assert len(cells) == len(SYNTH_CLASSES)  # distinct postures for distinct classes within a session


def test_with_sessions_val_is_recorded_in_a_session_of_its_own(tmp_path):
    store = SkeletonStore(write_synth_store(tmp_path / "s", num_samples=40, session_cue=40.0,
                                            classes=("fist", "pinch"), min_frames=8, max_frames=10))
    prefixes = {split: {store.names[i].split("_")[0] for i in store.split(split)} for split in ("train", "val", "test")}
    assert prefixes == {"train": {"train"}, "val": {"val"}, "test": {"test"}}
    classic = SkeletonStore(write_synth_store(tmp_path / "c", num_samples=40, classes=("fist", "pinch"),
                                              min_frames=8, max_frames=10))
    assert {n.split("_")[0] for n in classic.names} == {"trainval", "test"}


def test_unknown_class_or_preset_is_refused():
    with pytest.raises(ValueError, match="unknown BodyHand-Synth classes"):
        next(generate(1, classes=("fist", "no_such_class")))
    with pytest.raises(ValueError, match="unknown BodyHand-Synth preset"):
        next(generate(1, preset="no-such-preset"))


def test_hand_only_preset_draws_paths_with_one_pointing_hand_and_no_body(tmp_path):
    seqs = list(generate(14, seed=0, preset="hand-only"))
    assert [s.label for s in seqs] == [i % 7 for i in range(14)]
    assert class_groups(tuple(c.name for c in AIR_CLASSES)) == {"body": [], "hand": [], "mixed": [],
                                                                 "air": list(range(7))}
    for seq in seqs:
        seq.validate(num_persons=2, num_joints=25, channels=3)
        seen = seq.hand_conf > 0
        assert not seq.body.any() and not seen[:, 0].any()  # no body, no left hand
        assert (seq.hands[seen][:, :2] >= 0).all() and (seq.hands[seen][:, :2] <= 1).all()
    assert np.mean([s.hand_conf[:, 1].mean() for s in seqs]) > 0.6  # seen in most frames, as a detector would
    # a drawn shape moves the wrist across the frame; a tap keeps it about where it is
    spread = {s.name.split("_", 3)[-1]: np.ptp(s.hands[s.hand_conf[:, 1, 0] > 0, 1, 0, :2], axis=0).max()
              for s in generate(7, seed=0, preset="hand-only", dropout=0.0, hand_missing=0.0)}
    assert min(spread[c] for c in ("draw_circle", "draw_star", "swipe_left", "swipe_down")) > 2 * spread["tap_forward"]
    again = list(generate(14, seed=0, preset="hand-only"))
    assert all(np.array_equal(a.hands, b.hands) for a, b in zip(seqs, again, strict=True))
    store = SkeletonStore(write_synth_store(tmp_path / "s", num_samples=70, seed=0, preset="hand-only"))
    assert store.meta["classes"] == [c.name for c in AIR_CLASSES] and set(store.splits) == {"train", "val", "test"}
