"""Individual and complementary losses."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from bharnet.models.losses import BranchLoss, smoothed_cross_entropy


def test_terms_and_total() -> None:
    torch.manual_seed(0)
    out = {"body": torch.randn(4, 5), "hand": torch.randn(4, 5)}
    y = torch.tensor([0, 1, 2, 3])
    terms = BranchLoss(("body", "hand"), ("body", "hand"), lambda_cpl=0.5, label_smoothing=0.1)(out, y)
    ce = [F.cross_entropy(out[k], y, label_smoothing=0.1) for k in ("body", "hand")]
    cpl = F.cross_entropy((out["body"] + out["hand"]) / 2, y, label_smoothing=0.1)
    assert torch.allclose(terms["ce_body"], ce[0]) and torch.allclose(terms["cpl"], cpl)
    assert torch.allclose(terms["loss"], ce[0] + ce[1] + 0.5 * cpl)


def test_no_complementary_when_lambda_zero() -> None:
    out = {"body": torch.randn(2, 3)}
    terms = BranchLoss(("body",), ("body",), lambda_cpl=0.0)(out, torch.tensor([0, 1]))
    assert set(terms) == {"loss", "ce_body"}


def test_smoothing_changes_loss() -> None:
    z, y = torch.tensor([[8.0, 0.0, 0.0]]), torch.tensor([0])
    assert smoothed_cross_entropy(z, y, 0.1) > smoothed_cross_entropy(z, y, 0.0)


def test_empty_loss_rejected() -> None:
    with pytest.raises(ValueError):
        BranchLoss(())({}, torch.tensor([0]))
