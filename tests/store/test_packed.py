import json
import os

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


def test_a_resumed_writer_knows_what_the_interrupted_run_rejected(make_sequence, tmp_path):
    path = tmp_path / "s"
    w = StoreWriter(path, body_layout="ntu25", num_persons=2)
    w.reject("bad.skeleton", "truncated")
    w.source_done("bad.skeleton")
    w.checkpoint()
    del w  # interrupted
    w = StoreWriter(path, body_layout="ntu25", num_persons=2)
    assert w.resumed_rejects == [("bad.skeleton", "truncated")] and w.done_sources == {"bad.skeleton"}


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


def _damage(path, what: str) -> None:
    """Damage a finished store the way a user's copy, disk or editor can."""
    target = {"missing-body": "body.npy", "truncated-body": "body.npy", "missing-offsets": "offsets.npy",
              "truncated-offsets": "offsets.npy", "missing-names": "names.json", "truncated-names": "names.json",
              "truncated-meta": "meta.json", "garbage-meta": "meta.json", "short-names": "names.json"}[what]
    file = path / target
    if what.startswith("missing"):
        file.unlink()
    elif what.startswith("truncated"):
        file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])
    elif what == "garbage-meta":
        file.write_bytes(b"\x00\xff garbage \x13")
    else:
        file.write_text(json.dumps(json.loads(file.read_text())[:-1]))


DAMAGES = ["missing-body", "truncated-body", "missing-offsets", "truncated-offsets", "missing-names",
           "truncated-names", "truncated-meta", "garbage-meta", "short-names"]


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_store_is_one_user_error_naming_the_file(make_sequence, write_store, tmp_path, damage):
    from bharnet.core.errors import UserError

    path = tmp_path / "s"
    write_store(path, [make_sequence(i) for i in range(4)])
    _damage(path, damage)
    with pytest.raises(UserError, match=r"s/(body.npy|offsets.npy|names.json|meta.json).*prepare") as info:
        store = SkeletonStore(path)
        store[3]  # reading samples must not be what finds the damage
    assert "\n" not in str(info.value)


def test_a_missing_store_folder_is_a_user_error(tmp_path):
    from bharnet.core.errors import UserError

    with pytest.raises(UserError, match="no such folder"):
        SkeletonStore(tmp_path / "nope")


def test_an_interrupt_inside_a_sample_records_only_the_finished_ones(make_sequence, tmp_path, monkeypatch):
    path = tmp_path / "s"
    seqs = [make_sequence(i) for i in range(4)]
    with pytest.raises(KeyboardInterrupt), StoreWriter(path, body_layout="ntu25", num_persons=2,
                                                       arrays=("hands",)) as w:
        for seq in seqs[:2]:
            w.add(seq)
            w.source_done(seq.name)
        real_write = w._files["hands.raw"].write
        monkeypatch.setattr(w._files["hands.raw"], "write", lambda b: (real_write(b[:100]), _interrupt()))
        w.add(seqs[2])  # body written, hands half written: then Ctrl-C
    monkeypatch.undo()
    w = StoreWriter(path, body_layout="ntu25", num_persons=2, arrays=("hands",))
    assert w.done_sources == {"s000", "s001"} and w.num_samples == 2
    for seq in seqs[2:]:
        w.add(seq)
        w.source_done(seq.name)
    assert SkeletonStore(w.finish()).names == [s.name for s in seqs]


def _interrupt():
    raise KeyboardInterrupt


@pytest.mark.parametrize("stop_after", [1, 3, 6])
def test_an_interrupt_during_the_final_clean_up_does_not_poison_a_rerun(make_sequence, write_store, tmp_path,
                                                                        monkeypatch, stop_after):

    path = tmp_path / "s"
    seqs = [make_sequence(i) for i in range(3)]
    real_unlink, calls = os.unlink, []

    def unlink_then_interrupt(p, *args, **kwargs):
        calls.append(p)
        if len(calls) == stop_after:
            raise KeyboardInterrupt
        return real_unlink(p, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_store(path, seqs)
    monkeypatch.undo()
    store = write_store(path, seqs)  # the same command again
    assert store.names == [s.name for s in seqs] and not path.with_name("s.partial").exists()


def test_a_store_that_cannot_be_created_is_a_user_error(tmp_path):
    from bharnet.core.errors import UserError

    (tmp_path / "file").write_text("in the way")
    with pytest.raises(UserError, match=r"file/s: .*file is a file, not a folder"):
        StoreWriter(tmp_path / "file" / "s", body_layout="ntu25", num_persons=2)
