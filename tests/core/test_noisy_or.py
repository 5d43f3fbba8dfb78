"""The Noisy-OR formula: one definition, the same numbers on NumPy arrays and torch tensors."""

import numpy as np
import torch

from bharnet.core.noisy_or import detections, noisy_or_log


def test_numpy_and_torch_give_the_same_noisy_or():
    probs = [np.array([[0.2, 0.8], [0.5, 0.5]]), np.array([[0.6, 0.4], [0.1, 0.9]])]
    expected = 1 - (1 - probs[0]) ** 1.0 * (1 - probs[1]) ** 0.5
    on_numpy = noisy_or_log(detections(probs, np, max_prob=1 - 1e-12), np, weights=[1.0, 0.5])
    on_torch = noisy_or_log(detections([torch.as_tensor(p) for p in probs], torch, max_prob=1 - 1e-12), torch,
                            weights=[1.0, 0.5])
    np.testing.assert_allclose(np.exp(on_numpy), expected, rtol=1e-12)
    np.testing.assert_array_equal(on_torch.numpy(), on_numpy)


def test_a_certain_class_stays_finite_and_unweighted_is_all_ones():
    probs = [np.array([[1.0, 0.0]]), np.array([[0.3, 0.7]])]
    terms = detections(probs, np, max_prob=1 - 1e-12)
    fused = noisy_or_log(terms, np)
    assert np.isfinite(fused).all() and fused.argmax() == 0
    np.testing.assert_array_equal(fused, noisy_or_log(terms, np, weights=[1.0, 1.0]))
