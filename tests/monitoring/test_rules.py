"""The alert rules (templates/prometheus/etcd-alerts.yml): promtool checks them and runs their unit
tests (tests/monitoring/*.test.yml), every alert fires in a test and stays silent on a healthy
cluster, and each one is complete: severity, summary, description and a runbook section."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from etcdkit.tasks.prometheus import RULES, alert_rules
from tests.monitoring.promql import GROUPING, matchers, selectors

ROOT = Path(__file__).resolve().parents[2]
RULES_FILE = ROOT / "templates" / "prometheus" / "etcd-alerts.yml"
HERE = Path(__file__).resolve().parent
TEST_FILES = sorted(HERE.glob("*.test.yml"))
RUNBOOK = ROOT / "docs" / "runbook.md"
# the backup job's gauge, scraped by a job of its own (node exporter textfile or Pushgateway)
BACKUP_METRIC = "etcd_backup_last_success_timestamp_seconds"


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES_FILE.read_text())["groups"] for rule in group["rules"]]


def alert_names() -> set[str]:
    return {rule["alert"] for rule in rules()}


def anchors(markdown: str) -> set[str]:
    """GitHub's anchors of the headings of a Markdown text."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", markdown, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_promtool_checks_the_rules(promtool):
    result = subprocess.run([promtool, "check", "rules", str(RULES_FILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules())} rules found" in result.stdout


def test_promtool_unit_tests_pass(promtool):
    assert TEST_FILES, "no *.test.yml in tests/monitoring"
    result = subprocess.run([promtool, "test", "rules", *[f.name for f in TEST_FILES]], cwd=HERE, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_lab_test_expects_as_many_rules():
    """tests/sops/test_monitoring.py checks the installed file with promtool on the lab."""
    text = (ROOT / "tests" / "sops" / "test_monitoring.py").read_text()
    assert f"SUCCESS: {len(rules())} rules found" in text


@pytest.mark.parametrize("rule", rules(), ids=lambda rule: f"{rule['alert']}-{rule['labels']['severity']}")
def test_every_rule_is_complete(rule):
    name = rule["alert"]
    assert re.fullmatch(r"Etcd[A-Z][A-Za-z]+", name)
    assert rule["labels"]["severity"] in ("warning", "critical")
    assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}
    assert rule["annotations"]["runbook_url"] == f"docs/runbook.md#{name.lower()}"
    for metric, labels in selectors(rule["expr"]):
        if metric == BACKUP_METRIC:
            assert matchers(labels) == {"cls": '!=""'}
        else:
            assert matchers(labels).get("job") == '=~"etcd-.*"', f"{name}: {metric} without the job matcher"
    # what is aggregated is aggregated per cluster, and the member labels stay on members' alerts
    for clause, labels in GROUPING.findall(rule["expr"]):
        names = {label.strip() for label in labels.split(",")}
        assert ("cls" in names) if clause == "by" else not names & {"cls", "ins", "ip"}, f"{name}: {clause} ({labels})"


def test_both_severities_of_an_alert_share_its_texts():
    by_name: dict[str, list[dict]] = {}
    for rule in rules():
        by_name.setdefault(rule["alert"], []).append(rule)
    for name, variants in by_name.items():
        assert len({rule["labels"]["severity"] for rule in variants}) == len(variants), name
        assert len({yaml.safe_dump(rule["annotations"]) for rule in variants}) == 1, name


def test_every_alert_has_its_runbook_section():
    sections = anchors(RUNBOOK.read_text())
    assert {name.lower() for name in alert_names()} <= sections
    assert BACKUP_METRIC in RUNBOOK.read_text()


def test_every_alert_and_severity_fires_in_a_unit_test():
    expected = {(rule["alert"], rule["labels"]["severity"]) for rule in rules()}
    fired = set()
    for path in TEST_FILES:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                fired |= {(case["alertname"], alert["exp_labels"]["severity"]) for alert in case.get("exp_alerts") or []}
    assert fired == expected


def test_a_healthy_cluster_keeps_every_alert_silent():
    (test,) = yaml.safe_load((HERE / "healthy.test.yml").read_text())["tests"]
    cases = test["alert_rule_test"]
    assert not [case for case in cases if case.get("exp_alerts")]
    times = {case["eval_time"] for case in cases}
    assert len(times) >= 3
    for time in times:
        assert {case["alertname"] for case in cases if case["eval_time"] == time} == alert_names(), time


def narrowed(cluster: str) -> dict:
    """The shipped rules as a cluster's file must hold them: its group, its job, its backup gauge."""
    text = RULES.replace('job=~"etcd-.*"', f'job="etcd-{cluster}"').replace('cls!=""', f'cls="{cluster}"')
    shipped = yaml.safe_load(text)
    shipped["groups"][0]["name"] = f"etcdkit-{cluster}"
    return shipped


def test_a_clusters_rules_select_only_its_job_and_its_backups(tmp_path, promtool):
    installed = alert_rules("docs/runbook.md", "pg-etcd")
    assert installed.startswith("# Alert rules for etcd cluster pg-etcd, written by etcdkit: edits are overwritten.\n")
    assert yaml.safe_load(installed) == narrowed("pg-etcd")
    assert "etcd-.*" not in installed and 'cls!=""' not in installed
    (tmp_path / "etcdkit-pg-etcd.yml").write_text(installed)
    result = subprocess.run([promtool, "check", "rules", str(tmp_path / "etcdkit-pg-etcd.yml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_etcd_runbook_url_sets_the_base_of_every_link():
    base = "https://git.example.com/ops/etcdkit/-/blob/main/docs/runbook.md?plain=1&x=a:b"
    installed = yaml.safe_load(alert_rules(base, "etcd"))
    links = [rule["annotations"]["runbook_url"] for group in installed["groups"] for rule in group["rules"]]
    assert links == [f"{base}#{rule['alert'].lower()}" for rule in rules()]
    # everything else is unchanged
    for group in installed["groups"]:
        for rule in group["rules"]:
            rule["annotations"]["runbook_url"] = f"docs/runbook.md#{rule['alert'].lower()}"
    assert installed == narrowed("etcd")
