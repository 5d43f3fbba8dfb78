"""``bharnet ablate``: train and compare variants with one recipe on any store."""

from __future__ import annotations

import argparse
from pathlib import Path

from bharnet.core.console import console
from bharnet.core.interrupts import ctrl_c_deferred
from bharnet.core.outputs import check_output_folder, holds_only


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = subparsers.add_parser("ablate", help="train and compare variants with one recipe on any store")
    p.add_argument("run", nargs="*", metavar="CONFIG | GROUP=NAME | KEY=VALUE",
                   help="a YAML run file and/or the groups dataset=NAME model=NAME (the packaged recipes), "
                        "then settings such as optim.lr=0.05")
    p.add_argument("--variants", help="comma-separated variants (default: all)")
    p.add_argument("--finetune", action="append", metavar="KEY=VALUE",
                   help="override for the second stage (the variants started from the experts), e.g. "
                        "--finetune trainer.max_epochs=10 --finetune optim.lr=0.05")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=_ablate)


def parse_variants(text: str | None) -> list[str] | None:
    return [v.strip() for v in text.split(",") if v.strip()] if text else None


def _ablate(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.engine.config import parse_run_args
        from bharnet.workflows.ablation import (
            ABLATION_FILES,
            VARIANTS,
            ablation_config,
            results_table,
            run_ablation,
            write_report,
        )
    check_output_folder(args.out, flag="--out", ours=holds_only(*ABLATION_FILES))
    variants = parse_variants(args.variants) or list(VARIANTS)
    results = run_ablation(ablation_config(*parse_run_args(args.run)), variants, args.out, finetune=args.finetune)
    console().print(results_table(results))
    write_report(results, args.out)
    return 0
