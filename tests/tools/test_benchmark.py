"""The benchmark's report and its plumbing for the public DeGCN code.

No checkout of the public code is available to the tests: a stand-in written here has its
constructor and its parameter names but wraps our own DeGCN. So the tests with it check the
plumbing (loading a checkout, moving our weights under the reference's names, the report's keys),
not that the public code computes what ours does."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap

import pytest
import torch

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


def test_json_has_the_keys() -> None:
    result = benchmark_variants(["body-expert"], TINY)
    json.dumps(result)
    assert result["matmul_gflops"] > 0
    for key in ("cpu", "logical_cores", "torch_threads", "torch", "python", "bharnet"):
        assert key in result["machine"]
    r = result["variants"]["body-expert"]
    for key in ("infer_samples_per_s", "train_samples_per_s", "infer_gflops", "train_gflops", "peak_rss_mb",
                "gmacs_per_sample"):
        assert r[key] > 0, key
    assert "reference_infer_samples_per_s" not in r


def test_dual_stream_variant_runs() -> None:
    result = benchmark_variants(["bharnet-e-expert"], BenchConfig(batch=1, frames=8, repeats=1, warmup=0,
                                                                   num_classes=5))
    assert result["variants"]["bharnet-e-expert"]["train_samples_per_s"] > 0


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
    for key in ("infer_samples_per_s", "train_samples_per_s", "reference_infer_samples_per_s",
                "reference_train_samples_per_s", "infer_speedup", "train_speedup"):
        assert r[key] > 0, key
    assert r["max_abs_diff"] <= 1e-4


def test_reference_checkout_is_checked(tmp_path) -> None:
    with pytest.raises(UserError, match="model/degcn.py"):
        load_reference_degcn(tmp_path)


def test_reference_only_for_degcn_body(stand_in_checkout) -> None:
    with pytest.raises(UserError, match="DeGCN body expert only"):
        benchmark_variants(["hand-expert"], BenchConfig(batch=1, repeats=1, warmup=0, num_classes=5),
                           reference=stand_in_checkout)
