"""Cross-attention between the body and hand streams: exact softmax and FAVOR+ fast attention.

Both kernels share one projection module, :class:`CrossAttention` (queries from one stream, keys and
values from the other, possibly of different lengths), so that the two variants differ only in how
``softmax(QK^T / sqrt(d)) V`` is computed:

* ``"softmax"``: exact attention with :func:`torch.nn.functional.scaled_dot_product_attention`.
* ``"favor"``: Performer's FAVOR+ (Choromanski et al., 2021) with positive orthogonal random
  features. With ``q' = q d^-1/4``, ``k' = k d^-1/4`` and ``m`` random rows ``w_i`` (stored as the
  buffer ``features``)::

      phi(x)_i = exp(w_i . x - |x|^2 / 2) / sqrt(m)
      out      = D^-1 phi(Q') (phi(K')^T V),   D = diag(phi(Q') (phi(K')^T 1))

  so that ``phi(q') . phi(k') ~ exp(q . k / sqrt(d))`` and the cost is linear in the sequence
  lengths. A key padding mask zeroes ``phi(k')`` of masked keys, so they enter neither the
  numerator nor ``D``. Each ``phi`` subtracts a maximum inside the exponential (per query row, and
  once over all valid keys of a sample); both factors cancel in ``D^-1``, they only keep ``exp``
  finite.

The random features are a buffer (saved in checkpoints, so a trained model evaluates with the
features it was trained with). In training they are redrawn every ``redraw_interval`` forward
calls (``None`` or 0: never); in eval they stay fixed.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["orthogonal_gaussian", "favor_attention", "softmax_attention", "CrossAttention"]


def orthogonal_gaussian(num_features: int, dim: int, generator: torch.Generator | None = None,
                        device: torch.device | str | None = None) -> Tensor:
    """``(num_features, dim)`` random rows, orthogonal within each block of ``dim`` rows.

    Each block is the Q of a Gaussian matrix's QR decomposition; every row is then rescaled to the
    norm of an independent Gaussian vector, so that rows are marginally Gaussian (FAVOR+'s
    ``scaling=0``) while being orthogonal inside a block, which lowers the estimator's variance.
    """
    blocks = []
    for start in range(0, num_features, dim):
        gauss = torch.randn(dim, dim, generator=generator, device=device)
        q, _ = torch.linalg.qr(gauss)
        blocks.append(q.T[: min(dim, num_features - start)])
    rows = torch.cat(blocks)
    norms = torch.randn(num_features, dim, generator=generator, device=device).norm(dim=1, keepdim=True)
    return rows * norms


def favor_attention(q: Tensor, k: Tensor, v: Tensor, features: Tensor, key_mask: Tensor | None = None,
                    eps: float = 1e-6) -> Tensor:
    """FAVOR+ attention for ``q (N, H, Lq, d)``, ``k, v (N, H, Lk, d)``; ``key_mask (N, Lk)`` True = valid.

    Returns ``(N, H, Lq, d)`` in ``q``'s dtype. A query whose keys are all masked gets zeros.
    Computed in float32 (the exponentials and the normaliser are fragile in half precision).
    """
    with torch.autocast(device_type=q.device.type, enabled=False):
        out = _favor_float32(q.float(), k.float(), v.float(), features.float(), key_mask, eps)
    return out.to(q.dtype)


def _favor_float32(q: Tensor, k: Tensor, v: Tensor, features: Tensor, key_mask: Tensor | None,
                   eps: float) -> Tensor:
    scale = q.shape[-1] ** -0.25
    q, k = q * scale, k * scale
    # w . x - |x|^2 / 2 for every feature w; phi = exp(logit - stabiliser) / sqrt(m)
    q_logit = q @ features.T - 0.5 * (q * q).sum(-1, keepdim=True)
    k_logit = k @ features.T - 0.5 * (k * k).sum(-1, keepdim=True)
    if key_mask is not None:
        # masked keys get phi = 0: they add to neither the numerator nor D
        k_logit = k_logit.masked_fill(~key_mask[:, None, :, None], float("-inf"))
    # Stabilisers: a constant per query row cancels in D^-1, and so does one per sample (over
    # heads, valid keys and features); they only keep exp() finite.
    q_stab = q_logit.amax(-1, keepdim=True).detach()
    k_stab = k_logit.flatten(1).amax(-1).clamp_min(-1e4).detach()[:, None, None, None]
    root_m = math.sqrt(features.shape[0])
    phi_q = torch.exp(q_logit - q_stab) / root_m
    phi_k = torch.exp(k_logit - k_stab) / root_m
    kv = phi_k.transpose(-1, -2) @ v                     # (N, H, m, d)
    normaliser = phi_q @ phi_k.sum(-2).unsqueeze(-1)     # (N, H, Lq, 1)
    return (phi_q @ kv) / normaliser.clamp_min(eps)


def softmax_attention(q: Tensor, k: Tensor, v: Tensor, key_mask: Tensor | None = None) -> Tensor:
    """Exact ``softmax(q k^T / sqrt(d)) v``; ``key_mask (N, Lk)`` True = valid; all-masked queries give zeros."""
    if key_mask is None:
        return F.scaled_dot_product_attention(q, k, v)
    # A row with no valid key would be NaN: let it attend everywhere, then zero it.
    has_key = key_mask.any(-1)
    mask = key_mask | ~has_key[:, None]
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :])
    return out * has_key[:, None, None, None].to(out.dtype)


class CrossAttention(nn.Module):
    """Multi-head cross-attention: tokens ``x (N, Lq, dim)`` attend to ``context (N, Lk, dim)``.

    Pre-norm (a LayerNorm on each input), bias-free query/key/value projections ``dim -> heads *
    head_dim``, the attention kernel, and an output projection back to ``dim``. Returns the
    attended update ``(N, Lq, dim)`` (the caller adds the residual).
    """

    def __init__(self, dim: int, heads: int = 8, head_dim: int = 64, kernel: str = "favor",
                 nb_features: int = 256, redraw_interval: int | None = 1000, dropout: float = 0.0) -> None:
        super().__init__()
        if kernel not in ("favor", "softmax"):
            raise ValueError(f"unknown attention kernel {kernel!r}; use 'favor' or 'softmax'")
        inner = heads * head_dim
        self.heads, self.head_dim, self.kernel = heads, head_dim, kernel
        self.norm_q = nn.LayerNorm(dim)
        self.norm_kv = nn.LayerNorm(dim)
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_k = nn.Linear(dim, inner, bias=False)
        self.to_v = nn.Linear(dim, inner, bias=False)
        self.to_out = nn.Linear(inner, dim)
        self.dropout = nn.Dropout(dropout)
        self.redraw_interval = redraw_interval
        self._calls_since_redraw = 0
        if kernel == "favor":
            self.register_buffer("features", orthogonal_gaussian(nb_features, head_dim))

    def redraw_features(self) -> None:
        """Draw fresh random features (in place, so that the buffer keeps its device and dtype)."""
        if self.kernel == "favor":
            fresh = orthogonal_gaussian(self.features.shape[0], self.head_dim, device=self.features.device)
            self.features.copy_(fresh)
        self._calls_since_redraw = 0

    def _maybe_redraw(self) -> None:
        if not (self.training and self.kernel == "favor" and self.redraw_interval):
            return
        if self._calls_since_redraw >= self.redraw_interval:
            self.redraw_features()
        self._calls_since_redraw += 1

    def _split(self, x: Tensor) -> Tensor:
        n, length, _ = x.shape
        return x.view(n, length, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x: Tensor, context: Tensor, key_mask: Tensor | None = None) -> Tensor:
        """``x (N, Lq, dim)``, ``context (N, Lk, dim)``, ``key_mask (N, Lk)`` bool, True = valid key."""
        self._maybe_redraw()
        ctx = self.norm_kv(context)
        q = self._split(self.to_q(self.norm_q(x)))
        k, v = self._split(self.to_k(ctx)), self._split(self.to_v(ctx))
        if self.kernel == "favor":
            out = favor_attention(q, k, v, self.features, key_mask)
        else:
            out = softmax_attention(q, k, v, key_mask)
        out = out.transpose(1, 2).reshape(x.shape[0], x.shape[1], self.heads * self.head_dim)
        return self.dropout(self.to_out(out))


def feature_tokens(features: Tensor, tokens: str = "tvm") -> Tensor:
    """Tokens of a feature map ``(N, C, T, V, M)``: ``"tvm"`` gives ``(N, T*V*M, C)``; ``"tv"`` averages
    the instances first and gives ``(N, T*V, C)``."""
    if tokens == "tv":
        features = features.mean(-1, keepdim=True)
    elif tokens != "tvm":
        raise ValueError(f"unknown token set {tokens!r}; use 'tvm' or 'tv'")
    return features.flatten(2).transpose(1, 2)


def token_mask(mask: Tensor | None, tokens: str = "tvm") -> Tensor | None:
    """Valid-token mask ``(N, L)`` from a ``(N, T, V, M)`` bool mask (an instance-averaged token is valid
    when any of its instances is)."""
    if mask is None:
        return None
    if tokens == "tv":
        mask = mask.any(-1, keepdim=True)
    return mask.flatten(1)


class StreamCrossAttention(nn.Module):
    """Both directions of cross-attention between two streams' feature maps, with residuals.

    The body's tokens (queries) attend to the hand's tokens (keys, values) and the other way round;
    each direction has its own :class:`CrossAttention`. Token masks (True = valid) are applied to the
    keys only, so a query always gets its residual. With ``tokens="tv"`` the update of an
    instance-averaged token is added to every instance at that (t, v).
    """

    def __init__(self, dim: int, heads: int = 8, head_dim: int = 64, kernel: str = "favor", tokens: str = "tvm",
                 nb_features: int = 256, redraw_interval: int | None = 1000, dropout: float = 0.0) -> None:
        super().__init__()
        feature_tokens(torch.zeros(1, 1, 1, 1, 1), tokens)  # validate early
        self.tokens = tokens
        kw = dict(heads=heads, head_dim=head_dim, kernel=kernel, nb_features=nb_features,
                  redraw_interval=redraw_interval, dropout=dropout)
        self.body_from_hand = CrossAttention(dim, **kw)
        self.hand_from_body = CrossAttention(dim, **kw)

    def forward(self, body: Tensor, hand: Tensor, body_mask: Tensor | None = None,
                hand_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``body (N, C, T, V, M)``, ``hand (N, C, T', V', M')``, masks ``(N, T, V, M)`` bool or None."""
        tb, th = feature_tokens(body, self.tokens), feature_tokens(hand, self.tokens)
        mb, mh = token_mask(body_mask, self.tokens), token_mask(hand_mask, self.tokens)
        body_update = self.body_from_hand(tb, th, mh)
        hand_update = self.hand_from_body(th, tb, mb)
        return body + self._to_map(body_update, body), hand + self._to_map(hand_update, hand)

    def _to_map(self, update: Tensor, like: Tensor) -> Tensor:
        n, c, t, v, m = like.shape
        instances = 1 if self.tokens == "tv" else m
        return update.transpose(1, 2).reshape(n, c, t, v, instances)
