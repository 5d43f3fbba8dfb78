"""Pooling Attention Module: views, masks, shapes for streams of different sizes."""

from __future__ import annotations

import pytest
import torch

from bharnet.models.pam import PoolingAttention, pooled_mask, pooled_view


def test_pooled_views() -> None:
    x = torch.randn(2, 8, 6, 5, 3)
    assert torch.allclose(pooled_view(x, "t"), x.mean(dim=(3, 4)).transpose(1, 2))
    assert pooled_view(x, "v").shape == (2, 5, 8)
    assert torch.allclose(pooled_view(x, "m"), x.mean(dim=(2, 3)).transpose(1, 2))


def test_pooled_mask_any_over_other_axes() -> None:
    mask = torch.zeros(1, 6, 5, 3, dtype=torch.bool)
    mask[0, 2, 1, 0] = True
    assert pooled_mask(mask, "t").tolist() == [[False, False, True, False, False, False]]
    assert pooled_mask(mask, "v").tolist() == [[False, True, False, False, False]]
    assert pooled_mask(mask, "m").tolist() == [[True, False, False]]


@pytest.mark.parametrize("kernel", ["favor", "softmax"])
def test_pam_shapes_differ_between_streams(kernel: str) -> None:
    pam = PoolingAttention(16, heads=2, head_dim=8, kernel=kernel, nb_features=32)
    body = torch.randn(3, 16, 4, 25, 2, requires_grad=True)
    hand = torch.randn(3, 16, 4, 21, 1, requires_grad=True)
    p_body, p_hand = pam(body, hand)
    assert p_body.shape == (3, 16) and p_hand.shape == (3, 16)
    (p_body.sum() + p_hand.sum()).backward()
    assert body.grad.abs().sum() > 0 and hand.grad.abs().sum() > 0
    assert len(pam.body_from_hand) == 3 and len(pam.hand_from_body) == 3


def test_pam_without_attention_is_sum_of_gaps() -> None:
    pam = PoolingAttention(16, heads=2, head_dim=8, kernel="softmax")
    for attn in [*pam.body_from_hand.values(), *pam.hand_from_body.values()]:
        torch.nn.init.zeros_(attn.to_out.weight)
        torch.nn.init.zeros_(attn.to_out.bias)
    body, hand = torch.randn(2, 16, 4, 25, 2), torch.randn(2, 16, 4, 25, 2)
    p_body, _ = pam(body, hand)
    assert torch.allclose(p_body, 3 * body.mean(dim=(2, 3, 4)), atol=1e-5)


def test_pam_ignores_masked_hand_tokens() -> None:
    torch.manual_seed(0)
    pam = PoolingAttention(16, heads=2, head_dim=8, kernel="favor", nb_features=64).eval()
    body, hand = torch.randn(2, 16, 4, 25, 2), torch.randn(2, 16, 4, 25, 2)
    mask = torch.ones(2, 4, 25, 2, dtype=torch.bool)
    mask[:, :, :, 1] = False                       # the right hand is never seen
    p_body, _ = pam(body, hand, hand_mask=mask)
    changed = hand.clone()
    changed[..., 1] = 30.0
    # the M view ignores the missing hand; the T and V views average it in, so only M is compared
    pam_m = PoolingAttention(16, heads=2, head_dim=8, kernel="favor", nb_features=64, axes=("m",)).eval()
    assert torch.allclose(pam_m(body, hand, hand_mask=mask)[0], pam_m(body, changed, hand_mask=mask)[0], atol=1e-5)
    assert p_body.shape == (2, 16)


def test_pam_rejects_unknown_axis() -> None:
    with pytest.raises(ValueError, match="axes"):
        PoolingAttention(16, axes=("t", "x"))
