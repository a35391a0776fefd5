"""etcdkit keeps no state in its modules: what a run computes or learns lives in the run's own
context (etcdkit/model/run.py), so that a second run in the same process (the tests, the commands
that run pyinfra in-process) never sees the first's. Constants are ALL_CAPS by convention."""

import ast
from pathlib import Path

from tests.unit.sources import etcdkit_modules, parsed, walk

ROOT = Path(__file__).resolve().parents[2]
MUTABLE_CALLS = {
    "dict",
    "list",
    "set",
    "defaultdict",
    "OrderedDict",
    "Counter",
    "deque",
    "WeakKeyDictionary",
    "WeakValueDictionary",
    "WeakSet",
}
# (functools.cached_property keeps its value on the object, which is the run's: it is no module state)
MEMOIZERS = {"cache", "lru_cache"}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _mutable(value: ast.AST | None) -> bool:
    containers = (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)
    return isinstance(value, containers) or (isinstance(value, ast.Call) and _name(value) in MUTABLE_CALLS)


def module_state(tree: ast.Module) -> list[str]:
    """What in a module keeps state between calls: a module-level name (not ALL_CAPS) bound to a
    mutable container, a `global` statement, a memoized function."""
    found = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            if isinstance(target, ast.Name) and not target.id.isupper() and _mutable(node.value):
                found.append(f"line {node.lineno}: {target.id}")
    for node in walk(tree):
        if isinstance(node, ast.Global):
            found.append(f"line {node.lineno}: global {', '.join(node.names)}")
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found += [f"line {node.lineno}: @{_name(d)} {node.name}" for d in node.decorator_list if _name(d) in MEMOIZERS]
    return found


def test_no_module_of_etcdkit_keeps_state():
    found = {str(path.relative_to(ROOT)): module_state(parsed(path)) for path in etcdkit_modules()}
    assert {path: lines for path, lines in found.items() if lines} == {}


def test_the_check_sees_each_kind_of_state():
    source = """
from functools import cache
from weakref import WeakKeyDictionary
TIMEOUTS = {"dial": 2}
_saved: WeakKeyDictionary = WeakKeyDictionary()
_results = {}
seen = set()
def count():
    global calls
@cache
def load(path): ...
class Host:
    @cached_property
    def conf(self): ...
"""
    assert sorted(module_state(ast.parse(source))) == [
        "line 11: @cache load",
        "line 5: _saved",
        "line 6: _results",
        "line 7: seen",
        "line 9: global calls",
    ]
