"""docs/versions.md is true: a cell says "tested on the lab" exactly when a lab test carries the marker
`@pytest.mark.etcd(version, *sops)` naming that version and SOP (tests/sops: `make test`; tests/versions:
`make test-versions`), each marked test or module runs every SOP its marker names (the marker also makes
its SOP runs install that version: tests/conftest.py), and the README names the versions tested on the lab.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "versions.md"
LAB_TESTS = [*sorted((ROOT / "tests" / "sops").glob("test_*.py")), *sorted((ROOT / "tests" / "versions").glob("test_*.py"))]
LAB, UNIT = "tested on the lab", "unit-tested only"

# How a lab test runs each SOP: its deploy file, or the bin/ command that runs it.
RUNS = {
    "create": r'deploy\("create"|typed\("deploys/create\.py"',
    "join": r'deploy\("join"|script\("etcd-add"',
    "remove": r'deploy\("remove"|script\("etcd-rm",(?![^)]*"--destroy")',
    "reload": r'deploy\("reload"',
    "backup": r'deploy\("backup"|script\("etcd-backup"',
    "restore": r'deploy\("restore"|script\("etcd-restore"',
    "recover": r'deploy\("recover"',
    "upgrade": r'deploy\("upgrade"',
    "downgrade": r'deploy\("downgrade"',
    "maintain": r'deploy\("maintain"',
    "rotate_ca": r'deploy\("rotate_ca"|\("rotate_ca", "--data"',
    "status": r'deploy\("status"|"etcd-status"',
    "destroy": r'deploy\("destroy"|script\("etcd-rm",[^)]*"--destroy"',
}


def table() -> dict[tuple[str, str], str]:
    """(version, SOP) -> the cell of docs/versions.md's table (a row per SOP, a column per version)."""
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    header = [cell.strip().strip("`") for cell in rows[0].strip("|").split("|")]
    assert header[0] == "SOP", "the table's first column is the SOP"
    cells = {}
    for row in rows[2:]:
        values = [cell.strip() for cell in row.strip("|").split("|")]
        for version, value in zip(header[1:], values[1:], strict=True):
            cells[version, values[0].strip("`")] = value
    return cells


def _etcd_marks(node) -> list[ast.Call]:
    """The pytest.mark.etcd(...) calls among decorators or a pytestmark value."""
    calls = node.elts if isinstance(node, ast.List) else [node]
    return [c for c in calls if isinstance(c, ast.Call) and ast.unparse(c.func) == "pytest.mark.etcd"]


def markers() -> list[tuple[str, tuple[str, ...], str, str]]:
    """(version, SOPs, where, source of the marked test or module) of every etcd marker of the lab tests."""
    found = []
    for path in LAB_TESTS:
        text = path.read_text(encoding="utf-8")
        for node in ast.parse(text).body:
            if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["pytestmark"]:
                calls, where, source = _etcd_marks(node.value), path.name, text
            elif isinstance(node, ast.FunctionDef) and node.decorator_list:
                calls = [c for d in node.decorator_list for c in _etcd_marks(d)]
                where = f"{path.name}::{node.name}"
                source = ast.get_source_segment(text, node) if calls else ""
            else:
                continue
            for call in calls:
                version, *sops = (ast.literal_eval(arg) for arg in call.args)
                found.append((version, tuple(sops), where, source))
    return found


def test_the_table_has_every_sop_and_only_the_two_kinds_of_cell():
    cells = table()
    assert {sop for _, sop in cells} == set(RUNS)
    odd = {key: value for key, value in cells.items() if not re.fullmatch(rf"({LAB}|{UNIT})( \(.+\))?", value)}
    assert not odd, f"cells other than {LAB!r} or {UNIT!r} (with a note in parentheses): {odd}"


def test_each_marked_test_runs_the_sops_its_marker_names():
    versions = {version for version, _ in table()}
    wrong = []
    for version, sops, where, source in markers():
        if version not in versions:
            wrong.append(f"{where}: etcd {version} is no column of docs/versions.md")
        wrong += [f"{where}: names {sop}, which is no SOP" for sop in sops if sop not in RUNS]
        wrong += [f"{where}: names {sop} but runs no {RUNS[sop]}" for sop in sops if sop in RUNS and not re.search(RUNS[sop], source)]
    assert not wrong, "\n".join(wrong)


def test_a_cell_says_tested_on_the_lab_exactly_when_a_lab_test_runs_that_sop_on_that_version():
    marked = {(version, sop): where for version, sops, where, _ in markers() for sop in sops}
    cells = table()
    claimed = {key for key, value in cells.items() if value.startswith(LAB)}
    unproven = sorted(claimed - set(marked))
    assert not unproven, f"docs/versions.md says {LAB!r}, but no lab test's etcd marker names: {unproven}"
    unsaid = sorted(f"{version} {sop} ({where})" for (version, sop), where in marked.items() if (version, sop) not in claimed)
    assert not unsaid, f"lab tests run these, but docs/versions.md does not say {LAB!r}: {unsaid}"


def test_the_readme_names_the_versions_tested_on_the_lab():
    tested = sorted({version for (version, _), value in table().items() if value.startswith(LAB)})
    line = next((line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines() if "docs/versions.md" in line), "")
    assert tested and all(version in line for version in tested), f"the README's line on docs/versions.md names {tested}: {line!r}"
