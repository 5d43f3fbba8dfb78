"""Subcommand ``reproduce``: the runs that make one row of the paper's tables (docs/reproduce.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bharnet.core.errors import UserError
from bharnet.core.interrupts import ctrl_c_deferred
from bharnet.core.outputs import check_output_folder, holds_only


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's subcommand."""
    p = subparsers.add_parser(
        "reproduce", help="train, test and ensemble what one row of the paper's tables needs (resumable)",
        description="Run, in order, the expert pre-training, the dual-stream training from the experts, the tests "
                    "and the J+B ensemble of ROW (BENCHMARK/MODEL, e.g. ntu60-xsub/bharnet-e). Steps already done "
                    "are skipped; an interrupted training resumes. KEY=VALUE overrides go to every training.")
    p.add_argument("row", nargs="?", metavar="ROW", help="BENCHMARK/MODEL; `--list` shows them all")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="e.g. trainer.devices=4 trainer.strategy=ddp")
    p.add_argument("--dry-run", action="store_true", help="print the plan as bharnet commands; run nothing")
    p.add_argument("--list", action="store_true", help="list the rows with the paper's figures")
    p.add_argument("--data-root", type=Path, default=Path("data"),
                   help="folder of the stores: ntu60, ntu120, ucla, pku-mmd (default: %(default)s)")
    p.add_argument("--out", type=Path, default=Path("reproduce"),
                   help="folder for runs, scores files and reports (default: %(default)s)")
    p.add_argument("--modalities", default="J,B", help="streams to train and ensemble: J, B, JM, BM (default: J,B)")
    p.add_argument("--checkpoint", choices=("best", "last"), default="best",
                   help="checkpoint the dual models start from and the tests use (default: best)")
    p.add_argument("--configs", type=Path, help="a recipes folder with dataset/ and model/ groups "
                        "(default: the packaged recipes)")
    p.set_defaults(func=_reproduce)


def _reproduce(args: argparse.Namespace) -> int:
    with ctrl_c_deferred():
        from bharnet.workflows.reproduce import REPRODUCE_FILES, list_rows, reproduce
    if args.list:
        print(format_rows(list_rows()))
        return 0
    if not args.row:
        raise UserError("give a ROW (BENCHMARK/MODEL, e.g. ntu60-xsub/bharnet-e), or --list")
    if not args.dry_run:
        check_output_folder(args.out, flag="--out", ours=holds_only(*REPRODUCE_FILES))
    reproduce(args.row, data_root=args.data_root, out=args.out, configs=args.configs, modalities=args.modalities,
              checkpoint=args.checkpoint, overrides=args.overrides, dry_run=args.dry_run)
    return 0


def format_rows(rows: list[dict]) -> str:
    """The rows as a plain table: row, paper J+B top-1, paper J top-1."""
    lines = [f"{'row':32s} {'paper J+B':>9s} {'paper J':>8s}"]
    for r in rows:
        jb = f"{r['paper_jb']:.1f}" if r["paper_jb"] is not None else "-"
        j = f"{r['paper_j']:.1f}" if r["paper_j"] is not None else "-"
        lines.append(f"{r['row']:32s} {jb:>9s} {j:>8s}")
    return "\n".join(lines)
