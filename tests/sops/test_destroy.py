"""The destroy SOP on lab nodes: safeguard, snapshot, nothing left, idempotence, create afterwards.

Tests run in order on one lab: each starts from what the previous one left.
"""

import json
import subprocess

import pytest

from lab import config
from tests.helpers import ROOT, deploy, etcdctl, lab, script, ssh

NODES = [config.node_address(number) for number in range(1, 4)]


@pytest.fixture(scope="module", autouse=True)
def cluster_with_keys():
    lab("up", "-n", "3")
    lab("reset", "1", "2", "3")
    deploy("create")
    for number in range(20):
        etcdctl(NODES[number % 3], f"put /destroy-test/{number:02d} value-{number}")


def keys(address: str) -> int:
    fields = etcdctl(address, "get /destroy-test/ --prefix --count-only -w fields").stdout
    return int(next(line for line in fields.splitlines() if line.startswith('"Count"')).split(":")[1])


def cluster_id() -> str:
    return json.loads(etcdctl(NODES[0], "member list -w json").stdout)["header"]["cluster_id"]


@pytest.fixture(scope="module")
def first_cluster_id():
    return cluster_id()


def test_the_safeguard_refuses_on_every_host_and_the_cluster_still_serves():
    run = deploy("destroy", "--data", "etcd_safeguard=true", check=False)
    assert run.returncode != 0
    assert "etcd_safeguard is on: refusing to destroy cluster `etcd`" in run.stderr and "etcd_purge=true" in run.stderr
    assert not run.executed
    for address in NODES:
        assert keys(address) == 20


def test_etcd_rm_without_addresses_destroys_after_a_snapshot(first_cluster_id):
    before = set((ROOT / "backups").glob("etcd-*.db"))
    script("etcd-rm", "--destroy", "etcd", nodes="1,2,3")
    for address in NODES:
        left = ssh(
            address,
            "pgrep -x etcd; systemctl is-enabled etcd; ls -d /etc/etcd /data/etcd "
            "/etc/systemd/system/etcd.service /etc/profile.d/etcdctl.sh 2>/dev/null",
            check=False,
        ).stdout.split()
        assert left in (["disabled"], ["not-found"], []), left
    snapshots = [p for p in (ROOT / "backups").glob("etcd-*.db") if p not in before]
    assert len(snapshots) == 1 and oct(snapshots[0].stat().st_mode & 0o777) == "0o600"
    # readable: etcdutl on a node opens it and finds the keys
    subprocess.run(["scp", "-q", str(snapshots[0]), f"{NODES[0]}:/tmp/snapshot.db"], check=True)
    status = json.loads(ssh(NODES[0], "etcdutl snapshot status /tmp/snapshot.db -w json").stdout)
    assert status["totalKey"] >= 20
    assert not list((ROOT / "pki" / "etcd").glob("etcd-[123].*"))


def test_destroying_a_destroyed_cluster_changes_nothing():
    assert deploy("destroy").changed == {}


def test_create_after_destroy_builds_a_new_cluster(first_cluster_id):
    deploy("create")
    assert keys(NODES[1]) == 0
    assert cluster_id() != first_cluster_id
