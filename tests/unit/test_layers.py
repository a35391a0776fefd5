"""Imports flow one way, from the top layer down: a module that imports one above it fails here."""

import ast
import functools
from pathlib import Path

from tests.unit.sources import parsed, walk

ROOT = Path(__file__).resolve().parents[2]
# the folders of the repository that hold Python (not .venv nor build/)
SOURCES = ("bench", "deploys", "etcdkit", "facts", "inventories", "lab", "templates", "tests")

# package -> its folder in the repository and its layer (higher layers may import lower ones)
LAYERS = {
    "etcdkit.model": (ROOT / "etcdkit" / "model", 0),
    "etcdkit.control": (ROOT / "etcdkit" / "control", 1),
    "etcdkit.remote": (ROOT / "etcdkit" / "remote", 2),
    "etcdkit.facts": (ROOT / "facts", 3),
    "etcdkit.operations": (ROOT / "etcdkit" / "operations", 4),
    "etcdkit.plans": (ROOT / "etcdkit" / "plans", 5),
    "etcdkit.tasks": (ROOT / "etcdkit" / "tasks", 6),
    "etcdkit.sops": (ROOT / "etcdkit" / "sops.py", 7),
    "etcdkit.cli": (ROOT / "etcdkit" / "cli", 8),
}


def layer_of(module: str) -> int | None:
    for package, (_, layer) in LAYERS.items():
        if module == package or module.startswith(package + "."):
            return layer
    return None


@functools.cache  # each test reads every module
def imports(path: Path) -> list[str]:
    names = []
    for node in walk(parsed(path)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def modules():
    for package, (location, layer) in LAYERS.items():
        for path in [location] if location.is_file() else sorted(location.rglob("*.py")):
            yield path, package, layer


def test_every_package_of_the_code_has_a_layer():
    folders = {p.parent for p in (ROOT / "etcdkit").rglob("*.py")} - {ROOT / "etcdkit"}
    assert folders <= {location for location, _ in LAYERS.values()}
    assert {p.name for p in (ROOT / "etcdkit").glob("*.py")} == {"__init__.py", "sops.py"}


def test_no_module_imports_a_layer_above_its_own():
    upward = [
        f"{path.relative_to(ROOT)} (layer {layer}) imports {name} (layer {layer_of(name)})"
        for path, _, layer in modules()
        for name in imports(path)
        if layer_of(name) is not None and layer_of(name) > layer
    ]
    assert upward == []


def test_the_old_top_level_packages_are_never_imported():
    everywhere = [p for folder in SOURCES for p in (ROOT / folder).rglob("*.py")]
    stale = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in everywhere
        for name in imports(path)
        if name.split(".")[0] in ("facts", "operations") or name in ("etcdkit.params", "etcdkit.inventory")
    ]
    assert stale == []


def test_deploy_files_only_call_the_sops():
    for path in (ROOT / "deploys").glob("*.py"):
        assert imports(path) == ["etcdkit", "etcdkit.sops"], path.name
