"""Subcommands: ``bharnet prepare {ucla,ntu,pku,import,custom}``: convert a data set into a store."""

from __future__ import annotations

import argparse
import sys

from ..prepare import default_workers


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``prepare`` and its per-format subcommands."""
    prepare = subparsers.add_parser("prepare", help="convert a data set into a bharnet store",
                                    description="Convert a data set into a bharnet store (resumable: run the "
                                                "same command again after an interruption).")
    formats = prepare.add_subparsers(dest="format", metavar="FORMAT", required=True)

    def common(p: argparse.ArgumentParser, workers: bool = True) -> None:
        p.add_argument("--out", required=True, help="the store folder to write")
        if workers:
            p.add_argument("--workers", type=int, default=default_workers(),
                           help="reader processes (default: %(default)s; 1 = no pool)")
        p.add_argument("--strict", action="store_true",
                       help="stop with an error at the first bad input (default: report it, skip it, go on)")
        p.add_argument("--no-progress", dest="progress", action="store_false", default=None,
                       help="no progress bar")

    ucla = formats.add_parser("ucla", help="Northwestern-UCLA (the JSON files of CTR-GCN's all_sqe folder)")
    ucla.add_argument("--raw", required=True, help="the folder of N-UCLA .json clips (all_sqe)")
    common(ucla)
    ucla.set_defaults(func=_prepare_ucla)


def _print_summary(summary) -> int:
    for line in summary.lines():
        print(line, file=sys.stderr)
    return 0


def _prepare_ucla(args: argparse.Namespace) -> int:
    from ..io.ucla import prepare_ucla

    return _print_summary(prepare_ucla(args.raw, args.out, workers=args.workers, strict=args.strict,
                                       progress=args.progress))
