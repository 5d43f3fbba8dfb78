"""``bharnet benchmark``: throughput of models, optionally against the public DeGCN code."""

from __future__ import annotations

import argparse

from bharnet.cli.flags import non_negative_int, positive_int
from bharnet.core.console import console
from bharnet.core.interrupts import ctrl_c_deferred
from bharnet.core.jsontext import json_text


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = subparsers.add_parser("benchmark", help="inference and training throughput of models",
                              description="Inference and training samples/s (median of repeated runs after "
                                          "warm-up), peak memory and achieved GFLOP/s of models on random inputs, "
                                          "next to the matrix-product speed of the device they run on.")
    p.add_argument("variants", nargs="*", metavar="VARIANT",
                   help="registered model names (default: body-expert)")
    p.add_argument("--batch", type=positive_int, default=16, help="samples per batch (default: 16)")
    p.add_argument("--frames", type=positive_int, default=64, help="frames per sample (default: 64)")
    p.add_argument("--persons", type=positive_int, default=2, help="body instances per sample (default: 2)")
    p.add_argument("--threads", type=positive_int,
                   help="torch's CPU threads; the CPU only, a GPU's kernels are not affected (default: torch's choice)")
    p.add_argument("--device", default="cpu",
                   help="where models, inputs and the reference run: cpu, cuda, cuda:N, mps (default: cpu); "
                        "a device this machine lacks is refused before any work")
    p.add_argument("--amp", choices=("bf16", "fp16"),
                   help="mixed precision: inference and training under torch.autocast in bfloat16 or float16 "
                        "(float16 training with a gradient scaler); the matmul figure in that dtype "
                        "(default: off, float32)")
    p.add_argument("--repeats", type=positive_int, default=5, help="timed runs per measurement (default: 5)")
    p.add_argument("--warmup", type=non_negative_int, default=1, help="untimed runs first (default: 1)")
    p.add_argument("--num-classes", type=positive_int, default=60, help="classes of the classifier (default: 60)")
    p.add_argument("--backbone", default="degcn", help="backbone of experts and dual-stream models (default: degcn)")
    p.add_argument("--reference", metavar="PATH",
                   help="a checkout of the public DeGCN code (github.com/WoominM/DeGCN_pytorch): its single-stream "
                        "model runs on the same inputs with the same weights and the speed-ups are shown")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_benchmark)


def _benchmark(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.models import expert_for
        from bharnet.tools.benchmark import BenchConfig, benchmark_variants
    config = BenchConfig(batch=args.batch, frames=args.frames, persons=args.persons, num_classes=args.num_classes,
                         backbone=args.backbone, repeats=args.repeats, warmup=args.warmup, threads=args.threads,
                         device=args.device, amp=args.amp)
    result = benchmark_variants(args.variants or [expert_for("body")], config, reference=args.reference)
    if args.json:
        print(json_text(result))
        return 0
    _print_benchmark(result)
    return 0


def _print_benchmark(result: dict) -> None:
    from rich.table import Table

    m, cfg = result["machine"], result["config"]
    screen = console()
    screen.print(f"{m['cpu']}: {m['usable_cores']} usable of {m['logical_cores']} logical cores, "
                  f"{m['torch_threads']} torch threads, load {m['load_average'][0]} -> {m['load_average_after'][0]}, "
                  f"freed memory {'kept' if m['freed_memory_kept'] else 'returned (allocator left as it was)'}; "
                  f"torch {m['torch']}, python {m['python']}, bharnet {m['bharnet']}")
    amp = f" under autocast {result['dtype']}" if cfg["amp"] else ", float32"
    screen.print(f"device {m['device']} ({m['device_name']}){amp}; 2048x2048 {result['dtype']} matmul: "
                  f"{result['matmul_gflops']:.1f} GFLOP/s; batch {cfg['batch']}, {cfg['frames']} frames, "
                  f"{cfg['persons']} persons, median of {cfg['repeats']}")
    on_device = any("peak_device_mb" in r for r in result["variants"].values())
    table = Table()
    for col in ("variant", "GMACs/sample", "infer samples/s", "infer GFLOP/s", "train samples/s", "train GFLOP/s",
                f"peak {m['device']} MiB" if on_device else "peak RSS MiB"):
        table.add_column(col, justify="left" if col == "variant" else "right")
    for name, r in result["variants"].items():
        table.add_row(name, f"{r['gmacs_per_sample']:.3f}", f"{r['infer_samples_per_s']:.1f}",
                      f"{r['infer_gflops']:.1f}", f"{r['train_samples_per_s']:.1f}", f"{r['train_gflops']:.1f}",
                      f"{r.get('peak_device_mb', r['peak_rss_mb']):.0f}")
    screen.print(table)
    for name, r in result["variants"].items():
        if "reference_infer_samples_per_s" in r:
            screen.print(f"{name} vs the public DeGCN code: inference {r['reference_infer_samples_per_s']:.1f} "
                          f"samples/s ({r['infer_speedup']:.2f}x faster here), training "
                          f"{r['reference_train_samples_per_s']:.1f} samples/s ({r['train_speedup']:.2f}x); "
                          f"max abs difference of the logits {r['max_abs_diff']:.2e} (logits up to "
                          f"{r['logit_scale']:.1f})")
