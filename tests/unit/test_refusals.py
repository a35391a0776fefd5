"""The refusal catalogue: one text per refusal, a stable code on each, every code documented in
docs/troubleshooting.md and raised somewhere, none raised that the catalogue does not list."""

import pickle
import re
from pathlib import Path

import pytest
from pyinfra.api.exceptions import DeployError

from etcdkit.model.refusals import DOC, REFUSALS, Problem, Refusal, render

ROOT = Path(__file__).resolve().parents[2]


def test_a_refusal_is_one_line_naming_what_why_and_the_fix_then_its_code():
    refusal = Refusal(
        "remove.safeguard", "etcd_safeguard is on: refusing to remove 10.10.10.13", fix="Run with --data etcd_safeguard=false"
    )
    assert isinstance(refusal, DeployError)
    assert str(refusal) == render(refusal)
    assert str(refusal).splitlines() == [
        "etcd_safeguard is on: refusing to remove 10.10.10.13; nothing was changed. Run with --data etcd_safeguard=false",
        f"[refused: remove.safeguard - see {DOC}]",
    ]


def test_several_problems_are_one_line_each_with_their_codes():
    problems = [Problem("cluster.unhealthy", "the cluster is not healthy: the cluster has no leader"), "etcd_version is not set"]
    refusal = Refusal("upgrade.refused", problems, "cannot upgrade", "Bring the cluster back")
    assert refusal.codes == {"upgrade.refused", "cluster.unhealthy"}
    assert str(refusal).splitlines() == [
        "cannot upgrade; nothing was changed:",
        "  - the cluster is not healthy: the cluster has no leader",
        "  - etcd_version is not set",
        "Bring the cluster back",
        f"[refused: cluster.unhealthy - see {DOC}]",
    ]


def test_a_refusal_survives_a_copy_between_greenlets():
    refusal = Refusal("restore.refused", [Problem("restore.left_out", "the run leaves out 10.10.10.12")], "cannot restore")
    copy = pickle.loads(pickle.dumps(refusal))
    assert (copy.code, copy.found, copy.codes, str(copy)) == (refusal.code, refusal.found, refusal.codes, str(refusal))


def test_a_code_outside_the_catalogue_is_a_programming_error():
    with pytest.raises(ValueError, match="not in REFUSALS"):
        Refusal("remove.typo", "found")
    with pytest.raises(ValueError, match="not in REFUSALS"):
        Problem("cluster.typo", "found")


def test_every_code_has_a_section_in_the_troubleshooting_page():
    headings = set(re.findall(r"^#+ `([a-z_.]+)`$", (ROOT / DOC).read_text(encoding="utf-8"), re.MULTILINE))
    assert sorted(set(REFUSALS) - headings) == []
    assert sorted(headings - set(REFUSALS)) == []  # no section for a code that is gone


def test_every_code_is_raised_somewhere_and_only_catalogued_codes_are():
    sources = [p for p in (ROOT / "etcdkit").rglob("*.py") if p.name != "refusals.py"]
    text = "\n".join(p.read_text(encoding="utf-8") for p in sources)
    quoted = set(re.findall(r'"([a-z_]+\.[a-z_]+)"', text))
    assert sorted(code for code in REFUSALS if code not in quoted) == []
    raised = set(re.findall(r'(?:Refusal|Problem)\(\s*"([^"]+)"', text))
    assert raised and sorted(raised - set(REFUSALS)) == []
