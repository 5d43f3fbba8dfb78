import json

import pytest

from bharnet.core.errors import UserError
from bharnet.eval.subsets import NTU60_HAND11, NTU120_HAND27, default_subsets, load_subsets

NTU60 = [f"A{i:03d}" for i in range(1, 61)]


def test_ntu_hand_lists_follow_the_spec():
    assert len(NTU60_HAND11) == 11 and len(set(NTU120_HAND27)) == 27
    # A11 reading -> 10, A39 put palms together -> 38, A120 rock-paper-scissors -> 119
    assert NTU60_HAND11[0] == 10 and 38 in NTU60_HAND11 and 119 in NTU120_HAND27
    assert set(NTU60_HAND11) <= set(NTU120_HAND27)
    assert max(NTU60_HAND11) < 60 and 66 in NTU120_HAND27 and 67 not in NTU120_HAND27  # A67 in, A68 out


def test_builtin_subsets_check_the_class_count():
    assert load_subsets(["ntu60-hand11"], NTU60) == {"ntu60-hand11": sorted(NTU60_HAND11)}
    with pytest.raises(UserError, match="for 120 classes"):
        load_subsets(["ntu120-hand27"], NTU60)


def test_subset_files_accept_indices_ntu_ids_and_names(tmp_path):
    classes = ["drink", "eat", "wave", "clap"]
    text = tmp_path / "mine.txt"
    text.write_text("# my classes\n0\nA002\nclap  # by name\n")
    assert load_subsets([str(text)], classes) == {"mine": [0, 1, 3]}
    js = tmp_path / "groups.json"
    js.write_text(json.dumps({"arms": ["wave", 3], "mouth": ["A1", "A2"]}))
    assert load_subsets([str(js)], classes) == {"arms": [2, 3], "mouth": [0, 1]}
    bad = tmp_path / "bad.txt"
    bad.write_text("dance\n")
    with pytest.raises(UserError, match="bad.txt: 'dance'"):
        load_subsets([str(bad)], classes)
    with pytest.raises(UserError, match="no such subset file"):
        load_subsets([str(tmp_path / "none.txt")], classes)


def test_default_subsets_from_class_groups_and_ntu():
    meta = {"class_groups": {"body": [0, 1], "hand": [2], "mixed": []}}
    assert default_subsets(meta, 4) == {"group:body": [0, 1], "group:hand": [2]}
    assert set(default_subsets({"dataset": "ntu120-xset"}, 120)) == {"ntu120-hand27"}
    assert default_subsets({"dataset": "ucla"}, 10) == {}
