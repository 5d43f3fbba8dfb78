import numpy as np
import pytest

from bharnet.core.errors import UserError
from bharnet.eval.ensemble import ensemble, fuse, member_spec, parse_member_spec, search_weights
from bharnet.eval.metrics import softmax, topk_accuracy
from bharnet.eval.scores import load_scores, save_scores

from .eval_helpers import make_logits, make_set

K = 10


@pytest.fixture
def files(tmp_path):
    """Joint and bone test files, validation files with other samples, and a noise file."""
    names, labels, rng = make_set(300, K, seed=1)
    vnames, vlabels, _ = make_set(300, K, seed=2, prefix="V")
    meta = {"classes": [f"c{i}" for i in range(K)], "dataset": "synth", "params": 1e6, "macs": 2e9}
    out = {}
    for key, signal in (("joint", 2.0), ("bone", 2.0), ("noise", 0.0)):
        out[key] = save_scores(tmp_path / f"{key}.npz", names, labels,
                               {"logits": make_logits(labels, K, signal, rng), "body": make_logits(labels, K, 1, rng)},
                               {**meta, "split": "test", "modality": key})
        out[f"{key}_val"] = save_scores(tmp_path / f"{key}_val.npz", vnames, vlabels,
                                        {"logits": make_logits(vlabels, K, signal, rng)},
                                        {**meta, "split": "val", "modality": key})
    out["names"], out["labels"] = names, labels
    return out


def test_equal_weights_add_raw_scores(files):
    res = ensemble([str(files["joint"]), str(files["bone"])])
    assert res.weights == [1.0, 1.0] and res.fuse == "logits"
    assert res.names.tolist() == sorted(files["names"].tolist())
    assert topk_accuracy(res.fused, res.labels) > max(res.member_top1)


def test_a_shuffled_file_gives_the_same_ensemble(files, tmp_path):
    bone = load_scores(files["bone"])
    perm = np.random.default_rng(5).permutation(len(bone.names))
    shuffled = save_scores(tmp_path / "shuffled.npz", bone.names[perm], bone.labels[perm],
                           {k: v[perm] for k, v in bone.logits.items()}, bone.meta)
    a = ensemble([str(files["joint"]), str(files["bone"])], weights=[0.6, 0.4])
    b = ensemble([str(files["joint"]), str(shuffled)], weights=[0.6, 0.4])
    np.testing.assert_array_equal(a.names, b.names)
    np.testing.assert_array_equal(a.fused, b.fused)


def test_a_missing_sample_is_refused_by_name(files, tmp_path):
    bone = load_scores(files["bone"])
    keep = np.arange(len(bone.names)) != 17
    short = save_scores(tmp_path / "short.npz", bone.names[keep], bone.labels[keep],
                        {k: v[keep] for k, v in bone.logits.items()}, bone.meta)
    missing = bone.names[17]
    with pytest.raises(UserError, match=rf"short.npz lacks sample '{missing}'"):
        ensemble([str(files["joint"]), str(short)])
    with pytest.raises(UserError, match=rf"joint.npz lacks sample '{missing}'|short.npz lacks sample '{missing}'"):
        ensemble([str(short), str(files["joint"])])


def test_disagreeing_labels_are_refused(files, tmp_path):
    bone = load_scores(files["bone"])
    labels = bone.labels.copy()
    labels[3] = (labels[3] + 1) % K
    bad = save_scores(tmp_path / "bad.npz", bone.names, labels, bone.logits, bone.meta)
    with pytest.raises(UserError, match=rf"labels sample '{bone.names[3]}'"):
        ensemble([str(files["joint"]), str(bad)])


def test_branch_is_selectable(files):
    res = ensemble([f"{files['joint']}:body"])

    s = load_scores(files["joint"]).sorted_by_name()
    np.testing.assert_allclose(res.fused, s.logits["body"])
    with pytest.raises(UserError, match="no branch 'hand'"):
        ensemble([f"{files['joint']}:hand"])


def test_parse_member_spec(tmp_path):
    f = tmp_path / "a.npz"
    f.write_bytes(b"")
    assert parse_member_spec(str(f)) == (f, None)
    assert parse_member_spec(f"{f}:body") == (f, "body")
    assert parse_member_spec("x/y.npz") == (tmp_path.__class__("x/y.npz"), None)
    assert parse_member_spec(member_spec(f, "body")) == (f, "body") and member_spec(f) == str(f)


def test_softmax_fusion_is_the_weighted_mean_of_probabilities():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 4)), rng.normal(size=(5, 4)) * 10
    fused = fuse([a, b], [3.0, 1.0], "softmax")
    np.testing.assert_allclose(np.exp(fused), (3 * softmax(a) + softmax(b)) / 4, rtol=1e-5)
    np.testing.assert_allclose(fuse([a, b], [2.0, 0.5], "logits"), 2 * a + 0.5 * b, rtol=1e-5)


def test_noisy_or_fusion_of_files():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    np.testing.assert_allclose(np.exp(fuse([a, b], [1.0, 1.0], "noisy-or")),
                               1 - (1 - softmax(a)) * (1 - softmax(b)), rtol=1e-5)
    certain = np.full((2, 4), -40.0)
    certain[[0, 1], [3, 1]] = 40.0
    assert fuse([certain, a[:2]], [1.0, 1.0], "noisy-or").argmax(1).tolist() == [3, 1]


def test_noisy_or_search_turns_down_a_noise_file():
    names, labels, rng = make_set(400, K, seed=3)
    weights, acc, _ = search_weights([make_logits(labels, K, 3.0, rng), 3 * rng.normal(size=(len(labels), K))],
                                     labels, mode="noisy-or")
    assert weights[1] <= 0.1 * weights[0]


def test_search_recovers_a_good_weight_on_constructed_files():
    names, labels, rng = make_set(400, K, seed=3)
    informative = make_logits(labels, K, 3.0, rng)
    noise = 3 * rng.normal(size=(len(labels), K))
    weights, acc, steps = search_weights([informative, noise], labels)
    assert weights[1] <= 0.1 * weights[0]
    assert acc == pytest.approx(topk_accuracy(informative, labels), abs=0.01)
    assert acc > steps[0]["top1"]


def test_search_uses_validation_files_and_refuses_test(files):
    res = ensemble([str(files["joint"]), str(files["noise"])],
                   search=[str(files["joint_val"]), str(files["noise_val"])])
    assert res.weights[1] < res.weights[0]
    assert res.search["splits"] == ["val", "val"]
    assert res.weights_from == "searched on validation files"
    with pytest.raises(UserError, match="never searched on a test split"):
        ensemble([str(files["joint_val"]), str(files["noise_val"])], search=[str(files["joint"]), str(files["noise"])])


def test_search_refuses_files_that_share_samples_with_the_ensembled_files(files, tmp_path):
    s = load_scores(files["joint"])
    relabelled = save_scores(tmp_path / "val_copy.npz", s.names, s.labels, s.logits, {**s.meta, "split": "val"})
    with pytest.raises(UserError, match="shares 300 samples"):
        ensemble([str(files["joint"])], search=[str(relabelled)])


def test_weight_count_must_match(files):
    with pytest.raises(UserError, match="1 weights for 2"):
        ensemble([str(files["joint"]), str(files["bone"])], weights=[1.0])
    with pytest.raises(UserError, match="one per file"):
        ensemble([str(files["joint"]), str(files["bone"])], search=[str(files["joint_val"])])
