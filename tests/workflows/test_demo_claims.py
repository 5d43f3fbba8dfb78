"""The quick demo's pattern, not its numbers: every claim that held on each seed measured
(``demo_spread.yaml``) holds on this run too, and the run is set against that spread."""

from __future__ import annotations

import pytest

from bharnet.workflows.demo import CLAIMS, check_claims, load_spread, run_demo


def test_claims_are_checked_by_name_and_skip_what_a_run_cannot_show() -> None:
    models = {"body-expert": {"top1": 0.5, "top1_hand_classes": 0.2, "top1_body_classes": 1.0},
              "hand-expert": {"top1": 0.3, "top1_hand_classes": 0.6, "top1_body_classes": 0.3},
              "score-fusion": {"top1": 0.7}, "joint": {"top1": 0.65}}
    claims = check_claims({"models": models})
    assert set(claims) <= set(CLAIMS)
    assert claims["score fusion above both experts"] and not claims["joint training above score fusion"]
    assert claims["the hand expert reads the fingers (hand-only: hand expert > body expert)"]
    assert "RGB lifts the object classes of every fused skeleton model" not in claims  # no RGB row in this run


@pytest.mark.slow
def test_the_quick_demo_keeps_every_claim_that_held_on_every_seed(tmp_path) -> None:
    spread = load_spread("quick")
    assert spread is not None, "no spread recorded for the quick demo (benchmarks/demo_seeds.py --quick --write)"
    always = [claim for claim, held in spread["claims"].items() if held == len(spread["seeds"])]
    results = run_demo(tmp_path / "demo", quick=True)
    assert always and all(results["claims"][claim] for claim in always), results["claims"]


def test_a_run_of_a_measured_seed_lies_within_the_spread() -> None:
    from bharnet.workflows.demo import spread_table

    spread = {"seeds": [0, 1], "machine": "m", "models": {"joint": {"top1": [74.4, 83.3]}}}
    table = spread_table({"models": {"joint": {"top1": 0.83333}}}, spread)  # recorded as 83.3
    assert list(table.columns[-1].cells) == ["within"]
