import numpy as np
import pytest
import torch

from bharnet.data.dataset import EpochSampler, SkeletonDataset, ViewConfig


@pytest.fixture
def make_store(make_sequence, write_store):
    def make(tmp_path, n=8):
        return write_store(tmp_path / "s", [make_sequence(i, frames=20 + i, hands=i != 1) for i in range(n)])

    return make


def test_items_have_fixed_window_and_masked_missing_hands(make_store, tmp_path):
    ds = SkeletonDataset(make_store(tmp_path), "train", streams=("body", "hand"), view=ViewConfig(window=16))
    item = ds[0]
    assert item["body"].shape == (3, 16, 25, 2) and item["body"].dtype == torch.float32
    assert item["hand"].shape == (3, 16, 25, 2) and item["hand_mask"].shape == (1, 16, 25, 2)
    assert item["hand_mask"][:, :, 21:].sum() == 0  # dummy joints
    no_hands = [i for i in range(len(ds)) if ds.indices[i] == 1][0]
    assert ds[no_hands]["hand_mask"].sum() == 0 and ds[no_hands]["hand"].abs().sum() == 0


def test_augmentation_depends_on_seed_epoch_and_index_only(make_store, tmp_path):
    store = make_store(tmp_path)
    ds = SkeletonDataset(store, "train", view=ViewConfig(window=16), train=True, seed=3)
    again = SkeletonDataset(store, "train", view=ViewConfig(window=16), train=True, seed=3)
    torch.testing.assert_close(ds[(1, 0)]["body"], again[(1, 0)]["body"])
    assert not torch.equal(ds[(1, 0)]["body"], ds[(2, 0)]["body"])
    test_view = SkeletonDataset(store, "train", view=ViewConfig(window=16))
    torch.testing.assert_close(test_view[0]["body"], test_view[0]["body"])


def test_epoch_sampler_is_reproducible_and_reshuffles():
    s = EpochSampler(10, shuffle=True, seed=1)
    first = list(s)
    assert list(s) == first and sorted(i for _, i in first) == list(range(10))
    s.set_epoch(1)
    assert [i for _, i in s] != [i for _, i in first]
    assert [i for _, i in EpochSampler(5, shuffle=False)] == list(range(5))


def test_modality_applies_to_hand_stream(make_store, tmp_path):
    store = make_store(tmp_path)
    joint = SkeletonDataset(store, None, streams=("hand",), view=ViewConfig(window=16))[0]
    bone = SkeletonDataset(store, None, streams=("hand",), view=ViewConfig(window=16, modality="bone"))[0]
    assert not torch.allclose(joint["hand"], bone["hand"])
    assert np.all(bone["hand"][:, :, 0].numpy() == 0)  # the wrist is the root: zero bone
