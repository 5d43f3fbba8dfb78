import numpy as np
import pytest

from bharnet.core.errors import UserError
from bharnet.data.splits import holdout_split, sample_groups


def test_groups_come_from_ntu_and_ucla_names():
    assert sample_groups(["S001C002P003R001A013", "S017C001P045R002A120"]).tolist() == ["P003", "P045"]
    assert sample_groups(["a01_s03_e00_v02", "a12_s10_e04_v01"]).tolist() == ["s03", "s10"]
    assert sample_groups(["clip_1", "S001C002P003R001A013"]) is None


def test_group_pattern_names_the_group_and_a_non_matching_name_is_reported():
    assert sample_groups(["sess4_word1", "sess12_word9"], r"^(sess\d+)_").tolist() == ["sess4", "sess12"]
    with pytest.raises(UserError, match="other_name"):
        sample_groups(["sess4_word1", "other_name"], r"^(sess\d+)_")


def test_holdout_takes_whole_groups_and_about_the_fraction():
    groups = np.repeat([f"P{i:03d}" for i in range(20)], 10)
    labels = np.tile(np.arange(10), 20)
    train, val = holdout_split(np.arange(200), labels, groups, 0.1, seed=0)
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == 200
    assert set(groups[val]).isdisjoint(groups[train])
    assert 10 <= len(val) <= 30
    again = holdout_split(np.arange(200), labels, groups, 0.1, seed=0)
    assert np.array_equal(again[1], val)


def test_holdout_without_groups_is_stratified_by_class():
    labels = np.repeat(np.arange(5), 20)
    train, val = holdout_split(np.arange(100), labels, None, 0.2, seed=3)
    assert np.bincount(labels[val]).tolist() == [4] * 5
    assert len(np.intersect1d(train, val)) == 0


def test_auto_validation_is_held_out_of_train_when_the_store_has_no_val(tmp_path):
    from bharnet.engine.config import make_config, to_dict
    from bharnet.engine.module import SkeletonDataModule
    from bharnet.store.packed import StoreWriter
    from bharnet.synth.generate import generate

    with StoreWriter(tmp_path / "s", body_layout="ntu25", num_persons=2, arrays=("hands",),
                     classes=[str(i) for i in range(26)]) as writer:
        for i, seq in enumerate(generate(104, seed=0, min_frames=8, max_frames=10)):
            seq.splits = frozenset({"test" if i < 26 else "train"})
            writer.add(seq)
    cfg = to_dict(make_config({"data": {"store": str(tmp_path / "s")}}))
    assert cfg["data"]["val_split"] == "auto"
    data = SkeletonDataModule(cfg["data"], ("body",), seed=1)
    train, val, test = (data.dataset(s).indices for s in ("train", "auto", "test"))
    assert len(val) > 0 and len(np.intersect1d(train, val)) == 0 and len(np.intersect1d(val, test)) == 0
    assert len(train) + len(val) == len(data.store.split("train"))
