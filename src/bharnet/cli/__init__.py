"""The ``bharnet`` command: a thin shell that parses arguments and calls library functions.

Each module below adds its own subcommands with ``register(subparsers)``; the work is done by
library functions that are usable (and tested) without the command line.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from bharnet import __version__
from bharnet.core.errors import UserError

# one module per group of subcommands
_COMMAND_MODULES = ("demo", "train", "ablate", "prepare", "extract_hands", "predict", "evaluate", "reproduce",
                    "profile", "benchmark", "export")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bharnet", description="BHaRNet: body and hand experts for fine-grained skeleton action recognition.")
    parser.add_argument("--version", action="version", version=f"bharnet {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as err:
        print(f"bharnet {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"bharnet {args.command}: interrupted", file=sys.stderr)
        return 130
