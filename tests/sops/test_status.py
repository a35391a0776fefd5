"""etcd-status on lab nodes: its exit codes and JSON document for a healthy cluster, a member down,
quorum lost, and a check that cannot be made.

Tests run in order on one lab: a fresh 3-member cluster; each test leaves it healthy again.
"""

import json
import re
import subprocess
import time

import pytest

from tests.helpers import ROOT, deploy, etcdctl, lab, lab_env, ssh

pytestmark = pytest.mark.etcd("3.5.30", "status")

NODES = ["10.10.10.10", "10.10.10.11", "10.10.10.12"]
STATUS = ROOT / "bin" / "etcd-status"
TOP_KEYS = {
    "cluster", "inventory", "checked_at", "cluster_id", "cluster_version", "downgrade", "leader", "leader_id", "auth",
    "ca_expires", "ca_days", "hosts", "members", "alarms", "refused_urls", "problems", "advice", "status", "exit_code",
}  # fmt: skip
MEMBER_KEYS = {
    "name", "id", "host", "peer_urls", "client_urls", "state", "role", "health", "error", "version",
    "db_size", "db_size_in_use", "raft_term", "raft_index", "alarms", "cert_expires", "cert_days",
}  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def cluster():
    lab("up", "-n", "3")
    lab("reset", "1", "2", "3")
    deploy("create")


def etcd_status(*args: str, inventory: str = "inventories/lab.py") -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(STATUS), "-i", inventory, *args], cwd=ROOT, env=lab_env("1,2,3"), text=True, capture_output=True, timeout=600
    )


def wait_healthy(timeout: float = 180) -> None:
    """Every member serves again (after the test started the ones it stopped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if etcdctl(NODES[0], "endpoint health --cluster", check=False).returncode == 0:
            return
        time.sleep(2)
    etcdctl(NODES[0], "endpoint health --cluster")  # fails the test with etcdctl's answer


def start(addresses) -> None:
    for address in addresses:
        ssh(address, "systemctl start etcd", check=False, timeout=120)
    wait_healthy()


def test_a_healthy_cluster_exits_0_with_the_table():
    status = etcd_status()
    assert status.returncode == 0, status.stdout + status.stderr
    lines = status.stdout.splitlines()
    assert re.fullmatch(r"cluster etcd \(id [0-9a-f]+\): 3 members, leader etcd-[123], healthy", lines[0]), lines[0]
    assert "auth on" in lines[1]
    assert "MEMBER" in lines[2] and "CERT DAYS" in lines[2]
    assert len([line for line in lines if " started " in line and " healthy " in line]) == 3
    assert "etcd-status: inventory inventories/lab.py (from -i)" in status.stderr


def test_json_on_a_healthy_cluster():
    status = etcd_status("--json")
    assert status.returncode == 0, status.stdout + status.stderr
    doc = json.loads(status.stdout)
    assert set(doc) == TOP_KEYS
    assert (doc["status"], doc["exit_code"], doc["problems"], doc["alarms"]) == ("healthy", 0, [], [])
    assert doc["refused_urls"] == []
    assert doc["cluster"] == "etcd" and doc["auth"] is True
    assert doc["leader"] in ("etcd-1", "etcd-2", "etcd-3")
    assert doc["cluster_version"] == "3.5" and doc["cluster_id"] and doc["downgrade"] is None
    # Debian's 3.5 releases are under the 3.5.32 etcd asks for before 3.6: advice, which leaves the exit code at 0
    [advice] = doc["advice"]
    running = doc["members"][0]["version"]
    assert advice.startswith(f"etcd {running} (etcd-1, etcd-2, etcd-3): below 3.5.32") and "etcd_version=3.5.32" in advice
    assert doc["ca_days"] > 30
    assert [m["name"] for m in doc["members"]] == ["etcd-1", "etcd-2", "etcd-3"]
    for member in doc["members"]:
        assert set(member) == MEMBER_KEYS
        assert (member["state"], member["health"], member["alarms"]) == ("started", "healthy", [])
        assert member["role"] in ("leader", "follower")
        assert member["host"] in NODES
        assert member["cert_days"] > 30
        assert member["db_size"] > 0 and member["raft_index"] > 0 and member["raft_term"] > 0
    assert [m["role"] for m in doc["members"]].count("leader") == 1


def test_one_member_stopped_is_exit_1():
    ssh(NODES[2], "systemctl stop etcd")
    try:
        status = etcd_status("--json")
        assert status.returncode == 1, status.stdout + status.stderr
        doc = json.loads(status.stdout)
        assert doc["status"] == "degraded"
        down = [m for m in doc["members"] if m["host"] == NODES[2]]
        assert down and down[0]["health"] == "unhealthy"
        assert any("etcd-3" in p["message"] and p["severity"] == 1 for p in doc["problems"])
        table = etcd_status()
        assert table.returncode == 1
        assert "DEGRADED" in table.stdout.splitlines()[0]
    finally:
        start([NODES[2]])


def test_two_members_stopped_is_exit_2():
    try:
        ssh(NODES[1], "systemctl stop etcd")
        ssh(NODES[2], "systemctl stop etcd")
        status = etcd_status("--json")
        assert status.returncode == 2, status.stdout + status.stderr
        doc = json.loads(status.stdout)
        assert doc["status"] == "no quorum"
        assert max(p["severity"] for p in doc["problems"]) == 2
    finally:
        start([NODES[1], NODES[2]])


def test_a_missing_inventory_is_exit_3():
    status = etcd_status("--json", inventory="inventories/no-such-inventory.py")
    assert status.returncode == 3, status.stdout + status.stderr
    doc = json.loads(status.stdout)
    assert doc["status"] == "not checked" and doc["members"] == []
    assert "no inventory file" in status.stderr


def test_an_inventory_whose_hosts_cannot_be_reached_is_exit_3(tmp_path):
    inventory = tmp_path / "unreachable.py"
    inventory.write_text("etcd = ([('10.10.10.99', {'etcd_seq': 1})], {'etcd_cluster': 'etcd'})\n")
    status = etcd_status("--json", inventory=str(inventory))
    assert status.returncode == 3, status.stdout + status.stderr
    doc = json.loads(status.stdout)
    assert doc["exit_code"] == 3 and doc["members"] == []
