"""Maintenance on lab nodes: a cluster filled to a small quota raises NOSPACE; maintain compacts,
defragments one member at a time and disarms the alarm, and writes work again.
"""

import json
import re
import shlex

import pytest

from tests.helpers import deploy, etcdctl, lab, ssh
from tests.writer import fill, in_child

pytestmark = pytest.mark.etcd("3.5.16", "maintain")

NODES = ["10.10.10.10", "10.10.10.11", "10.10.10.12"]


@pytest.fixture(scope="module", autouse=True)
def cluster():
    lab("up", "-n", "3")
    lab("reset", "1", "2", "3")


def test_maintain_clears_a_nospace_alarm_and_shrinks_the_database():
    small = ("--data", "etcd_quota_backend_bytes=67108864")  # 64 MiB, the smallest etcdkit accepts
    keep_none = ("--data", "etcd_compact_keep=0")  # compact to the current revision: the filler's history goes
    deploy("create", *small)
    # 512 KiB values through one client (an etcdctl per value logs in each time) until etcd refuses writes
    assert "database space exceeded" in in_child(fill, NODES[0], "/filler/", 512 * 1024, 20, 400, timeout=300)
    assert "NOSPACE" in etcdctl(NODES[0], "alarm list").stdout
    before = {s["Endpoint"]: s["Status"]["dbSize"] for s in json.loads(etcdctl(NODES[0], "endpoint status --cluster -w json").stdout)}
    etcdctl(NODES[0], "del /filler/ --prefix", check=False)  # allowed under NOSPACE: it frees space
    lead(NODES[1])  # the leader is not the first member, which compacts: it must still be defragmented last
    run = deploy("maintain", *small, *keep_none)
    order = re.findall(r"(10\.10\.10\.1\d): database defragmented", run.stdout + run.stderr)
    assert sorted(order[:2]) == [NODES[0], NODES[2]] and order[2:] == [NODES[1]], order  # the followers in any order
    assert "NOSPACE" not in etcdctl(NODES[0], "alarm list").stdout
    after = {s["Endpoint"]: s["Status"]["dbSize"] for s in json.loads(etcdctl(NODES[0], "endpoint status --cluster -w json").stdout)}
    print(f"maintain: {run.changed}\nDB sizes before {before} after {after}")
    assert all(after[endpoint] < before[endpoint] for endpoint in before)
    assert deploy("maintain", *small, *keep_none).changed == {}  # nothing written since: nothing to do
    assert etcdctl(NODES[0], "put /after-maintenance ok").returncode == 0  # writes work again


def lead(address: str) -> None:
    """Hand the lead to the member at address (through the current leader)."""
    status = json.loads(etcdctl(NODES[0], "endpoint status --cluster -w json").stdout)
    ids = {s["Endpoint"]: s["Status"]["header"]["member_id"] for s in status}
    leader, target = status[0]["Status"]["leader"], ids[f"https://{address}:2379"]
    if leader != target:
        current = next(endpoint for endpoint, member_id in ids.items() if member_id == leader)
        ssh(
            NODES[0], "bash -lc " + shlex.quote(f"ETCDCTL_ENDPOINTS={current} etcdctl move-leader {target:x}")
        )  # the profile sets all three
