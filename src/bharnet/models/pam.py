"""Pooling Attention Module (PAM, BHaRNet-P): cross-attention between pooled views of the two streams.

For a backbone output ``F (N, C, T, V, M)`` of each stream and each axis ``a`` in ``{T, V, M}``::

    X_a   = mean of F over the two other axes              (N, L_a, C): tokens along a
    Y_a   = X_a + CrossAttention_a(X_a, X'_a)              queries X_a, keys/values X'_a (other stream)
    p_a   = mean of Y_a over its tokens                    (N, C)
    p     = p_T + p_V + p_M                                (N, C)   -> the stream's FC gives its logits

(``X'_a`` is the other stream's view along the same axis, which may have a different length, e.g.
two body instances vs two hands, 25 body joints vs 25 padded hand joints.) ``CrossAttention_a``
projects ``C -> heads * head_dim``, attends (FAVOR+ by default), projects back to ``C``; each view
and each direction has its own weights. Attention runs over ``T + V + M`` tokens per stream instead
of ``T * V * M``. Key masks come from pooling the valid-token mask: a pooled token is valid when
any of the tokens it averages is (so padded hand joints, frames without a hand and a hand never
seen are not attended to).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from bharnet.models.attention import CrossAttention

__all__ = ["PoolingAttention", "pooled_view"]

# Tensor dimension of each axis in (N, C, T, V, M).
_AXES = {"t": 2, "v": 3, "m": 4}


def pooled_view(features: Tensor, axis: str) -> Tensor:
    """Tokens along ``axis`` of ``features (N, C, T, V, M)``: the mean over the other two axes, ``(N, L, C)``."""
    keep = _AXES[axis]
    others = [d for d in _AXES.values() if d != keep]
    return features.mean(dim=others).transpose(1, 2)


def pooled_mask(mask: Tensor | None, axis: str) -> Tensor | None:
    """Valid tokens ``(N, L)`` along ``axis`` of a ``(N, T, V, M)`` bool mask: any over the other axes."""
    if mask is None:
        return None
    keep = _AXES[axis] - 1
    others = [d for d in (1, 2, 3) if d != keep]
    return mask.any(dim=others[1]).any(dim=others[0])


class PoolingAttention(nn.Module):
    """PAM over both streams; returns the pooled-and-summed feature ``(N, C)`` of each stream."""

    def __init__(self, dim: int, heads: int = 8, head_dim: int = 64, kernel: str = "favor",
                 nb_features: int = 256, redraw_interval: int | None = 1000, axes: tuple[str, ...] = ("t", "v", "m"),
                 dropout: float = 0.0) -> None:
        super().__init__()
        unknown = [a for a in axes if a not in _AXES]
        if unknown or not axes:
            raise ValueError(f"PAM axes must be a non-empty subset of t, v, m; got {axes}")
        self.axes = tuple(axes)
        kw = dict(heads=heads, head_dim=head_dim, kernel=kernel, nb_features=nb_features,
                  redraw_interval=redraw_interval, dropout=dropout)
        self.body_from_hand = nn.ModuleDict({a: CrossAttention(dim, **kw) for a in self.axes})
        self.hand_from_body = nn.ModuleDict({a: CrossAttention(dim, **kw) for a in self.axes})

    def forward(self, body: Tensor, hand: Tensor, body_mask: Tensor | None = None,
                hand_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``body (N, C, T, V, M)``, ``hand (N, C, T', V', M')``, masks ``(N, T, V, M)`` bool or None."""
        pooled_body, pooled_hand = [], []
        for axis in self.axes:
            xb, xh = pooled_view(body, axis), pooled_view(hand, axis)
            mb, mh = pooled_mask(body_mask, axis), pooled_mask(hand_mask, axis)
            pooled_body.append((xb + self.body_from_hand[axis](xb, xh, mh)).mean(1))
            pooled_hand.append((xh + self.hand_from_body[axis](xh, xb, mb)).mean(1))
        return torch.stack(pooled_body).sum(0), torch.stack(pooled_hand).sum(0)
