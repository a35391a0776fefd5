"""Monitoring on lab nodes: a real Prometheus (Debian package) on node4 scrapes the members over
TLS; create registers them, a join adds one, a removal takes it away, destroy deregisters all."""

import json
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import deploy, lab, script, ssh

PROMETHEUS = "10.10.10.13"
INVENTORY = Path("/tmp/etcdkit-test-monitoring-inventory.py")
PROMETHEUS_CONFIG = """\
global: {scrape_interval: 2s, evaluation_interval: 5s}
scrape_config_files: ["/etc/prometheus/scrape/*.yml"]
rule_files: ["/etc/prometheus/rules/*.yml"]
"""
SITE_RULES = """\
# the site's own etcd rules (Pigsty ships a rules/etcd.yml): etcdkit never writes this file
groups:
  - name: site-etcd
    rules:
      - alert: SiteEtcdDown
        expr: up{job="etcd"} == 0
"""


def write_inventory(members: list[int]) -> str:
    INVENTORY.write_text(
        textwrap.dedent(f"""\
        etcd = ([{", ".join(f"('10.10.10.{9 + n}', {{'etcd_seq': {n}}})" for n in members)}], {{"etcd_cluster": "etcd"}})
        infra = ([({PROMETHEUS!r}, {{}})], {{}})
        """)
    )
    return str(INVENTORY)


@pytest.fixture(scope="module", autouse=True)
def prometheus_on_node4():
    lab("up", "-n", "5")
    lab("reset", "1", "2", "3", "4", "5")
    ssh(
        PROMETHEUS,
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -q prometheus >/dev/null && "
        "cat > /etc/prometheus/prometheus.yml && systemctl restart prometheus",
        input_=PROMETHEUS_CONFIG,
    )
    ssh(PROMETHEUS, "mkdir -p /etc/prometheus/rules && cat > /etc/prometheus/rules/etcd.yml", input_=SITE_RULES)
    yield
    INVENTORY.unlink(missing_ok=True)


def up_targets() -> list[str]:
    """The instances of job etcd-etcd that Prometheus scrapes successfully."""
    with urllib.request.urlopen(f"http://{PROMETHEUS}:9090/api/v1/targets", timeout=5) as response:
        active = json.load(response)["data"]["activeTargets"]
    return sorted(t["labels"]["ins"] for t in active if t["labels"].get("job") == "etcd-etcd" and t["health"] == "up")


def wait_for_targets(expected: list[str], timeout: float = 60) -> None:
    deadline, seen = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            seen = up_targets()
        except OSError:
            seen = None
        if seen == expected:
            return
        time.sleep(1)
    raise AssertionError(f"Prometheus scrapes {seen}, not {expected}")


def test_create_registers_every_member():
    run = deploy("create", inventory=write_inventory([1, 2, 3]))
    assert run.changed["Prometheus | Prometheus targets of `etcd`"] == [PROMETHEUS]
    wait_for_targets(["etcd-1", "etcd-2", "etcd-3"])
    assert deploy("create", inventory=write_inventory([1, 2, 3])).changed == {}


def test_the_alert_rules_pass_promtool():
    assert "SUCCESS: 21 rules found" in ssh(PROMETHEUS, "promtool check rules /etc/prometheus/rules/etcdkit-etcd.yml").stdout


def test_the_sites_own_etcd_rules_are_kept_and_loaded():
    assert ssh(PROMETHEUS, "cat /etc/prometheus/rules/etcd.yml").stdout == SITE_RULES
    with urllib.request.urlopen(f"http://{PROMETHEUS}:9090/api/v1/rules", timeout=5) as response:
        groups = {group["name"] for group in json.load(response)["data"]["groups"]}
    assert {"site-etcd", "etcdkit-etcd"} <= groups


def test_a_joined_member_appears():
    script("etcd-add", "10.10.10.14", nodes="", inventory=write_inventory([1, 2, 3, 5]))
    wait_for_targets(["etcd-1", "etcd-2", "etcd-3", "etcd-5"])


def test_a_removed_member_disappears():
    script("etcd-rm", "10.10.10.14", nodes="", inventory=write_inventory([1, 2, 3, 5]))
    wait_for_targets(["etcd-1", "etcd-2", "etcd-3"])
    assert "etcd-5.yml" not in ssh(PROMETHEUS, "ls /etc/prometheus/targets/etcd").stdout


def test_destroy_deregisters_every_member():
    deploy("destroy", inventory=write_inventory([1, 2, 3]))
    assert ssh(PROMETHEUS, "ls /etc/prometheus/targets/etcd").stdout.split() == []
