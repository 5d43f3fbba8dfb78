"""Start-up: ``bharnet --help``, ``--version`` and every ``COMMAND --help`` build the parser without
torch, Lightning or MediaPipe (those take seconds to import; benchmarks/startup.py prints the times)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: what a command imports when it runs, never to show its help
HEAVY = ("torch", "lightning", "pytorch_lightning", "mediapipe", "onnxruntime", "cv2", "av")

# every command's --help in one process: the command names come from the parser itself
_EVERY_HELP = """
import argparse, contextlib, io, json, sys
from bharnet.cli import build_parser, main

def leaves(parser, prefix=()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield prefix
    for action in subs:
        for name, sub in action.choices.items():
            yield from leaves(sub, (*prefix, name))

commands = [list(c) for c in leaves(build_parser())]
for command in commands:
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            main([*command, "--help"])
        except SystemExit:
            pass
print(json.dumps({"commands": commands, "modules": sorted(sys.modules)}))
"""


def _python(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def _heavy(modules) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def test_help_and_version_import_no_torch() -> None:
    for flag in ("--help", "--version"):
        proc = _python("-X", "importtime", "-m", "bharnet", flag)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "bharnet" in proc.stdout
        # -X importtime: one stderr line per module imported, "import time: self | cumulative | name"
        imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line]
        assert "bharnet.cli" in imported and not _heavy(imported), _heavy(imported)


def test_every_commands_help_imports_no_torch() -> None:
    proc = _python("-c", _EVERY_HELP)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.splitlines()[-1])
    assert ["predict"] in result["commands"] and ["prepare", "custom"] in result["commands"]
    assert len(result["commands"]) >= 20
    assert not _heavy(result["modules"]), _heavy(result["modules"])
