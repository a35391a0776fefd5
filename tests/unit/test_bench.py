"""The pure parts of make bench (bench/): the floor's timing lines, pyinfra's accounting, medians and
ratios, the targets and the rendered docs/performance.md."""

import re

import pytest

from bench import floor, report, results
from bench.accounting import profile
from bench.results import Sample, Samples
from bench.targets import TARGETS

FLOOR_OUTPUT = """\
floor install 4.412
floor certs 0.201
floor config 0.150
floor start 2.503
floor health 0.120
floor auth 0.230
some noise from ssh
floor join 4.900
floor remove 2.400
"""

# pyinfra 3.10 -vv output (stdout and stderr together, as bench/timing.py reads it), with times
PYINFRA_OUTPUT = [
    (0.0, "--> Loading config..."),
    (0.4, "--> Loading inventory..."),
    (0.5, "--> Connecting to hosts..."),
    (0.9, "    [\x1b[1m10.10.10.10\x1b[0m] Connected"),
    (1.0, "[\x1b[1m10.10.10.10\x1b[0m]  >>> sh -c 'command -v apt-get'"),
    (1.0, "[\x1b[1m10.10.10.10\x1b[0m]  Loaded fact \x1b[1mserver.Which\x1b[0m (command=apt-get)"),
    (1.1, "[10.10.10.11]  >>> sh -c 'command -v apt-get'"),
    (1.1, "[10.10.10.11]  Loaded fact server.Which (command=apt-get)"),
    (1.2, "--> Beginning operation run..."),
    (1.3, "--> Starting operation: Install etcd"),
    (1.3, "[10.10.10.10]  >>> sh -c 'apt-get install -y etcd-server'"),
    (1.3, "[10.10.10.11]  >>> sh -c 'apt-get install -y etcd-server'"),
    (5.3, "[10.10.10.10] Success"),
    (5.4, "--> Starting serial operation: Wait for health"),
    (5.4, "[10.10.10.10] nested  >>> sh -c 'etcdctl endpoint health'"),
    (6.4, "--> Results:"),
    (6.5, "--> Disconnecting from hosts..."),
]


def test_the_floor_phases_are_read_from_its_lines():
    phases = floor.parse(FLOOR_OUTPUT)
    assert phases["install"] == 4.412 and phases["join"] == 4.9 and len(phases) == 8
    assert list(floor.create(phases)) == list(floor.CREATE_PHASES)
    assert sum(floor.create(phases).values()) == pytest.approx(7.616)


def test_a_floor_run_without_a_create_phase_is_an_error():
    with pytest.raises(ValueError, match="health"):
        floor.create(floor.parse("floor install 1.0\nfloor certs 0.1\nfloor config 0.1\nfloor start 1\nfloor auth 0.1\n"))


def test_round_trips_facts_and_operations_are_counted_per_host_from_the_verbose_output():
    counted = profile(PYINFRA_OUTPUT)
    assert counted.round_trips == {"10.10.10.10": 3, "10.10.10.11": 2}
    assert counted.facts == {"10.10.10.10": 1, "10.10.10.11": 1}
    assert counted.operations == pytest.approx({"Install etcd": 4.1, "Wait for health": 1.0})
    assert counted.preparing(6.6) == pytest.approx(1.5)


def test_operations_of_several_pyinfra_runs_add_up():
    lines = [
        (0, "--> Starting operation: Reload"),
        (1, "--> Results:"),
        (2, "--> Loading config..."),
        (3, "--> Starting operation: Reload"),
    ]
    assert profile([*lines, (3.5, "[h] Success")]).operations == {"Reload": 1.5}


def sample(seconds: float, trips: int, writes: dict | None = None) -> Sample:
    return Sample(seconds, profile([(0, f"[h]  >>> {n}") for n in range(trips)]), writes)


def test_a_step_has_its_median_its_runs_and_its_ratio_to_the_floor():
    floor_runs = [{"install": 4.0, "start": 3.0}, {"install": 5.0, "start": 3.0}, {"install": 4.2, "start": 2.8}]
    step = results.step([sample(9.0, 40), sample(7.5, 42), sample(8.0, 41)], floor_runs)
    assert step["median_s"] == 8.0 and step["runs"] == [9.0, 7.5, 8.0]
    assert step["floor_s"] == 7.0 and step["floor_runs"] == [7.0, 8.0, 7.0] and step["ratio"] == 1.14
    assert step["floor_phases"] == {"install": 4.2, "start": 3.0}
    assert step["round_trips"] == {"h": 41}


