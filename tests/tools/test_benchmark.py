"""The benchmark's report and its plumbing for the public DeGCN code.

No checkout of the public code is available to the tests: a stand-in written here has its
constructor and its parameter names but wraps our own DeGCN. So the tests with it check the
plumbing (loading a checkout, moving our weights under the reference's names, the report's values
and how they agree with each other), not that the public code computes what ours does."""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from dataclasses import asdict

import pytest
import torch

from bharnet import __version__
from bharnet.cli import benchmark as benchmark_cli
from bharnet.core.errors import UserError
from bharnet.models import create_model
from bharnet.tools.benchmark import BenchConfig, benchmark_variants
from bharnet.tools.reference_degcn import load_reference_degcn, reference_degcn

TINY = BenchConfig(batch=1, frames=8, repeats=1, warmup=0, num_classes=5, threads=1)

# a stand-in for the public code: same constructor, reference parameter names, our network inside
STAND_IN_MODEL = '''
import torch.nn as nn
from bharnet.models.backbones.degcn import DeGCN, load_reference_degcn_state, to_reference_degcn_state


def import_class(name):
    module = __import__(name.rsplit(".", 1)[0], fromlist=["x"])
    return getattr(module, name.rsplit(".", 1)[1])


class Model(nn.Module):
    def __init__(self, num_class=60, num_point=25, num_person=2, k=8, eta=4, num_stream=2, graph=None,
                 graph_args=dict(), in_channels=3, drop_out=0):
        super().__init__()
        self.graph = import_class(graph)(**graph_args)
        self.inner = DeGCN(num_classes=num_class, num_persons=num_person, in_channels=in_channels)

    def state_dict(self, *args, **kwargs):
        return to_reference_degcn_state(self.inner.state_dict())

    def load_state_dict(self, state, strict=True):
        return load_reference_degcn_state(self.inner, state, strict)

    def forward(self, x):
        return [self.inner(x)]
'''
STAND_IN_GRAPH = '''
class Graph:
    def __init__(self, labeling_mode="spatial"):
        self.labeling_mode = labeling_mode
'''


@pytest.fixture
def stand_in_checkout(tmp_path, monkeypatch):
    root = tmp_path / "DeGCN_pytorch"
    for package in ("model", "graph"):
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
    (root / "model" / "degcn.py").write_text(textwrap.dedent(STAND_IN_MODEL))
    (root / "graph" / "ntu_rgb_d.py").write_text(textwrap.dedent(STAND_IN_GRAPH))
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield root
    for name in [n for n in sys.modules if n.split(".")[0] in ("model", "graph")]:
        del sys.modules[name]


def _assert_consistent(r: dict, batch: int) -> None:
    """Speeds, times and GFLOP/s of one variant agree: a training step counts as 3 forward passes."""
    for kind, passes in (("infer", 1), ("train", 3)):
        assert r[f"{kind}_samples_per_s"] > 0, kind
        assert r[f"{kind}_ms_per_batch"] == pytest.approx(1e3 * batch / r[f"{kind}_samples_per_s"])
        assert r[f"{kind}_gflops"] == pytest.approx(2 * passes * r["gmacs_per_sample"] * r[f"{kind}_samples_per_s"])
    assert 0 < r["gmacs_per_sample"] < 100 and r["params"] > 1000
    assert 10 < r["peak_rss_mb"] < 1e6  # an interpreter with torch loaded, in MiB


def test_report_values_are_plausible_and_agree() -> None:
    result = benchmark_variants(["body-expert"], TINY)
    json.dumps(result)
    assert 0 < result["matmul_gflops"] < 1e6
    assert result["config"] == asdict(TINY)
    machine = result["machine"]
    assert 1 <= machine["usable_cores"] <= machine["logical_cores"] == os.cpu_count()
    assert (machine["torch_threads"], machine["bharnet"]) == (1, __version__)
    assert len(machine["load_average"]) == len(machine["load_average_after"]) == 3
    r = result["variants"]["body-expert"]
    assert (r["variant"], r["backbone"], r["batch"], r["frames"]) == ("body-expert", "degcn", 1, 8)
    assert r["params"] == sum(p.numel() for p in create_model("body-expert", num_classes=5, window=8).parameters())
    _assert_consistent(r, batch=1)
    assert "reference_infer_samples_per_s" not in r


def test_dual_stream_variant_runs() -> None:
    result = benchmark_variants(["bharnet-e-expert"], BenchConfig(batch=1, frames=8, repeats=1, warmup=0,
                                                                   num_classes=5))
    _assert_consistent(result["variants"]["bharnet-e-expert"], batch=1)


def test_reference_plumbing_moves_our_weights_under_the_reference_names(stand_in_checkout) -> None:
    ours = create_model("body-expert", num_classes=5)
    ref = reference_degcn(stand_in_checkout, ours, num_classes=5, persons=2)
    x = torch.randn(2, 3, 16, 25, 2)
    ours.eval()
    ref.eval()
    with torch.no_grad():
        # float32 sums in another order (the wrapper's copy of the weights): rounding, not a difference
        torch.testing.assert_close(ref(x)[0], ours({"body": x})["logits"], rtol=1e-5, atol=1e-4)


def test_reference_plumbing_reports_speeds_and_the_difference(stand_in_checkout, capsys) -> None:
    parser = argparse.ArgumentParser()
    benchmark_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["benchmark", "body-expert", "--batch", "1", "--repeats", "1", "--warmup", "0",
                              "--num-classes", "5", "--threads", "1", "--reference", str(stand_in_checkout), "--json"])
    assert args.func(args) == 0
    r = json.loads(capsys.readouterr().out)["variants"]["body-expert"]
    _assert_consistent(r, batch=1)
    for kind in ("infer", "train"):  # speed-up: the reference's time over ours
        assert r[f"{kind}_speedup"] == pytest.approx(r[f"{kind}_samples_per_s"] / r[f"reference_{kind}_samples_per_s"])
    assert r["max_abs_diff"] <= 1e-4 and r["logit_scale"] > 0


def test_reference_checkout_is_checked(tmp_path) -> None:
    with pytest.raises(UserError, match="model/degcn.py"):
        load_reference_degcn(tmp_path)


def test_reference_only_for_degcn_body(stand_in_checkout) -> None:
    with pytest.raises(UserError, match="DeGCN body expert only"):
        benchmark_variants(["hand-expert"], BenchConfig(batch=1, repeats=1, warmup=0, num_classes=5),
                           reference=stand_in_checkout)
