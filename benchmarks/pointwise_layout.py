"""What a channels-before-batch layout would give the 1x1 convolutions of a backbone, before anyone
rewrites the backbone for it. Run pinned to one core and say the machine's load (``uptime``):

    OMP_NUM_THREADS=1 taskset -c 0 python benchmarks/pointwise_layout.py [--model body-expert]
        [--batch 16] [--frames 64] [--repeats 5]

The backbone keeps activations as (N, C, T, V), so a 1x1 convolution with G groups is a batched
product of the (G, O/G, C/G) weight with N*G matrices of C/G x T*V (``PointwiseConv2d``). With the
channels first, (G, C/G, N*T*V), it would be G products with N times wider right-hand sides. The
script records the input shape of every 1x1 convolution in one inference pass of the model, times
each product in both layouts (best of ``--repeats``), and prints them against the whole inference
pass: the total is what the rewrite could save at most, the layout changes between the other
operators not counted.
"""

from __future__ import annotations

import argparse
from collections import Counter

import torch

from bharnet.core.machine import keep_freed_memory
from bharnet.models.backbones.base import PointwiseConv2d
from bharnet.tools.benchmark import BenchConfig, build_variant, make_inputs, time_calls


def best_ms(fn, repeats: int) -> float:
    return 1000 * min(time_calls(fn, repeats, warmup=1))


def pointwise_shapes(model: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> list[tuple[int, int, int, int, int]]:
    """(N, G, O, C, T*V) of every 1x1 convolution's product in one forward pass (stride applied)."""
    shapes = []

    def record(module: PointwiseConv2d, args: tuple) -> None:
        n, c, t, v = args[0].shape
        t = -(-t // module.stride[0])
        shapes.append((n, module.groups, module.out_channels, c, t * v))

    hooks = [m.register_forward_pre_hook(record) for m in model.modules() if isinstance(m, PointwiseConv2d)]
    with torch.inference_mode():
        model(inputs)
    for hook in hooks:
        hook.remove()
    return shapes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="body-expert")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    keep_freed_memory()  # as the bharnet command does
    config = BenchConfig(batch=args.batch, frames=args.frames)
    torch.manual_seed(0)
    model = build_variant(args.model, config).eval()
    inputs = make_inputs(model, args.batch, args.frames)
    with torch.inference_mode():
        whole = best_ms(lambda: model(inputs), args.repeats)
        now_total = first_total = 0.0
        print(f"{'N':>4} {'G':>2} {'O':>4} {'C':>4} {'T*V':>5} {'calls':>5}   ms a call: (N,G,C/G,T*V)  (G,C/G,N*T*V)")
        for (n, g, o, c, tv), calls in Counter(pointwise_shapes(model, inputs)).items():
            w = torch.randn(g, o // g, c // g)
            x, x_first = torch.randn(n, g, c // g, tv), torch.randn(g, c // g, n * tv)
            now = best_ms(lambda: torch.matmul(w, x), args.repeats)  # noqa: B023 (timed here, in this iteration)
            first = best_ms(lambda: torch.bmm(w, x_first), args.repeats)  # noqa: B023
            now_total, first_total = now_total + calls * now, first_total + calls * first
            print(f"{n:>4} {g:>2} {o:>4} {c:>4} {tv:>5} {calls:>5}   {now:24.2f}  {first:13.2f}")
    gain = now_total - first_total
    verdict = (f"channels first could save at most {gain:.0f} ms ({100 * gain / whole:.1f}% of the pass)" if gain > 0
               else f"channels first is {-gain:.0f} ms slower ({-100 * gain / whole:.1f}% of the pass)")
    print(f"one inference pass of {args.model} (batch {args.batch}, {args.frames} frames): {whole:.0f} ms; its 1x1 "
          f"products {now_total:.0f} ms as laid out now, {first_total:.0f} ms channels first: {verdict}")

if __name__ == "__main__":
    main()
