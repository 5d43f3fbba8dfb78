import json
import zipfile

import numpy as np
import pytest

from bharnet.core.errors import UserError
from bharnet.eval.scores import ScoresCollector, load_scores, save_scores


def test_round_trip_keeps_every_branch_and_meta(tmp_path):
    logits = {"logits": np.eye(3, dtype=np.float32), "body": np.ones((3, 3)), "hand": np.zeros((3, 3))}
    path = save_scores(tmp_path / "s.npz", ["a", "b", "c"], [0, 1, 2], logits,
                       {"split": "val", "classes": ["x", "y", "z"], "params": np.int64(5)})
    s = load_scores(path)
    assert s.names.tolist() == ["a", "b", "c"]
    assert s.labels.dtype == np.int64 and s.labels.tolist() == [0, 1, 2]
    assert set(s.logits) == {"logits", "body", "hand"}
    assert s.logits["body"].dtype == np.float32
    np.testing.assert_array_equal(s.branch("logits"), np.eye(3))
    assert s.meta["params"] == 5 and s.split == "val" and s.classes == ["x", "y", "z"]
    assert s.meta["format"] == "bharnet-scores"
    assert [p.name for p in tmp_path.iterdir()] == ["s.npz"]  # no temporary file left behind
    with zipfile.ZipFile(path) as z:  # the documented key layout
        assert {"names.npy", "labels.npy", "meta.npy", "logits/logits.npy", "logits/body.npy"} <= set(z.namelist())


def test_torch_tensors_are_accepted(tmp_path):
    torch = pytest.importorskip("torch")
    path = save_scores(tmp_path / "t.npz", ["a"], [1], {"logits": torch.tensor([[0.0, 2.0]])}, {})
    assert load_scores(path).logits["logits"].tolist() == [[0.0, 2.0]]


def test_sorted_by_name_reorders_all_arrays(tmp_path):
    path = save_scores(tmp_path / "s.npz", ["b", "a"], [1, 0], {"logits": np.array([[0, 1], [1, 0]])}, {})
    s = load_scores(path).sorted_by_name()
    assert s.names.tolist() == ["a", "b"] and s.labels.tolist() == [0, 1]
    assert s.logits["logits"].argmax(1).tolist() == [0, 1]


@pytest.mark.parametrize("names,labels,logits,problem", [
    (["a", "a"], [0, 1], {"logits": np.zeros((2, 2))}, "more than once"),
    (["a", "b"], [0, 2], {"logits": np.zeros((2, 2))}, "labels must lie"),
    (["a", "b"], [0, 1], {"logits": np.zeros((2, 2)), "hand": np.zeros((2, 3))}, "'hand' has shape"),
    (["a", "b"], [0, 1], {}, "no logits branch"),
])
def test_inconsistent_arrays_are_refused(tmp_path, names, labels, logits, problem):
    with pytest.raises(ValueError, match=problem):
        save_scores(tmp_path / "s.npz", names, labels, logits, {})


def test_bad_or_foreign_files_give_user_errors(tmp_path):
    with pytest.raises(UserError, match="no such scores file"):
        load_scores(tmp_path / "missing.npz")
    text = tmp_path / "text.npz"
    text.write_text("hello")
    with pytest.raises(UserError, match="not an .npz"):
        load_scores(text)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, x=np.zeros(3))
    with pytest.raises(UserError, match=r"foreign.npz: not a bharnet scores file"):
        load_scores(foreign)
    other = tmp_path / "other.npz"
    np.savez(other, names=np.array(["a"]), labels=np.array([0]), meta=np.asarray(json.dumps({"format": "x"})))
    with pytest.raises(UserError, match="format 'x'"):
        load_scores(other)


def test_missing_branch_lists_the_branches(tmp_path):
    path = save_scores(tmp_path / "s.npz", ["a"], [0], {"logits": np.zeros((1, 2)), "body": np.zeros((1, 2))}, {})
    with pytest.raises(UserError, match="no branch 'hand'; it has body, logits"):
        load_scores(path).branch("hand")


def test_collector_concatenates_batches(tmp_path):
    torch = pytest.importorskip("torch")

    c = ScoresCollector()
    c.add(["a", "b"], torch.tensor([0, 1]), {"logits": torch.zeros(2, 3), "body": torch.ones(2, 3)})
    c.add(["c"], torch.tensor([2]), {"logits": torch.ones(1, 3), "body": torch.zeros(1, 3)})
    with pytest.raises(ValueError, match="branches"):
        c.add(["d"], [0], {"logits": torch.zeros(1, 3)})
    s = load_scores(c.save(tmp_path / "c.npz", {"split": "test"}))
    assert s.names.tolist() == ["a", "b", "c"] and s.labels.tolist() == [0, 1, 2]
    assert s.logits["body"][:, 0].tolist() == [1, 1, 0]
