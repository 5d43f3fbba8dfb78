import numpy as np
import pytest

from bharnet.eval.metrics import (
    branch_agreement,
    confusion_matrix,
    most_confused_pairs,
    per_class_accuracy,
    subset_accuracy,
    topk_accuracy,
)

# 4 samples, 3 classes; predictions 0, 1, 1, 2 (second best 1, 2, 0, 0)
SCORES = np.array([[0.9, 0.5, 0.1], [0.1, 0.9, 0.5], [0.5, 0.9, 0.1], [0.5, 0.1, 0.9]])
LABELS = np.array([0, 1, 0, 1])


def test_topk():
    assert topk_accuracy(SCORES, LABELS, 1) == 0.5
    assert topk_accuracy(SCORES, LABELS, 2) == 0.75
    assert topk_accuracy(SCORES, LABELS, 5) == 1.0  # k larger than the class count
    assert np.isnan(topk_accuracy(SCORES[:0], LABELS[:0]))


def test_confusion_and_per_class():
    pred = SCORES.argmax(1)
    cm = confusion_matrix(pred, LABELS, 3)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 1], [0, 0, 0]]
    acc, counts = per_class_accuracy(pred, LABELS, 3)
    assert counts.tolist() == [2, 2, 0]
    assert acc[:2].tolist() == [0.5, 0.5] and np.isnan(acc[2])


def test_most_confused_pairs_skip_the_diagonal_and_empty_cells():
    cm = np.array([[8, 2, 0], [5, 5, 0], [0, 1, 9]])
    assert most_confused_pairs(cm, 10) == [(1, 0, 5, 0.5), (0, 1, 2, 0.2), (2, 1, 1, 0.1)]
    assert most_confused_pairs(cm, 1) == [(1, 0, 5, 0.5)]


def test_subset_accuracy_counts_only_the_subset_samples():
    acc, n = subset_accuracy(SCORES, LABELS, [1])
    assert (acc, n) == (0.5, 2)
    acc, n = subset_accuracy(SCORES, LABELS, [2])
    assert n == 0 and np.isnan(acc)


def test_branch_agreement_counts_the_four_outcomes_per_class():
    labels = np.array([0, 0, 0, 0, 1])
    body = np.eye(2)[[0, 0, 1, 1, 1]]
    hand = np.eye(2)[[0, 1, 0, 1, 0]]
    table = branch_agreement(body, hand, labels, 2)
    # class 0: both, body only, hand only, neither; class 1: body only
    assert table.tolist() == [[1, 1, 1, 1], [0, 1, 0, 0]]


@pytest.mark.parametrize("k", [1, 3])
def test_topk_matches_a_sort(k):
    rng = np.random.default_rng(0)
    s = rng.normal(size=(50, 7))
    y = rng.integers(0, 7, 50)
    ref = np.mean([y[i] in np.argsort(-s[i])[:k] for i in range(50)])
    assert topk_accuracy(s, y, k) == pytest.approx(ref)


def test_group_accuracy_reports_each_group_with_samples():
    from bharnet.eval.metrics import group_accuracy

    assert group_accuracy(SCORES, LABELS, {"first": [0], "second": [1], "absent": [2]}) == {
        "top1": 0.5, "top1_first_classes": 0.5, "top1_second_classes": 0.5}
    assert group_accuracy(SCORES, LABELS, {"both": [0, 1]})["top1_both_classes"] == 0.5