def test_a_step_without_a_floor_has_no_ratio_and_the_writes_of_all_runs():
    writes = [
        {"acknowledged": 100, "failed": 2, "lost": 0, "longest_stall": 0.4},
        {"acknowledged": 90, "failed": 0, "lost": 1, "longest_stall": 1.3},
    ]
    step = results.step([sample(2.0, 10, writes[0]), sample(3.0, 10, writes[1])], [])
    assert "floor_s" not in step and "ratio" not in step and step["median_s"] == 2.5
    assert step["writes"] == {"acknowledged": 190, "failed": 2, "lost": 1, "longest_stall_s": 1.3, "runs": writes}


def test_results_are_keyed_by_step_in_order_and_saved_as_json(tmp_path):
    samples = Samples()
    samples.add("noop3", sample(0.9, 30))
    samples.add("create3", sample(8.0, 60))
    samples.add_floor("create3", {"install": 7.0})
    built = results.build(samples)
    assert list(built) == ["create3", "noop3"] and built["create3"]["ratio"] == 1.14
    results.save(built, tmp_path / "results.json")
    assert results.load(tmp_path / "results.json") == built
    assert results.load(tmp_path / "none.json") == {}


MEASURED = {
    "create3": {"median_s": 8.0, "runs": [8.0, 8.1, 7.9], "floor_s": 7.0, "ratio": 1.14, "round_trips": {"a": 60, "b": 58}},
    "noop3": {"median_s": 1.3, "runs": [1.3, 1.2, 1.4], "round_trips": {"a": 26, "b": 26}},
    "pyinfra3": {"median_s": 0.8, "runs": [0.8, 0.8, 0.9]},
    "rolling_restart": {"median_s": 8.5, "runs": [8.5], "slowest_operations_s": {"etcd member | Restart etcd (one member at a time)": 7.0}},
    "join": {"median_s": 4.2, "runs": [4.2], "writes": {"acknowledged": 500, "failed": 3, "lost": 0, "longest_stall_s": 1.6, "runs": []}},
}


def test_each_target_is_met_not_met_or_not_measured():
    verdicts = {target.text: target.met(MEASURED) for target in TARGETS}
    assert verdicts["create, 3 members: within 1.15x the floor"] is True
    assert verdicts["no-op create, 3 members: within 1.5x pyinfra's own floor (`exec -- true`)"] is False  # 1.3 s > 1.5 x 0.8 s
    assert verdicts["no-op create, 5 members: within 1.2x the 3-member no-op"] is None  # no 5-member no-op measured
    assert verdicts["rolling restart: within the members' restarts plus 1 s"] is False  # 8.5 s > 7.0 s + 1 s
    assert verdicts["join: no lost write"] is True and verdicts["join: no write stall over 1 s"] is False
    assert verdicts["remove (4 -> 3) with the client refresh: within 3 s"] is None


def test_the_document_shows_the_numbers_and_the_verdicts():
    doc = report.markdown(MEASURED)
    assert "| create, 3 members: within 1.15x the floor | 1.14x | met |" in doc
    assert "| no-op create, 3 members: within 1.5x pyinfra's own floor (`exec -- true`) | 1.30 s (limit 1.20 s) | **not met** |" in doc
    assert "| remove: no lost write | — | not measured yet |" in doc
    assert "| `join` | 500 | 3 | 0 | 1.60 s |" in doc
    assert "| `create3` | create on bare nodes, 3 members | 8.00 s | 7.00 s | 1.14x | 58-60 |" in doc
    assert "A look inside the runs" in doc


def test_without_results_the_document_has_placeholders():
    doc = report.markdown({})
    assert "no run yet, the numbers are placeholders" in doc and "not measured yet" in doc
    assert not re.search(r"\| \d+\.\d\d", doc)  # no measured time or ratio in any cell


def test_the_printed_table_has_a_line_per_step_measured_and_the_verdicts():
    printed = report.table(MEASURED)
    assert printed.splitlines()[1].startswith("create3") and "500/3/0, 1.60 s" in printed
    assert "**not met**" in printed and "not measured yet" in printed


def test_docs_performance_is_the_rendering_of_bench_results():
    """Never edited by hand: make bench writes both (run .venv/bin/python -m bench.report after editing the renderer)."""
    assert report.DOC.read_text() == report.markdown(results.load())
