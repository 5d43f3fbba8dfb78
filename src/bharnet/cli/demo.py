"""``bharnet demo``: the whole method on BodyHand-Synth in minutes, no download."""

from __future__ import annotations

import argparse
from pathlib import Path

from bharnet.cli.ablate import parse_variants
from bharnet.cli.flags import non_negative_int
from bharnet.core.console import console
from bharnet.core.interrupts import ctrl_c_deferred
from bharnet.core.outputs import check_output_folder, holds_only


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = subparsers.add_parser("demo", help="the whole method on BodyHand-Synth in minutes, no download")
    p.add_argument("--quick", action="store_true", help="fewer classes, data and models: a few minutes")
    p.add_argument("--out", type=Path, default=Path("demo-out"))
    p.add_argument("--variants", help="comma-separated subset of the variants")
    p.add_argument("--seed", type=non_negative_int,
                   help="seed of the data and of the training (default: the recipe's); README gives the spread")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    p.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.workflows.demo import DEMO_FILES, run_demo
    check_output_folder(args.out, flag="--out", ours=holds_only(*DEMO_FILES))
    seeds = [] if args.seed is None else [f"seed={args.seed}", f"data.synth.seed={args.seed}"]
    run_demo(args.out, quick=args.quick, variants=parse_variants(args.variants), overrides=[*seeds, *args.overrides],
             console=console())
    return 0
