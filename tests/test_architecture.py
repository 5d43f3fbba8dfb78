"""The architecture as tests: the layer contract in pyproject.toml holds, no module imports itself
back through others, and the package's own modules are imported at the top of a file."""

from __future__ import annotations

import ast
from pathlib import Path

import bharnet

try:  # the dev extra has both: without them the contract would go unchecked, so this fails, never skips
    import grimp
    from importlinter import cli as importlinter_cli
except ImportError as err:
    raise ImportError(f"{err}: the architecture tests need the dev extra (pip install -e '.[dev]')") from err

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(bharnet.__file__).parent


def test_layers_import_downwards_only(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # the contract is in pyproject.toml
    assert importlinter_cli.lint_imports(no_cache=True, no_logo=True) == 0


def _cycle(graph, modules: set[str]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = 1
        for imported in sorted(graph.find_modules_directly_imported_by(module) & modules):
            if state.get(imported) == 1:
                return [*path, module, imported]
            if imported not in state and (found := visit(imported, [*path, module])):
                return found
        state[module] = 2
        return None

    for module in sorted(modules):
        if module not in state and (found := visit(module, [])):
            return found
    return None


def test_no_import_cycle() -> None:
    graph = grimp.build_graph("bharnet", exclude_type_checking_imports=True)
    cycle = _cycle(graph, set(graph.modules))
    assert cycle is None, " -> ".join(cycle)


def _in_functions(tree: ast.Module) -> set[int]:
    return {id(n) for top in tree.body if isinstance(top, ast.FunctionDef) for n in ast.walk(top)}


def test_own_modules_are_imported_at_the_top() -> None:
    """Everywhere but in the functions of ``cli/`` and of the entry point (``__main__.py``): a
    command imports the library it calls when it runs, so that building the parser (``bharnet
    --help``) stays light (tests/test_startup.py); the entry point loads the command line inside
    its Ctrl-C guard."""
    nested = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        allowed = {id(n) for top in tree.body
                   if isinstance(top, ast.If) and "TYPE_CHECKING" in ast.unparse(top.test) for n in ast.walk(top)}
        if path.parent.name == "cli" or path.name == "__main__.py":
            allowed |= _in_functions(tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.ImportFrom) and node.col_offset > 0 and id(node) not in allowed
                    and (node.level > 0 or (node.module or "").split(".")[0] == "bharnet")):
                nested.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not nested, nested
