"""BodyHand-Synth's modules share only public names: what one module needs of another is part of
that module's interface."""

from __future__ import annotations

import ast
from pathlib import Path

import bharnet.synth

ROOM = Path(bharnet.synth.__file__).parent


def test_no_private_name_is_imported_from_another_module() -> None:
    private = []
    for path in sorted(ROOM.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bharnet"):
                private += [f"{path.name}:{node.lineno} {a.name}" for a in node.names if a.name.startswith("_")]
    assert not private, private
