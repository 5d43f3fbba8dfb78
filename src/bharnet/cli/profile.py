"""Subcommands: ``profile`` (parameters and multiply-adds of a model)."""

from __future__ import annotations

import argparse

from bharnet.cli.flags import positive_int
from bharnet.core.console import console
from bharnet.core.interrupts import ctrl_c_deferred
from bharnet.core.jsontext import json_text


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = subparsers.add_parser("profile", help="count parameters and MACs of a model",
                              description="Count parameters and multiply-adds (thop's convention, and with "
                                          "matrix products) of a registered model on one sample.")
    p.add_argument("name", help="model name (see the registry), or body-expert / hand-expert")
    p.add_argument("--backbone", default="degcn", help="backbone of experts and dual-stream models (default: degcn)")
    p.add_argument("--num-classes", type=positive_int, default=60, help="classes of the classifier (default: 60)")
    p.add_argument("--frames", type=positive_int, default=64, help="frames of the example input (default: 64)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_profile)


def _profile(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.tools.profile import profile_model
    result = profile_model(args.name, backbone=args.backbone, num_classes=args.num_classes, frames=args.frames)
    if args.json:
        print(json_text(result))
        return 0
    from rich.table import Table

    table = Table(title=f"{result['variant']} ({result['backbone']}, {result['num_classes']} classes)")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("input", json_text(result["input"]))
    table.add_row("params", f"{result['params']:,} ({result['params'] / 1e6:.3f} M)")
    table.add_row("MACs (thop convention)", f"{result['macs']:,} ({result['macs'] / 1e9:.3f} G)")
    table.add_row("MACs incl. matmul/einsum", f"{result['macs_all']:,} ({result['macs_all'] / 1e9:.3f} G)")
    console().print(table)
    return 0
