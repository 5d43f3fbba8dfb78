"""Throughput of the backbones on CPU: inference and training steps per second.

    python benchmarks/backbone_speed.py [--batch 16] [--frames 64] [--threads 2] [--steps 3]
        [--reference PATH]   # a checkout of the public DeGCN code, to compare with its model

Prints one line per model (ms per batch, samples per second).
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from bharnet.models import create_backbone


def timed(fn, steps: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - start) / steps


def measure(model: torch.nn.Module, x: torch.Tensor, steps: int, first_output: bool = False) -> tuple[float, float]:
    forward = (lambda: model(x)[0]) if first_output else (lambda: model(x))
    model.eval()
    with torch.inference_mode():
        t_inf = timed(forward, steps)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)

    def step() -> None:
        opt.zero_grad()
        forward().logsumexp(-1).mean().backward()
        opt.step()

    return t_inf, timed(step, steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=["degcn", "ctrgcn", "stgcn"])
    parser.add_argument("--reference", help="path of a checkout of WoominM/DeGCN_pytorch")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x = torch.randn(args.batch, 3, args.frames, 25, 2)
    models = [(name, create_backbone(name, window=args.frames), False) for name in args.models]
    if args.reference:
        sys.path.insert(0, args.reference)
        from model.degcn import Model  # the public code's module layout

        ref = Model(num_class=60, num_point=25, num_person=2, num_stream=1, graph="graph.ntu_rgb_d.Graph",
                    graph_args={"labeling_mode": "spatial"})
        models.insert(0, ("degcn (public code)", ref, True))
    for name, model, first in models:
        t_inf, t_train = measure(model, x, args.steps, first)
        print(f"{name:22s} inference {t_inf * 1e3:7.0f} ms/batch ({args.batch / t_inf:6.1f} samples/s)   "
              f"training {t_train * 1e3:7.0f} ms/step ({args.batch / t_train:6.1f} samples/s)")


if __name__ == "__main__":
    main()
