"""A quick look at whether a store's streams hold anything (``SkeletonDataset.empty_streams``)."""

import dataclasses

from bharnet.data.dataset import SkeletonDataset


def _store(tmp_path, make_sequence, write_store, body: bool = True, hands: bool = True, n: int = 8):
    sequences = [make_sequence(i, frames=12, hands=hands) for i in range(n)]
    if not body:
        sequences = [dataclasses.replace(s, body=s.body * 0) for s in sequences]
    return write_store(tmp_path / "s", sequences)


def test_a_store_with_both_streams_has_none_empty(tmp_path, make_sequence, write_store):
    store = _store(tmp_path, make_sequence, write_store)
    assert SkeletonDataset(store, "train", streams=("body", "hand")).empty_streams() == ()


def test_a_store_of_hands_alone_has_an_empty_body(tmp_path, make_sequence, write_store):
    store = _store(tmp_path, make_sequence, write_store, body=False)
    assert SkeletonDataset(store, "train", streams=("body", "hand")).empty_streams() == ("body",)
    assert SkeletonDataset(store, "train", streams=("hand",)).empty_streams() == ()


def test_a_store_without_any_hand_seen_has_an_empty_hand_stream(tmp_path, make_sequence, write_store):
    store = _store(tmp_path, make_sequence, write_store, hands=False)
    assert SkeletonDataset(store, "train", streams=("body", "hand")).empty_streams() == ("hand",)


def test_one_sample_with_a_body_is_enough(tmp_path, make_sequence, write_store):
    sequences = [make_sequence(i, frames=12) for i in range(8)]
    sequences = [dataclasses.replace(s, body=s.body * (i == 5)) for i, s in enumerate(sequences)]
    store = write_store(tmp_path / "s", sequences)
    assert SkeletonDataset(store, "train", streams=("body",)).empty_streams() == ()
