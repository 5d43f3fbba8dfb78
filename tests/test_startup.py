"""Start-up: ``bharnet --help``, ``--version`` and every ``COMMAND --help`` build the parser without
torch, Lightning or MediaPipe (those take seconds to import; benchmarks/startup.py prints the times)."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bharnet.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
#: what a command imports when it runs, never to show its help
HEAVY = ("torch", "lightning", "pytorch_lightning", "mediapipe", "onnxruntime", "cv2", "av")

# every command's --help in one process (the commands and the heavy names come as arguments): the
# heavy modules imported once each command's help was shown
_EVERY_HELP = """
import contextlib, io, json, sys
from bharnet.cli import main

commands, heavy_names = json.loads(sys.argv[1]), json.loads(sys.argv[2])
heavy = {}
for command in commands:
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            main([*command, "--help"])
        except SystemExit:
            pass
    heavy[" ".join(command)] = sorted(m for m in sys.modules if m.split(".")[0] in heavy_names)
print(json.dumps(heavy))
"""


def command_lines(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> Iterator[list[str]]:
    """Every command as typed (``["prepare", "ntu"]``), read from the parser itself."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield list(prefix)
    for action in subs:
        for name, sub in action.choices.items():
            yield from command_lines(sub, (*prefix, name))


COMMANDS = list(command_lines(build_parser()))


def _python(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def _heavy(modules) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


@pytest.mark.integration  # new interpreters
def test_help_and_version_import_no_torch() -> None:
    for flag in ("--help", "--version"):
        proc = _python("-X", "importtime", "-m", "bharnet", flag)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "bharnet" in proc.stdout
        # -X importtime: one stderr line per module imported, "import time: self | cumulative | name"
        imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line]
        assert "bharnet.cli" in imported and not _heavy(imported), _heavy(imported)


# Ctrl-C while the command line loads, simulated where it bites: as ``bharnet.cli`` is imported
_CTRL_C_WHILE_LOADING = """
import runpy, sys

class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name == "bharnet.cli":
            raise KeyboardInterrupt

sys.meta_path.insert(0, CtrlC())
runpy.run_module("bharnet", run_name="__main__")
"""


@pytest.mark.integration  # a new interpreter
def test_ctrl_c_while_the_command_line_loads_ends_with_one_line() -> None:
    proc = _python("-c", _CTRL_C_WHILE_LOADING, "prepare", "ntu", "--help")
    assert proc.returncode == 130
    assert proc.stderr.strip() == "bharnet: interrupted", proc.stderr[-2000:]


def test_the_parser_has_every_command() -> None:
    assert ["predict"] in COMMANDS and ["prepare", "custom"] in COMMANDS
    assert len(COMMANDS) >= 20


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_command_help(command: list[str]) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    assert out.getvalue().split()[:2 + len(command)] == ["usage:", "bharnet", *command]


@pytest.mark.integration  # new interpreters
def test_every_commands_help_imports_no_torch() -> None:
    proc = _python("-c", _EVERY_HELP, json.dumps(COMMANDS), json.dumps(HEAVY))
    assert proc.returncode == 0, proc.stderr[-2000:]
    heavy = json.loads(proc.stdout.splitlines()[-1])
    assert sorted(heavy) == sorted(" ".join(c) for c in COMMANDS)
    first = next((command for command, modules in heavy.items() if modules), None)
    assert first is None, f"bharnet {first} --help imported {heavy[first]}"
