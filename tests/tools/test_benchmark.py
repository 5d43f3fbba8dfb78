"""The benchmark's report and its plumbing for the public DeGCN code.

No checkout of the public code is available to the tests: a stand-in written here has its
constructor and its parameter names but wraps our own DeGCN. So the tests with it check the
plumbing (loading a checkout, moving our weights under the reference's names, the report's values
and how they agree with each other), not that the public code computes what ours does."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import textwrap
from dataclasses import asdict

import pytest
import torch

from bharnet import __version__
from bharnet.cli import benchmark as benchmark_cli
from bharnet.cli import main
from bharnet.core.errors import UserError
from bharnet.engine import inference
from bharnet.engine.inference import check_device
from bharnet.models import create_model
from bharnet.tools import benchmark
from bharnet.tools.benchmark import BenchConfig, benchmark_variants, step_functions, time_calls
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
    assert machine["freed_memory_kept"] is False  # tuned by the command only, and this process is pytest's
    assert (machine["device"], result["dtype"]) == ("cpu", "float32")
    r = result["variants"]["body-expert"]
    assert (r["variant"], r["backbone"], r["batch"], r["frames"]) == ("body-expert", "degcn", 1, 8)
    assert (r["device"], r["dtype"]) == ("cpu", "float32")
    assert "peak_device_mb" not in r  # the CPU's allocator keeps no statistics: peak_rss_mb is the figure
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
                              "--num-classes", "5", "--threads", "1", "--reference", str(stand_in_checkout),
                              "--device", "cpu", "--json"])
    assert args.func(args) == 0
    r = json.loads(capsys.readouterr().out)["variants"]["body-expert"]
    _assert_consistent(r, batch=1)
    assert r["device"] == "cpu"
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


@pytest.fixture
def no_work(monkeypatch):
    """The benchmark's first piece of work (the matmul figure) fails the test if it is reached."""
    def fail(*args, **kwargs):
        raise AssertionError("work started before the settings were checked")
    monkeypatch.setattr(benchmark, "matmul_gflops", fail)


def _refusal(argv: list[str], capsys) -> str:
    """The one error line of ``bharnet benchmark ARGV``, which must exit 2."""
    assert main(["benchmark", *argv, "--batch", "2", "--frames", "8"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("device", ["nonsense", "cuda:x", "cuda", "cuda:7"])
def test_a_device_this_machine_lacks_is_refused_before_any_work(device, no_work, capsys) -> None:
    if device.startswith("cuda") and device != "cuda:x" and torch.cuda.device_count() > int(device[5:] or 0):
        pytest.skip(f"{device} exists on this machine")
    err = _refusal(["--device", device], capsys)
    assert err.startswith(f"bharnet benchmark: error: --device {device}: ")
    assert "available: cpu" in err


def test_devices_are_checked_against_what_torch_reports(monkeypatch) -> None:
    monkeypatch.setattr(inference, "available_devices", lambda: ["cpu", "cuda:0", "cuda:1"])
    assert check_device("cuda") == torch.device("cuda", 0)  # no index: the first device
    assert check_device("cuda:1") == torch.device("cuda", 1)
    assert check_device("cpu") == torch.device("cpu")
    with pytest.raises(UserError, match=r"--device cuda:7: not available on this machine "
                                        r"\(available: cpu, cuda:0, cuda:1\)"):
        check_device("cuda:7")
    with pytest.raises(UserError, match=r"--device mps: not available"):
        check_device("mps")


def test_amp_fp16_on_the_cpu_is_refused_before_any_work(no_work, capsys) -> None:
    err = _refusal(["--amp", "fp16"], capsys)
    assert "--amp fp16" in err and "--amp bf16" in err


def test_amp_bf16_on_the_cpu_runs_and_reports_its_dtype(capsys) -> None:
    argv = ["benchmark", "body-expert", "--batch", "2", "--frames", "8", "--repeats", "1", "--warmup", "0",
            "--num-classes", "5", "--threads", "1", "--amp", "bf16", "--json"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["dtype"], result["config"]["amp"], result["config"]["device"]) == ("bfloat16", "bf16", "cpu")
    assert math.isfinite(result["matmul_gflops"]) and result["matmul_gflops"] > 0
    r = result["variants"]["body-expert"]
    assert (r["device"], r["dtype"]) == ("cpu", "bfloat16")
    assert all(math.isfinite(v) for v in r.values() if isinstance(v, float))
    _assert_consistent(r, batch=2)


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_a_mixed_precision_training_step_updates_float32_weights(amp) -> None:
    """The training step under autocast (float16: through a gradient scaler, as on a GPU), here on a
    linear layer on the CPU: its matrix product runs in the low precision, the weights stay float32."""
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 3)
    seen = []
    model.register_forward_hook(lambda module, args, out: seen.append(out.dtype))
    before = model.weight.detach().clone()
    infer, train = step_functions(model, torch.randn(4, 8), torch.tensor([0, 1, 2, 0]), torch.device("cpu"), amp)
    infer()
    train()
    assert seen == [benchmark.AMP_DTYPES[amp]] * 2
    assert model.weight.dtype == torch.float32 and torch.isfinite(model.weight).all()
    assert not torch.equal(model.weight, before)


def test_each_timed_call_is_fenced_by_device_synchronisation() -> None:
    events = []
    times = time_calls(lambda: events.append("call"), repeats=2, warmup=1, sync=lambda: events.append("sync"))
    assert len(times) == 2
    assert events == ["call", "sync", "call", "sync", "sync", "call", "sync"]
