"""Parameters and multiply-adds of every BHaRNet variant next to the paper's Table III / Table I.

    PYTHONPATH=src python benchmarks/variant_cost.py [--backbone degcn] [--classes 60] [--frames 64]

Prints a Markdown table: our count (thop convention, ``bharnet.models.cost.count_cost``), the paper's
figure and the relative difference (the paper's figures are DeGCN's); then the J+B ensembles of
Table I (twice one model).
"""

from __future__ import annotations

import argparse

import torch

from bharnet.models import create_model
from bharnet.models.cost import count_cost

# Table III of the paper (NTU120 X-Sub, DeGCN, 60 classes as counted in SPEC): GFLOPs (thop MACs), params M.
PAPER = {
    "body-expert": (0.83, 0.69), "hand-expert": (0.83, 0.69), "score-fusion": (1.66, 1.37), "joint": (1.66, 1.37),
    "cross-attention": (1.88, 2.46), "fast-attention": (2.72, 4.33), "bharnet-p": (1.71, 4.53),
    "bharnet-e": (2.72, 2.75), "bharnet-e-expert": (None, None),
}
# Table I: J+B ensembles of one model each.
ENSEMBLES = {"bharnet-e-expert": (3.3, 2.8), "bharnet-e": (5.44, 5.5), "bharnet-p": (3.42, 9.06)}


def _delta(ours: float, paper: float | None) -> str:
    return "-" if paper is None else f"{100 * (ours - paper) / paper:+.1f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="degcn")
    parser.add_argument("--classes", type=int, default=60)
    parser.add_argument("--frames", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cost = {}
    for name in PAPER:
        model = create_model(name, backbone=args.backbone, num_classes=args.classes, window=args.frames)
        cost[name] = count_cost(model, model.example_inputs(batch=1, frames=args.frames))
    paper = PAPER if args.backbone == "degcn" else dict.fromkeys(PAPER, (None, None))
    print(f"backbone {args.backbone}, {args.classes} classes, {args.frames} frames, one sample\n")
    print("| variant | GMACs | paper | diff | params M | paper | diff | GMACs incl. matmul |")
    print("|---|---|---|---|---|---|---|---|")
    for name, (g_paper, p_paper) in paper.items():
        g, p, g_all = cost[name]["macs"] / 1e9, cost[name]["params"] / 1e6, cost[name]["macs_all"] / 1e9
        print(f"| {name} | {g:.3f} | {g_paper or '-'} | {_delta(g, g_paper)} | {p:.3f} | {p_paper or '-'} | "
              f"{_delta(p, p_paper)} | {g_all:.3f} |")
    if args.backbone != "degcn":
        return
    print("\n| J+B ensemble | GMACs | paper | diff | params M | paper | diff |")
    print("|---|---|---|---|---|---|---|")
    for name, (g_paper, p_paper) in ENSEMBLES.items():
        g, p = 2 * cost[name]["macs"] / 1e9, 2 * cost[name]["params"] / 1e6
        print(f"| {name} | {g:.2f} | {g_paper} | {_delta(g, g_paper)} | {p:.2f} | {p_paper} | {_delta(p, p_paper)} |")


if __name__ == "__main__":
    main()
