"""CPU latency of expert-only BHaRNet-E (body + hand experts) on one 64-frame window, batch 1.

    PYTHONPATH=src python benchmarks/robot_latency.py [--threads 1,2] [--repeats 20] [--train-steps 200]
                                                      [--no-accuracy]

Latency (median ms): PyTorch eager fp32; PyTorch eager with dynamic int8 quantisation
(``torch.ao.quantization.quantize_dynamic``: it covers ``nn.Linear`` only - the graph convolutions
are matrix products inside modules, which eager dynamic quantisation cannot reach); ONNX Runtime
fp32; ONNX Runtime with dynamic int8 quantisation of the exported graph's MatMul/Conv nodes
(``onnxruntime.quantization.quantize_dynamic``, which does reach them).

Accuracy: a small expert-only BHaRNet-E (base 16 channels, 32 frames) trained briefly on a
BodyHand-Synth store, evaluated on its test split in each of the four forms.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from bharnet.data.dataset import EpochSampler, SkeletonDataset, ViewConfig  # noqa: E402
from bharnet.models import create_model  # noqa: E402
from bharnet.synth.store import write_synth_store  # noqa: E402
from bharnet.tools.benchmark import make_inputs  # noqa: E402
from bharnet.tools.export import export_onnx, latency_ms, onnx_session, prepare_for_export  # noqa: E402


def quantize_eager(model: nn.Module) -> nn.Module:
    """Dynamic int8 quantisation of the Linear layers (all eager dynamic quantisation supports here)."""
    return torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)


def quantize_onnx(path: Path) -> Path:
    """Dynamic int8 quantisation of an ONNX file's MatMul/Conv/Gemm weights."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out = path.with_name(path.stem + ".int8.onnx")
    quantize_dynamic(str(path), str(out), weight_type=QuantType.QInt8)
    return out


def ort_runner(path: Path, inputs: dict[str, torch.Tensor], threads: int):
    session = onnx_session(path, threads)
    feed = {i.name: inputs[i.name].numpy() for i in session.get_inputs()}
    return lambda: session.run(None, feed)


def latencies(threads: list[int], repeats: int, tmp: Path) -> None:
    model = prepare_for_export(create_model("bharnet-e-expert", num_classes=60))
    inputs = make_inputs(model, 1, 64)
    onnx_path = tmp / "bharnet-e-expert.onnx"
    result = export_onnx(model, onnx_path, frames=64)
    int8_path = quantize_onnx(onnx_path)
    qmodel = quantize_eager(model)
    print(f"bharnet-e-expert, batch 1, 64 frames; ONNX export {result['seconds']:.0f} s, ONNX Runtime vs PyTorch "
          f"max abs diff {result['max_abs_diff']:.1e}")
    for k in threads:
        torch.set_num_threads(k)

        def eager(m: nn.Module = model) -> None:
            with torch.inference_mode():
                m(inputs)

        rows = {"PyTorch eager fp32": latency_ms(eager, repeats),
                "PyTorch eager, dynamic int8 (Linear)": latency_ms(lambda: eager(qmodel), repeats),
                "ONNX Runtime fp32": latency_ms(ort_runner(onnx_path, inputs, k), repeats),
                "ONNX Runtime, dynamic int8": latency_ms(ort_runner(int8_path, inputs, k), repeats)}
        for name, ms in rows.items():
            print(f"  {k} thread(s)  {name:38s} {ms:7.1f} ms")


def small_trained(store: Path, steps: int) -> tuple[nn.Module, torch.utils.data.Dataset]:
    view = ViewConfig(window=32)
    train = SkeletonDataset(store, "train", streams=("body", "hand"), view=view, train=True)
    test = SkeletonDataset(store, "test", streams=("body", "hand"), view=view)
    num_classes = int(train.store.labels.max()) + 1
    torch.manual_seed(0)
    model = create_model("bharnet-e-expert", num_classes=num_classes, base_channels=16, window=32)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=4e-4)
    sampler = EpochSampler(len(train), seed=0)
    loader = torch.utils.data.DataLoader(train, batch_size=32, sampler=sampler, num_workers=1, drop_last=True)
    model.train()
    step, epoch = 0, 0
    while step < steps:
        sampler.set_epoch(epoch)
        for batch in loader:
            inputs = {k: batch[k] for k in ("body", "hand", "hand_mask")}
            loss = model.compute_loss(model(inputs), batch["label"])["loss"]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if step >= steps:
                break
        epoch += 1
    return model.eval(), test


def accuracy(predict, test) -> float:  # noqa: ANN001
    hits = 0
    for i in range(len(test)):
        item = test[i]
        inputs = {k: item[k].unsqueeze(0) for k in ("body", "hand", "hand_mask")}
        hits += int(int(np.argmax(predict(inputs))) == item["label"])
    return hits / len(test)


def accuracies(steps: int, tmp: Path) -> None:
    store = write_synth_store(tmp / "synth", num_samples=1200, seed=0)
    start = time.perf_counter()
    model, test = small_trained(store, steps)
    print(f"small expert-only BHaRNet-E (base 16, 32 frames), {steps} SGD steps of 32 in "
          f"{time.perf_counter() - start:.0f} s; test split of {len(test)} samples:")
    fixed = prepare_for_export(model)
    qmodel = quantize_eager(fixed)
    path = tmp / "small.onnx"
    export_onnx(fixed, path, frames=32)
    int8 = quantize_onnx(path)

    def torch_predict(m: nn.Module):  # noqa: ANN202
        def run(inputs):  # noqa: ANN001, ANN202
            with torch.inference_mode():
                return m(inputs)["logits"].numpy()
        return run

    def ort_predict(p: Path):  # noqa: ANN202
        session = onnx_session(p, 1)
        names = [i.name for i in session.get_inputs()]
        return lambda inputs: session.run(["logits"], {n: inputs[n].numpy() for n in names})[0]

    for name, predict in (("PyTorch fp32", torch_predict(fixed)), ("PyTorch dynamic int8", torch_predict(qmodel)),
                          ("ONNX Runtime fp32", ort_predict(path)), ("ONNX Runtime dynamic int8", ort_predict(int8))):
        print(f"  {name:28s} top-1 {accuracy(predict, test):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2", help="thread counts (default: 1,2)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--train-steps", type=int, default=200)
    parser.add_argument("--no-accuracy", action="store_true")
    parser.add_argument("--no-latency", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_latency:
            latencies([int(k) for k in args.threads.split(",")], args.repeats, Path(tmp))
        if not args.no_accuracy:
            torch.set_num_threads(1)
            accuracies(args.train_steps, Path(tmp))


if __name__ == "__main__":
    main()
