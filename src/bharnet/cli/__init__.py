"""The ``bharnet`` command: a thin shell that parses arguments and calls library functions.

Each module below adds its own subcommands with ``register(subparsers)``; the work is done by
library functions that are usable (and tested) without the command line.

Start-up stays under a second because building the parser imports nothing heavy: a command module
imports at its top only what its flags need, and the library it calls (torch, Lightning, MediaPipe
behind it) inside the function that runs the command, with Ctrl-C held back over that import (an
import cut short leaves half-initialised modules that fail with unrelated tracebacks).
tests/test_startup.py checks that ``bharnet --help`` and every ``COMMAND --help`` import no torch.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import nullcontext

from bharnet import __version__
from bharnet.core.errors import UserError
from bharnet.core.interrupts import ctrl_c_deferred
from bharnet.core.machine import keep_freed_memory
from bharnet.core.native_logs import native_logs_held

_VERBOSE = ("show the log lines of the native libraries (MediaPipe, LiteRT, absl) that commands reading "
            "videos hold back by default")

# one module per group of subcommands
_COMMAND_MODULES = ("demo", "train", "ablate", "prepare", "extract_hands", "extract_roi", "attach_roi", "predict",
                    "live", "record", "evaluate", "reproduce", "profile", "benchmark", "export")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bharnet", description="BHaRNet: body and hand experts for fine-grained skeleton action recognition.")
    parser.add_argument("--version", action="version", version=f"bharnet {__version__}")
    parser.add_argument("--verbose", action="store_true", help=_VERBOSE)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    for command in _commands(parser):  # also after the command, where users type it
        command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=_VERBOSE)
    return parser


def _commands(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """The parsers of the commands that run (``prepare ntu``, not ``prepare``), each once."""
    seen = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                if id(sub) not in seen:
                    seen.add(id(sub))
                    subs = list(_commands(sub))
                    yield from subs or [sub]


def _parser() -> argparse.ArgumentParser:
    """The parser, with Ctrl-C held back while the command modules import: an import cut short
    leaves half-initialised modules that fail with unrelated tracebacks."""
    with ctrl_c_deferred():
        return build_parser()


def main(argv: list[str] | None = None) -> int:
    """Runs one command. With ``argv`` None it is the process's entry point: the C allocator keeps
    freed memory for reuse (:func:`~bharnet.core.machine.keep_freed_memory`; a caller's process is
    left as it is), and once the command has ended, Ctrl-C is ignored, so that a press while Python
    exits (and tears down torch) cannot print a traceback after the work is done."""
    if argv is None:
        keep_freed_memory()
    try:
        return _run(argv)
    finally:
        if argv is None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run(argv: list[str] | None) -> int:
    try:
        parser = _parser()
    except KeyboardInterrupt:
        print("bharnet: interrupted", file=sys.stderr)
        return 130
    args = parser.parse_args(argv)
    hold = getattr(args, "holds_native_logs", False) and not args.verbose
    try:
        with native_logs_held() if hold else nullcontext():
            return int(args.func(args) or 0)
    except UserError as err:
        print(f"bharnet {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        detail = f": {err}" if str(err) else ""
        print(f"bharnet {args.command}: interrupted{detail}", file=sys.stderr)
        return 130
