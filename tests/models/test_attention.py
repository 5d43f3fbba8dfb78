"""FAVOR+ and exact cross-attention: approximation, masks, random-feature policy."""

from __future__ import annotations

import pytest
import torch

from bharnet.models.attention import (
    CrossAttention,
    StreamCrossAttention,
    favor_attention,
    orthogonal_gaussian,
    softmax_attention,
)


def _qkv(seed: int = 0, lq: int = 7, lk: int = 11, d: int = 16) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(2, 2, lq, d, generator=g) * 0.5
    k = torch.randn(2, 2, lk, d, generator=g) * 0.5
    v = torch.randn(2, 2, lk, d, generator=g)
    return q, k, v


def test_orthogonal_blocks() -> None:
    w = orthogonal_gaussian(40, 16, torch.Generator().manual_seed(0))
    assert w.shape == (40, 16)
    block = w[:16] / w[:16].norm(dim=1, keepdim=True)
    assert torch.allclose(block @ block.T, torch.eye(16), atol=1e-5)


def test_favor_error_falls_with_more_features() -> None:
    q, k, v = _qkv()
    exact = softmax_attention(q, k, v)
    errors = []
    for m in (16, 128, 1024, 8192):
        runs = [(favor_attention(q, k, v, orthogonal_gaussian(m, 16, torch.Generator().manual_seed(s))) - exact)
                .abs().mean() for s in range(4)]
        errors.append(torch.stack(runs).mean().item())
    assert all(a > b for a, b in zip(errors, errors[1:], strict=False)), errors
    assert errors[-1] < 0.25 * errors[0]
    assert errors[-1] < 0.02


def test_favor_mask_acts_in_normaliser() -> None:
    q, k, v = _qkv()
    w = orthogonal_gaussian(64, 16, torch.Generator().manual_seed(1))
    mask = torch.ones(2, 11, dtype=torch.bool)
    mask[0, 6:] = False
    k_big = k.clone()
    k_big[0, :, 6:] = 50.0  # masked keys that would dominate an unmasked softmax
    masked = favor_attention(q, k_big, v, w, mask)
    subset = favor_attention(q[:1], k[:1, :, :6], v[:1, :, :6], w)
    assert torch.allclose(masked[:1], subset, atol=1e-5)
    assert torch.allclose(masked[1], favor_attention(q, k, v, w)[1], atol=1e-5)


@pytest.mark.parametrize("kernel", ["favor", "softmax"])
def test_all_keys_masked_gives_zeros(kernel: str) -> None:
    q, k, v = _qkv()
    mask = torch.zeros(2, 11, dtype=torch.bool)
    mask[1, :3] = True
    if kernel == "favor":
        out = favor_attention(q, k, v, orthogonal_gaussian(64, 16), mask)
    else:
        out = softmax_attention(q, k, v, mask)
    assert torch.isfinite(out).all()
    assert out[0].abs().max() == 0
    assert out[1].abs().max() > 0


def test_softmax_mask_equals_subset() -> None:
    q, k, v = _qkv()
    mask = torch.ones(2, 11, dtype=torch.bool)
    mask[:, 4:] = False
    assert torch.allclose(softmax_attention(q, k, v, mask), softmax_attention(q, k[:, :, :4], v[:, :, :4]), atol=1e-6)


@pytest.mark.parametrize("kernel", ["favor", "softmax"])
def test_cross_attention_lengths_and_gradients(kernel: str) -> None:
    attn = CrossAttention(32, heads=2, head_dim=8, kernel=kernel, nb_features=32)
    x, ctx = torch.randn(3, 5, 32, requires_grad=True), torch.randn(3, 9, 32, requires_grad=True)
    out = attn(x, ctx, torch.ones(3, 9, dtype=torch.bool))
    assert out.shape == (3, 5, 32)
    out.sum().backward()
    assert x.grad.abs().sum() > 0 and ctx.grad.abs().sum() > 0


def test_favor_close_to_softmax_module() -> None:
    torch.manual_seed(0)
    exact = CrossAttention(16, heads=2, head_dim=8, kernel="softmax")
    fast = CrossAttention(16, heads=2, head_dim=8, kernel="favor", nb_features=4096)
    fast.load_state_dict(exact.state_dict(), strict=False)
    x, ctx = torch.randn(2, 6, 16), torch.randn(2, 10, 16)
    assert (fast(x, ctx) - exact(x, ctx)).abs().mean() < 0.2 * exact(x, ctx).abs().mean()


def test_redraw_policy() -> None:
    attn = CrossAttention(16, heads=2, head_dim=8, nb_features=16, redraw_interval=2)
    x = torch.randn(1, 3, 16)
    assert "features" in attn.state_dict()
    first = attn.features.clone()
    attn.train()
    attn(x, x)
    attn(x, x)
    assert torch.equal(attn.features, first)       # two training calls on the first draw
    attn(x, x)
    assert not torch.equal(attn.features, first)   # the third one redraws
    attn.eval()
    fixed = attn.features.clone()
    for _ in range(5):
        attn(x, x)
    assert torch.equal(attn.features, fixed)
    never = CrossAttention(16, heads=2, head_dim=8, nb_features=16, redraw_interval=None).train()
    kept = never.features.clone()
    for _ in range(4):
        never(x, x)
    assert torch.equal(never.features, kept)


@pytest.mark.parametrize("tokens", ["tvm", "tv"])
def test_stream_cross_attention_masks_hand_keys(tokens: str) -> None:
    torch.manual_seed(0)
    block = StreamCrossAttention(16, heads=2, head_dim=8, kernel="softmax", tokens=tokens).eval()
    body, hand = torch.randn(2, 16, 4, 25, 2), torch.randn(2, 16, 4, 25, 2)
    mask = torch.ones(2, 4, 25, 2, dtype=torch.bool)
    mask[:, :, 21:] = False                        # padded joints
    body_out, hand_out = block(body, hand, hand_mask=mask)
    assert body_out.shape == body.shape and hand_out.shape == hand.shape
    changed = hand.clone()
    changed[:, :, :, 21:] = 100.0
    assert torch.allclose(block(body, changed, hand_mask=mask)[0], body_out, atol=1e-5)


def test_favor_under_autocast_stays_finite() -> None:
    attn = CrossAttention(32, heads=2, head_dim=8, nb_features=32)
    x = torch.randn(2, 5, 32) * 20
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = attn(x, x)
    assert out.dtype == torch.bfloat16 and torch.isfinite(out).all()
