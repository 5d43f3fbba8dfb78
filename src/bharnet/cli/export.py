"""``bharnet export``: a trained checkpoint to ONNX, checked with ONNX Runtime."""

from __future__ import annotations

import argparse

from bharnet.cli.flags import positive_int
from bharnet.core.interrupts import ctrl_c_deferred
from bharnet.core.jsontext import json_text
from bharnet.core.outputs import check_output_file


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = subparsers.add_parser("export", help="export a trained checkpoint to ONNX",
                              description="Export the model of a training checkpoint to ONNX (fixed shapes: batch "
                                          "1 and the run's window unless given) and compare ONNX Runtime's outputs "
                                          "with PyTorch's.")
    p.add_argument("checkpoint", help="a checkpoint written by `bharnet train`")
    p.add_argument("--onnx", required=True, metavar="OUT", help="the .onnx file to write")
    p.add_argument("--frames", type=positive_int, help="frames of the input (default: the run's window)")
    p.add_argument("--batch", type=positive_int, default=1, help="batch size of the graph (default: 1)")
    p.add_argument("--no-check", action="store_true", help="skip the ONNX Runtime comparison")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.tools.export import export_checkpoint, written_by_export
    check_output_file(args.onnx, flag="--onnx", inputs=[args.checkpoint], ours=written_by_export)
    result = export_checkpoint(args.checkpoint, args.onnx, frames=args.frames, batch=args.batch,
                               check=not args.no_check)
    if args.json:
        print(json_text(result))
        return 0
    shapes = ", ".join(f"{k} {v}" for k, v in result["inputs"].items())
    print(f"wrote {result['path']} ({shapes} -> {', '.join(result['outputs'])}) in {result['seconds']:.1f} s")
    if "cached" in result:
        print(f"and {result['cached']}, which `bharnet live` / `predict` load for this checkpoint")
    if result["max_abs_diff"] is not None:
        print(f"ONNX Runtime vs PyTorch: max abs difference {result['max_abs_diff']:.2e}")
    return 0
