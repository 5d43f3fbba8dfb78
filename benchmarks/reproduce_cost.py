"""Device time of the reproduction recipes: measures training and inference throughput of every
model at the recipes' settings on this machine's device, then estimates each row's hours.

    python benchmarks/reproduce_cost.py                 # CUDA when present, full recipe sizes
    python benchmarks/reproduce_cost.py --device cpu --batch 8 --steps 2   # a quick check

Synthetic input tensors, no data loading: the figures are the model's compute only (a lower
bound when the loader cannot keep up). Per row: for each training of its plan, epochs x
(training samples / training rate + test samples / inference rate), since the recipes evaluate
the test split every epoch, plus its tests.
"""

from __future__ import annotations

import argparse
import time

import torch

from bharnet.engine.module import build_model
from bharnet.workflows.reproduce import PAPER, plan

#: (training, test) samples of the standard splits
SIZES = {"ntu60-xsub": (40091, 16487), "ntu60-xview": (37646, 18932), "ntu120-xsub": (63026, 50919),
         "ntu120-xset": (54468, 59477), "ucla": (1020, 464)}
META = {"ntu": {"body_layout": "ntu25", "num_persons": 2, "channels": 3, "num_classes": 120},
        "ucla": {"body_layout": "ucla20", "num_persons": 1, "channels": 3, "num_classes": 10}}


def _rate(cfg: dict, meta: dict, device: str, batch: int, steps: int, train: bool) -> float:
    window = cfg["data"]["window"]
    model = build_model(cfg["model"], meta, window).to(device)
    inputs = {k: v.expand(batch, *v.shape[1:]).contiguous().normal_().to(device)
              for k, v in model.example_inputs(batch=1, frames=window).items()}
    labels = torch.randint(0, meta["num_classes"], (batch,), device=device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    model.train(train)

    def step() -> None:
        if train:
            loss = model.compute_loss(model(inputs), labels)["loss"]
            opt.zero_grad()
            loss.backward()
            opt.step()
        else:
            with torch.no_grad():
                model(inputs)

    step()  # warm-up: allocation, kernel selection
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, help="batch size (default: the recipe's)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rows", default="bharnet-e,bharnet-p", help="row models to estimate")
    args = parser.parse_args()
    torch.backends.cudnn.benchmark = True
    rates: dict[tuple[str, str], tuple[float, float]] = {}
    print(f"device: {torch.cuda.get_device_name() if args.device == 'cuda' else args.device}")
    for bench in SIZES:
        for model_name in args.rows.split(","):
            steps = plan(f"{bench}/{model_name}", out="/nonexistent")
            meta = META["ucla" if bench == "ucla" else "ntu"]
            hours = 0.0
            n_train, n_test = SIZES[bench]
            for s in steps:
                if s.kind != "train":
                    continue
                cfg = s.config
                key = (cfg["model"]["name"], meta["body_layout"])
                if key not in rates:
                    batch = args.batch or cfg["data"]["batch_size"]
                    rates[key] = (_rate(cfg, meta, args.device, batch, args.steps, True),
                                  _rate(cfg, meta, args.device, args.batch or cfg["data"]["eval_batch_size"],
                                        args.steps, False))
                    print(f"  {key[0]:16s} ({key[1]}): train {rates[key][0]:8.1f} samples/s  "
                          f"test {rates[key][1]:8.1f} samples/s")
                train_rate, test_rate = rates[key]
                hours += cfg["trainer"]["max_epochs"] * (n_train / train_rate + n_test / test_rate) / 3600
            tests = sum(1 for s in steps if s.kind == "test")
            hours += tests * n_test / rates[key][1] / 3600
            paper = PAPER.get(bench, {}).get(model_name)
            print(f"{bench}/{model_name}: {hours:.1f} device hours (compute only)"
                  + (f"; paper J+B {paper}%" if paper else ""))


if __name__ == "__main__":
    main()
