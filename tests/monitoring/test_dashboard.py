"""The Grafana dashboard (templates/grafana/etcd-dashboard.json): a valid JSON model whose every panel
queries the data source variable, for the cluster of the `cls` variable, with metrics that etcd or the
alert rules provide; promtool parses every query."""

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from etcdkit.tasks.prometheus import DASHBOARD
from tests.monitoring.promql import matchers, selectors
from tests.monitoring.test_rules import rules

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD_FILE = ROOT / "templates" / "grafana" / "etcd-dashboard.json"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# metrics of etcd's /metrics the dashboard shows besides those of the alert rules
ETCD_METRICS = {
    "etcd_server_is_leader",
    "etcd_server_proposals_committed_total",
    "etcd_server_proposals_applied_total",
    "etcd_server_proposals_pending",
}
# Prometheus' own series of the rules' alerts
ALERTS = {"ALERTS"}


def dashboard() -> dict:
    return json.loads(DASHBOARD_FILE.read_text())


def panels() -> list[dict]:
    return dashboard()["panels"]


def rule_metrics() -> set[str]:
    return {metric for rule in rules() for metric, _ in selectors(rule["expr"])}


def test_the_json_model_is_a_dashboard():
    model = dashboard()
    assert model["uid"] and model["title"] and model["schemaVersion"] >= 36
    assert "id" not in model or model["id"] is None  # Grafana gives the id; a fixed one clashes
    assert DASHBOARD.read_text() == DASHBOARD_FILE.read_text()  # what etcdkit installs


def test_it_has_a_data_source_and_a_cluster_variable():
    variables = {variable["name"]: variable for variable in dashboard()["templating"]["list"]}
    assert set(variables) == {"datasource", "cls"}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    cls = variables["cls"]
    assert cls["type"] == "query" and cls["datasource"] == DATASOURCE
    assert cls["query"]["query"] == cls["definition"] == 'label_values(up{job=~"etcd-.*"}, cls)'


@pytest.mark.parametrize("panel", panels(), ids=lambda panel: panel["title"])
def test_every_panel_queries_the_data_source_variable(panel):
    assert panel["datasource"] == DATASOURCE
    assert panel["targets"]
    assert len({target["refId"] for target in panel["targets"]}) == len(panel["targets"])
    for target in panel["targets"]:
        assert target["datasource"] == DATASOURCE and target["expr"].strip()


@pytest.mark.parametrize("panel", panels(), ids=lambda panel: panel["title"])
def test_every_query_uses_known_metrics_of_the_chosen_cluster(panel):
    known = rule_metrics() | ETCD_METRICS | ALERTS
    for target in panel["targets"]:
        found = selectors(target["expr"])
        assert found, target["expr"]
        for metric, labels in found:
            assert metric in known, f"{metric} is neither an etcd metric of the list nor one of the rules'"
            assert matchers(labels).get("cls") == '="$cls"', f"{target['expr']}: {metric} is not filtered by cls"


def test_panels_cover_the_overview():
    titles = {panel["title"] for panel in panels()}
    assert {
        "Members up", "Has leader", "Leader changes", "Database size, in use and quota", "Database size / quota",
        "Proposals committed, applied and failed", "Proposals pending and apply lag", "WAL fsync p99",
        "Backend commit p99", "gRPC requests", "gRPC failures", "Peer round trip p99",
    } <= titles  # fmt: skip


def test_panels_fit_the_grid_without_overlapping():
    taken = set()
    for panel in panels():
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24 and grid["w"] > 0 and grid["h"] > 0
        cells = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not cells & taken, panel["title"]
        taken |= cells
    assert len({panel["id"] for panel in panels()}) == len(panels())


def test_promtool_parses_every_query(promtool, tmp_path):
    """Each query as a recording rule, with Grafana's variables filled in."""
    queries = [target["expr"] for panel in panels() for target in panel["targets"]]
    records = [
        {"record": f"dashboard:query_{n}", "expr": query.replace("$__rate_interval", "5m").replace("$cls", "etcd")}
        for n, query in enumerate(queries)
    ]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": records}]}))
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
