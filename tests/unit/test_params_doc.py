"""docs/parameters.md is generated from etcdkit/params.py and must not drift from it."""

import subprocess
from pathlib import Path

from etcdkit.cli.params_doc import PATH, SCRIPT, render
from etcdkit.model.params import PARAMS

ROOT = Path(__file__).resolve().parents[2]


def test_parameters_doc_is_up_to_date():
    current = (ROOT / PATH).read_text(encoding="utf-8") if (ROOT / PATH).exists() else ""
    assert current == render(), (
        f"{PATH} does not match etcdkit/params.py (a parameter was added or changed): run {SCRIPT} and commit {PATH}"
    )


def test_every_parameter_has_a_row():
    rows = [line for line in render().splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [param.name for param in PARAMS]


def test_script_prints_the_same_document():
    result = subprocess.run([str(ROOT / SCRIPT), "--stdout"], capture_output=True, text=True, check=True)
    assert result.stdout == render()
