"""The project's Python modules, each parsed once per test session: several tests scan every module of
etcdkit (the layers, the command layer, the clock, module state)."""

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def etcdkit_modules() -> list[Path]:
    """etcdkit's modules and its facts (facts/, installed as etcdkit.facts), in a stable order."""
    return [*sorted((ROOT / "etcdkit").rglob("*.py")), *sorted((ROOT / "facts").rglob("*.py"))]


@functools.cache
def parsed(path: Path) -> ast.Module:
    """The module's syntax tree (shared: a test only reads it)."""
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


@functools.cache
def walk(tree: ast.AST) -> tuple[ast.AST, ...]:
    """Every node of a parsed module (ast.walk's order), listed once: each scan reads the list."""
    return tuple(ast.walk(tree))
