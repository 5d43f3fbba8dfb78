import json

import numpy as np
import pytest

from bharnet.core.sequence import Sequence
from bharnet.store.packed import SkeletonStore, StoreError, StoreWriter


def test_round_trip(make_sequence, write_store, tmp_path):
    seqs = [make_sequence(i, frames=5 + i, hands=i != 2) for i in range(6)]
    store = write_store(tmp_path / "s", seqs)
    assert len(store) == 6 and store.num_classes == 3 and store.classes == ["a", "b", "c"]
    for i, seq in enumerate(seqs):
        got = store[i]
        assert got.name == seq.name and got.label == seq.label and got.splits == seq.splits
        np.testing.assert_array_equal(got.body, seq.body)
        if seq.hands is None:
            assert got.hands is None and not store.has_hands[i]
        else:
            np.testing.assert_array_equal(got.hands, seq.hands)
    assert sorted(store.split("train").tolist()) == [1, 3, 5]
    assert isinstance(store.array("body"), np.memmap)  # read without copying
    assert json.loads((tmp_path / "s" / "meta.json").read_text())["num_frames"] == sum(5 + i for i in range(6))


def test_bad_sample_is_refused_with_reason(make_sequence, tmp_path):
    w = StoreWriter(tmp_path / "s", body_layout="ntu25", num_persons=2)
    bad = make_sequence(0, hands=False)
    bad.body[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        w.add(bad)
    with pytest.raises(ValueError, match="expected"):
        w.add(Sequence("x", 0, np.zeros((4, 2, 20, 3), np.float32)))
    with pytest.raises(ValueError, match="zero frames"):
        w.add(Sequence("x", 0, np.zeros((0, 2, 25, 3), np.float32)))


def test_interrupted_write_resumes_and_is_not_readable_until_finished(make_sequence, tmp_path):
    path = tmp_path / "s"
    w = StoreWriter(path, body_layout="ntu25", num_persons=2, arrays=("hands",))
    for i in range(3):
        w.add(make_sequence(i))
        w.source_done(f"s{i:03d}")
    w.checkpoint()
    w.add(make_sequence(3))  # written after the checkpoint: lost in the interruption
    del w
    with pytest.raises(StoreError, match="did not finish"):
        SkeletonStore(path)
    w = StoreWriter(path, body_layout="ntu25", num_persons=2, arrays=("hands",))
    assert w.done_sources == {"s000", "s001", "s002"} and w.num_samples == 3
    for i in range(3, 5):
        w.add(make_sequence(i))
        w.source_done(f"s{i:03d}")
    store = SkeletonStore(w.finish())
    assert store.names == [f"s{i:03d}" for i in range(5)]
    np.testing.assert_array_equal(store[4].body, make_sequence(4).body)
    assert not path.with_name("s.partial").exists()


def test_rejected_inputs_are_listed(make_sequence, tmp_path):
    path = tmp_path / "s"
    with StoreWriter(path, body_layout="ntu25", num_persons=2) as w:
        w.add(make_sequence(0, hands=False))
        w.reject("bad.skeleton", "line 3: expected 25 joints, found 24")
    problem = "line 3: expected 25 joints, found 24"
    assert SkeletonStore(path).rejected == [{"source": "bad.skeleton", "problem": problem}]


def test_not_a_store(tmp_path):
    with pytest.raises(StoreError, match="not a bharnet store"):
        SkeletonStore(tmp_path)
