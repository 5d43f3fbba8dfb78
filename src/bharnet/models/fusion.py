"""Reliability-weighted fusion of a trained model's branches, fitted on a validation split.

The paper fuses by summing raw logits (``z_B + z_H``; BHaRNet-E sums four branches). When one
expert is far weaker than the other, its confident mistakes outvote the stronger one. The
methods here weigh each branch by how reliable it proved on held-out data:

===============  ===============================================================================
``sum``          ``sum_b z_b``: the paper's score fusion, nothing fitted
``calibrated``   ``sum_b log softmax(z_b / T_b)``: each branch's temperature ``T_b`` fitted alone
                 (its own negative log-likelihood), then summed
``weighted``     ``sum_b w_b log softmax(z_b / T_b)``: per-branch weights ``w_b >= 0`` fitted
                 together on the fused negative log-likelihood
``noisy-or``     ``p_k = 1 - prod_b (1 - p_bk)`` with ``p_b = softmax(z_b / T_b)`` (the journal
                 extension's Noisy-OR: class k is present when any branch detects it)
``gate``         a per-sample gate ``g(x) = softmax(A f(x) + c)`` (weights sum to one) over the
                 branches from each branch's confidence features ``f`` (top probability, margin,
                 normalised entropy); ``sum_b B g_b log softmax(z_b / T_b)`` (B branches: a uniform
                 gate is ``calibrated``)
===============  ===============================================================================

``auto`` picks one of them by k-fold cross-validation on the validation split and refits it on
the whole split: the simplest method (in the order above) whose held-out top-1 is within one
standard error (of the paired per-sample difference) of the best method's.
Every fused output is a log-probability (or, for ``sum``, the raw sum), so ``argmax`` predicts.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bharnet.core.noisy_or import detections, noisy_or_log
from bharnet.models.registry import ModelInputs, ModelSpec, create_model, model_spec, register_model

__all__ = ["METHODS", "BranchFusion", "FusedModel", "fit_fusion", "select_method", "fused_logits"]

METHODS = ("sum", "calibrated", "weighted", "noisy-or", "gate")
#: confidence features per branch that the gate reads
GATE_FEATURES = 3
_GATE_L2 = 1e-3


def _confidence_features(log_probs: Tensor) -> Tensor:
    """``(N, K)`` log-probabilities -> ``(N, 3)``: top probability, margin to the second, 1 - entropy / log K."""
    probs = log_probs.exp()
    top2 = probs.topk(min(2, probs.shape[1]), dim=1).values
    margin = top2[:, 0] - (top2[:, 1] if top2.shape[1] > 1 else 0)
    entropy = -(probs * log_probs).sum(1) / math.log(max(2, probs.shape[1]))
    return torch.stack([top2[:, 0], margin, 1 - entropy], 1)


class BranchFusion(nn.Module):
    """Fuses named branch logits ``(N, K)`` by one of :data:`METHODS` with fitted parameters.

    Every method keeps the same tensors (``temperature``, ``weights``, the gate's ``gate``
    linear layer), so a saved fusion loads whatever the method; :func:`fit_fusion` sets them.
    """

    def __init__(self, branches: Sequence[str], method: str = "sum") -> None:
        super().__init__()
        if method not in METHODS:
            raise ValueError(f"unknown fusion method {method!r}; choose one of {', '.join(METHODS)}")
        if not branches:
            raise ValueError("a fusion needs at least one branch")
        self.branches, self.method = tuple(branches), method
        n = len(self.branches)
        self.register_buffer("temperature", torch.ones(n))
        self.register_buffer("weights", torch.ones(n))
        self.gate = nn.Linear(GATE_FEATURES * n, n)
        nn.init.zeros_(self.gate.weight)
        nn.init.zeros_(self.gate.bias)
        self.gate.requires_grad_(False)

    def extra_repr(self) -> str:
        return f"branches={self.branches}, method={self.method!r}"

    def _log_probs(self, outputs: Mapping[str, Tensor]) -> list[Tensor]:
        return [F.log_softmax(outputs[b].float() / self.temperature[i], dim=1) for i, b in enumerate(self.branches)]

    def gate_weights(self, outputs: Mapping[str, Tensor]) -> Tensor:
        """``(N, B)`` per-sample branch weights of the gate (each row sums to one)."""
        features = torch.cat([_confidence_features(lp) for lp in self._log_probs(outputs)], 1)
        return torch.softmax(self.gate(features), dim=1)

    def forward(self, outputs: Mapping[str, Tensor]) -> Tensor:
        """The fused logits ``(N, K)``."""
        if self.method == "sum":
            return sum(outputs[b] for b in self.branches)
        log_probs = self._log_probs(outputs)
        if self.method == "calibrated":
            return sum(log_probs)
        if self.method == "weighted":
            return sum(w * lp for w, lp in zip(self.weights, log_probs, strict=True))
        if self.method == "noisy-or":  # 1 - 1e-12 would round to 1 in float32
            ops = _GraphOps if torch.onnx.is_in_onnx_export() else torch
            return noisy_or_log(detections([lp.exp() for lp in log_probs], ops, max_prob=1 - 1e-7), ops)
        gate = self.gate_weights(outputs) * len(self.branches)
        return sum(gate[:, i : i + 1] * lp for i, lp in enumerate(log_probs))


class _GraphOps:
    """torch for :mod:`bharnet.core.noisy_or` in an ONNX graph. ONNX has no Log1p / Expm1 operator
    and the exporter writes ``log(1 + x)`` / ``exp(x) - 1``, which lose a small ``x`` in float32
    (an unlikely class's log-probability came out tens of units off); near zero their Taylor series
    keep it to float precision."""

    log = staticmethod(torch.log)
    clip = staticmethod(torch.clip)

    @staticmethod
    def log1p(x: Tensor) -> Tensor:
        series = x * (1 - x * (1 / 2 - x * (1 / 3 - x * (1 / 4 - x * (1 / 5 - x * (1 / 6 - x / 7))))))
        return torch.where(x.abs() < 0.1, series, torch.log(1 + x))

    @staticmethod
    def expm1(x: Tensor) -> Tensor:
        series = x * (1 + x * (1 / 2 + x * (1 / 6 + x * (1 / 24 + x * (1 / 120 + x / 720)))))
        return torch.where(x.abs() < 0.1, series, torch.exp(x) - 1)


def fused_logits(fusion: BranchFusion, logits: Mapping[str, np.ndarray]) -> np.ndarray:
    """Apply a fusion to NumPy branch logits."""
    with torch.no_grad():
        return fusion({b: torch.as_tensor(logits[b]) for b in fusion.branches}).numpy()


def _nll(log_probs: Tensor, labels: Tensor) -> Tensor:
    return F.cross_entropy(log_probs, labels)


def _lbfgs(params: list[Tensor], loss_fn, steps: int = 100) -> None:
    optimizer = torch.optim.LBFGS(params, lr=0.5, max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> Tensor:
        optimizer.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    optimizer.step(closure)


def _fit_temperature(logits: Tensor, labels: Tensor) -> float:
    """The temperature that minimises one branch's negative log-likelihood (searched as log T)."""
    log_t = torch.zeros((), requires_grad=True)
    _lbfgs([log_t], lambda: _nll(logits / log_t.clamp(-5, 5).exp(), labels))
    return float(log_t.detach().clamp(-5, 5).exp())


@contextmanager
def _one_thread() -> Iterator[None]:
    """Tiny tensors: one thread is many times faster than several that wait for each other on a busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def fit_fusion(logits: Mapping[str, np.ndarray], labels: np.ndarray, branches: Sequence[str],
               method: str) -> BranchFusion:
    """A fusion of ``branches`` fitted on validation ``logits`` (``{branch: (N, K)}``) and ``labels``.

    Only the data given is seen: pass a validation split, never the test split.
    """
    with _one_thread():
        return _fit(logits, labels, branches, method)


def _fit(logits: Mapping[str, np.ndarray], labels: np.ndarray, branches: Sequence[str], method: str) -> BranchFusion:
    fusion = BranchFusion(branches, method)
    if method == "sum":
        return fusion
    z = {b: torch.as_tensor(logits[b], dtype=torch.float32) for b in fusion.branches}
    y = torch.as_tensor(labels, dtype=torch.int64)
    with torch.no_grad():
        fusion.temperature.copy_(torch.tensor([_fit_temperature(z[b], y) for b in fusion.branches]))
    if method == "weighted":
        log_probs = [lp.detach() for lp in fusion._log_probs(z)]
        log_w = torch.zeros(len(log_probs), requires_grad=True)

        def weighted_nll() -> Tensor:
            w = log_w.clamp(-8, 4).exp()
            return _nll(sum(wi * lp for wi, lp in zip(w, log_probs, strict=True)), y)

        _lbfgs([log_w], weighted_nll)
        with torch.no_grad():
            fusion.weights.copy_(log_w.detach().clamp(-8, 4).exp())
    elif method == "gate":
        fusion.gate.requires_grad_(True)
        _lbfgs(list(fusion.gate.parameters()),
               lambda: _nll(fusion(z), y) + _GATE_L2 * fusion.gate.weight.square().sum())
        fusion.gate.requires_grad_(False)
    return fusion


def _folds(labels: np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    """``k`` held-out index sets, each class dealt round-robin over them after a seeded shuffle."""
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(labels), np.int64)
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        fold_of[members] = (np.arange(len(members)) + rng.integers(k)) % k
    return [np.flatnonzero(fold_of == i) for i in range(k)]


def select_method(logits: Mapping[str, np.ndarray], labels: np.ndarray, branches: Sequence[str],
                  methods: Sequence[str] = METHODS, folds: int = 5, seed: int = 0) -> tuple[str, dict[str, float]]:
    """The method to use, chosen by ``folds``-fold cross-validation on validation data, and every
    method's held-out top-1.

    The one-standard-error rule on paired outcomes: the first method in ``methods`` (the simplest)
    whose held-out correctness trails the best method's by no more than the standard error of
    that per-sample difference. A method that is better by chance on a small split does not
    replace the plain sum.
    """
    labels = np.asarray(labels)
    correct = {m: np.zeros(len(labels)) for m in methods}
    for held in _folds(labels, folds, seed):
        keep = np.setdiff1d(np.arange(len(labels)), held)
        for method in methods:
            fusion = fit_fusion({b: logits[b][keep] for b in branches}, labels[keep], branches, method)
            pred = fused_logits(fusion, {b: logits[b][held] for b in branches}).argmax(1)
            correct[method][held] = pred == labels[held]
    scores = {m: float(c.mean()) for m, c in correct.items()}
    best = max(methods, key=lambda m: scores[m])
    for method in methods:
        diff = correct[best] - correct[method]
        # a tie within rounding (e.g. one sample apart: mean == SE) keeps the simpler method
        if diff.mean() <= diff.std(ddof=1) / math.sqrt(len(diff)) + 1e-9 or not diff.any():
            return method, scores
    return best, scores


class FusedModel(nn.Module):
    """A trained multi-branch model whose prediction is a fitted :class:`BranchFusion` of its branches.

    ``base`` is a registered variant (built for ``inputs`` with ``**options``) and keeps its weights under
    ``base.``; the outputs are the base's branches, ``sum`` (the base's own ``logits``) and
    ``logits`` (the fusion). Nothing here is trained by gradient descent: the base is trained
    first, the fusion fitted on a validation split (see ``bharnet.ablation``).
    """

    def __init__(self, base: str, branches: Sequence[str], method: str = "sum", inputs: ModelInputs | None = None,
                 **options) -> None:
        super().__init__()
        self.base_name = base
        self.base = create_model(base, inputs, **options)
        self.streams = tuple(self.base.streams)
        self.fusion = BranchFusion(branches, method)

    def forward(self, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
        outputs = dict(self.base(inputs))
        outputs["sum"] = outputs.pop("logits")
        return {"logits": self.fusion(outputs), **outputs}

    def compute_loss(self, outputs: dict[str, Tensor], labels: Tensor) -> dict[str, Tensor]:
        # the base's own loss on its branches (its logits are under "sum" here)
        return self.base.compute_loss({**outputs, "logits": outputs["sum"]}, labels)

    def example_inputs(self, batch: int = 1, frames: int = 64) -> dict[str, Tensor]:
        return self.base.example_inputs(batch=batch, frames=frames)


def _fused(base: str, branches: tuple[str, ...], method: str, attention: bool = False) -> ModelSpec:
    return ModelSpec(("body", "hand"), stage="derived", sources=tuple((base, b) for b in branches),
                     attention=attention, fusion=method)


def _factory(name: str):
    def build(inputs: ModelInputs, method: str | None = None, **options) -> FusedModel:
        spec = model_spec(name)
        method = method or spec.fusion
        # "auto" is resolved by fitting; a model built before that predicts with the plain sum
        return FusedModel(spec.sources[0][0], [b for _, b in spec.sources], "sum" if method == "auto" else method,
                          inputs, **options)

    return build


@register_model("reliability-fusion", _fused("score-fusion", ("body", "hand"), "auto"))
def reliability_fusion(inputs: ModelInputs, **options) -> FusedModel:
    """The two experts fused by the method that measures best on validation (``auto``)."""
    return _factory("reliability-fusion")(inputs, **options)


@register_model("noisy-or", _fused("score-fusion", ("body", "hand"), "noisy-or"))
def noisy_or(inputs: ModelInputs, **options) -> FusedModel:
    """The two experts fused by a temperature-calibrated Noisy-OR."""
    return _factory("noisy-or")(inputs, **options)


@register_model("bharnet-e-reliability", _fused(
    "bharnet-e", ("body_expert", "hand_expert", "body_inter", "hand_inter"), "auto", attention=True))
def bharnet_e_reliability(inputs: ModelInputs, **options) -> FusedModel:
    """BHaRNet-E's four branches fused by the method that measures best on validation (``auto``)."""
    return _factory("bharnet-e-reliability")(inputs, **options)
