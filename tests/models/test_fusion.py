import numpy as np
import pytest
import torch

from bharnet.models import create_model
from bharnet.models.fusion import METHODS, BranchFusion, fit_fusion, fused_logits, select_method

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: one thread beats several


def _experts(n: int = 600, k: int = 8, seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """A reliable hand branch and an unreliable but confident body branch (right a third of the time)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    hand = rng.normal(0, 1, (n, k))
    hand[np.arange(n), labels] += 2.5
    body_target = np.where(rng.random(n) < 0.33, labels, rng.integers(0, k, n))
    body = rng.normal(0, 1, (n, k))
    body[np.arange(n), body_target] += 8.0
    return {"body": body.astype(np.float32), "hand": hand.astype(np.float32)}, labels


def _top1(fusion: BranchFusion, logits: dict, labels: np.ndarray) -> float:
    return float((fused_logits(fusion, logits).argmax(1) == labels).mean())


def test_noisy_or_of_certain_experts_is_the_certain_answer():
    certain = torch.full((3, 5), -30.0)
    certain[[0, 1, 2], [4, 0, 2]] = 30.0
    vague = torch.zeros(3, 5)
    for other in (certain, vague):
        probs = BranchFusion(("body", "hand"), "noisy-or")({"body": certain, "hand": other}).exp()
        assert probs.argmax(1).tolist() == [4, 0, 2]
        assert torch.allclose(probs[[0, 1, 2], [4, 0, 2]], torch.ones(3))


def test_noisy_or_is_the_probability_that_some_expert_detects_the_class():
    body, hand = torch.randn(4, 6), torch.randn(4, 6)
    fused = BranchFusion(("body", "hand"), "noisy-or")({"body": body, "hand": hand}).exp()
    expected = 1 - (1 - body.softmax(1)) * (1 - hand.softmax(1))
    assert torch.allclose(fused, expected, atol=1e-6)


def test_sum_is_the_papers_score_fusion():
    body, hand = torch.randn(4, 6), torch.randn(4, 6)
    assert torch.equal(BranchFusion(("body", "hand"), "sum")({"body": body, "hand": hand}), body + hand)


def test_temperature_fit_recovers_an_overconfident_branch():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, (4000, 6))
    labels = (z + rng.gumbel(size=z.shape)).argmax(1)  # drawn from softmax(z)
    fusion = fit_fusion({"body": (3 * z).astype(np.float32)}, labels, ["body"], "calibrated")
    assert fusion.temperature[0].item() == pytest.approx(3.0, rel=0.1)


def test_weights_favour_the_reliable_branch_and_beat_the_plain_sum():
    logits, labels = _experts()
    fusion = fit_fusion(logits, labels, ["body", "hand"], "weighted")
    body_w, hand_w = (fusion.weights / fusion.temperature).tolist()
    assert hand_w > body_w
    test_logits, test_labels = _experts(seed=1)
    assert _top1(fusion, test_logits, test_labels) > _top1(BranchFusion(("body", "hand")), test_logits, test_labels)


def test_fit_sees_only_the_data_it_is_given():
    logits, labels = _experts()
    val = {k: v[:300] for k, v in logits.items()}
    first = fit_fusion(val, labels[:300], ["body", "hand"], "weighted")
    again = fit_fusion({k: v.copy() for k, v in val.items()}, labels[:300].copy(), ["body", "hand"], "weighted")
    assert torch.equal(first.weights, again.weights)
    other = fit_fusion({k: v[300:] for k, v in logits.items()}, labels[300:], ["body", "hand"], "weighted")
    assert not torch.equal(first.weights, other.weights)


def test_gate_weights_sum_to_one_per_sample():
    logits, labels = _experts()
    fusion = fit_fusion(logits, labels, ["body", "hand"], "gate")
    gate = fusion.gate_weights({k: torch.as_tensor(v) for k, v in logits.items()})
    assert gate.shape == (len(labels), 2)
    assert torch.allclose(gate.sum(1), torch.ones(len(labels)))
    assert (gate[:, 1] > gate[:, 0]).float().mean() > 0.5  # the hand branch, which is right more often, leads


def test_auto_selection_avoids_the_plain_sum_when_one_branch_misleads():
    logits, labels = _experts()
    method, scores = select_method(logits, labels, ["body", "hand"])
    assert set(scores) == set(METHODS)
    assert method != "sum" and scores[method] > scores["sum"]


def test_auto_selection_keeps_the_plain_sum_when_nothing_is_reliably_better():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 6, 300)
    logits = {}
    for branch in ("body", "hand"):  # two equally good, equally calibrated branches
        z = rng.normal(0, 1, (300, 6))
        z[np.arange(300), labels] += 1.5
        logits[branch] = z.astype(np.float32)
    method, _ = select_method(logits, labels, ["body", "hand"])
    assert method == "sum"


@pytest.mark.parametrize("method", METHODS)
def test_fused_variant_saves_and_loads_its_fitted_fusion(method):
    kwargs = dict(num_classes=5, base_channels=4, window=8, method=method)
    model = create_model("reliability-fusion", **kwargs).eval()
    with torch.no_grad():
        model.fusion.temperature.copy_(torch.tensor([2.0, 0.5]))
        model.fusion.weights.copy_(torch.tensor([0.1, 1.5]))
    again = create_model("reliability-fusion", **kwargs).eval()
    again.load_state_dict(model.state_dict())
    inputs = model.example_inputs(batch=2, frames=8)
    inputs["body"], inputs["hand"] = torch.randn_like(inputs["body"]), torch.randn_like(inputs["hand"])
    out = model(inputs)
    assert set(out) >= {"logits", "sum", "body", "hand"}
    assert torch.equal(out["sum"], out["body"] + out["hand"])
    assert torch.allclose(again(inputs)["logits"], out["logits"])


def test_noisy_or_in_an_onnx_graph_keeps_unlikely_classes() -> None:
    """ONNX spells log1p / expm1 out; the graph's form must keep log p of a class of tiny probability."""
    from bharnet.core.noisy_or import detections, noisy_or_log
    from bharnet.models.fusion import _GraphOps

    log_probs = [torch.log_softmax(torch.randn(64, 10, generator=torch.Generator().manual_seed(i)) * 12, 1)
                 for i in range(2)]

    def fused(ops):
        return noisy_or_log(detections([lp.exp() for lp in log_probs], ops, max_prob=1 - 1e-7), ops)

    eager, graph = fused(torch), fused(_GraphOps)
    assert eager.min() < -20  # some classes are that unlikely
    torch.testing.assert_close(graph, eager, rtol=1e-5, atol=1e-5)
