"""The join SOP on lab nodes: grow 1 -> 2 -> 3 -> 4 -> 5 under a continuous writer.

Tests run in order on one lab: each starts from the cluster the previous one left.
"""

import json
import subprocess
import time

import pytest

from lab import config
from tests.helpers import LAB_INVENTORY, PYINFRA, ROOT, deploy, etcdctl, lab, lab_env, members, script, ssh, version_args
from tests.writer import Writer

pytestmark = pytest.mark.etcd("3.5.16", "join")

NODES = [config.node_address(number) for number in range(1, 6)]


@pytest.fixture(scope="module", autouse=True)
def one_member_cluster():
    lab("up", "-n", "5")
    lab("reset", "1", "2", "3", "4", "5")
    deploy("create", nodes="1")


@pytest.fixture(scope="module")
def writer():
    with Writer([NODES[0]]) as running:
        yield running


def assert_cluster_of(count: int, writer: Writer) -> None:
    """The first `count` nodes are exactly the members, all started voters; the cluster is healthy;
    every acknowledged write is readable; clients now write through every member."""
    listing = members(NODES[0])
    assert sorted(url for m in listing for url in m["peerURLs"]) == [f"https://{a}:2380" for a in NODES[:count]]
    assert all(m.get("name") and not m.get("isLearner") for m in listing), listing
    assert etcdctl(NODES[0], "endpoint health --cluster").returncode == 0
    assert writer.counts(NODES[0]).lost == 0
    writer.addresses = NODES[:count]


def env_endpoints(address: str) -> str:
    return ssh(address, "bash -lc 'echo $ETCDCTL_ENDPOINTS'").stdout.strip()


def test_grow_1_to_2_with_etcd_add(writer):
    added = script("etcd-add", NODES[1], nodes="1,2")
    assert "10.10.10.11 joined" in added.stderr
    assert_cluster_of(2, writer)
    # bin/etcd-add reloads every member's client references
    assert env_endpoints(NODES[0]) == f"https://{NODES[0]}:2379,https://{NODES[1]}:2379"


def test_grow_2_to_3_with_the_join_deploy(writer):
    run = deploy("join", "--limit", NODES[2], nodes="1,2,3")
    assert run.changed["etcd join | Start etcd-3, promote it, check the cluster"] == [NODES[2]]
    assert_cluster_of(3, writer)


def test_a_second_join_run_changes_nothing():
    run = deploy("join", "--limit", NODES[2], nodes="1,2,3")
    assert run.changed == {}
    assert "every host of this run is a started member" in run.stderr


def test_joins_are_refused_while_a_member_is_pending_or_two_hosts_join_at_once():
    two = deploy("join", nodes="1,2,3,4,5", check=False)
    assert two.returncode != 0 and "members join one at a time" in two.stderr
    # etcd refuses a membership change for a few seconds after the last one ("unhealthy cluster")
    added = ssh(
        NODES[0],
        "bash -lc 'for i in $(seq 50); do etcdctl member add pending --learner "
        f"--peer-urls=https://{NODES[4]}:2380 -w json && exit; sleep 0.3; done; exit 1'",
    )
    member_id = json.loads(added.stdout.strip().splitlines()[-1])["member"]["ID"]
    try:
        pending = deploy("join", "--limit", NODES[3], nodes="1,2,3,4", check=False)
        assert pending.returncode != 0 and "is pending (an unfinished join)" in pending.stderr
        assert ssh(NODES[3], "command -v etcd", check=False).returncode != 0
    finally:
        etcdctl(NODES[0], f"member remove {member_id:x}")


def test_a_join_that_never_serves_is_undone(writer):
    ssh(
        NODES[3],
        "mkdir -p /etc/systemd/system/etcd.service.d && printf '[Service]\\nExecStartPre=/bin/false\\n' "
        "> /etc/systemd/system/etcd.service.d/broken.conf",
    )
    try:
        failed = deploy("join", "--limit", NODES[3], "--data", "etcd_join_timeout=6", nodes="1,2,3,4", check=False)
        assert failed.returncode != 0
        assert "etcd-4 did not join" in failed.stderr and "its member entry was removed again" in failed.stderr
        assert "ExecStartPre" in failed.stderr or "etcd.service" in failed.stderr  # its journal is shown
        assert_cluster_of(3, writer)
        assert ssh(NODES[3], "systemctl is-enabled etcd", check=False).stdout.strip() == "disabled"
    finally:
        ssh(NODES[3], "rm -r /etc/systemd/system/etcd.service.d && systemctl daemon-reload")


def test_grow_3_to_4_in_the_seeds_form(writer):
    run = deploy("create", "--limit", NODES[3], "--data", "etcd_init=existing", nodes="1,2,3,4")
    assert run.changed["etcd join | Announce etcd-4 (learner)"] == [NODES[3]]
    assert_cluster_of(4, writer)


def test_a_join_cut_short_by_a_power_off_converges_on_the_next_run(writer):
    command = [str(PYINFRA), "-y", LAB_INVENTORY, "deploys/join.py", "--limit", NODES[4], *version_args()]
    join = subprocess.Popen(command, cwd=ROOT, env=lab_env("1,2,3,4,5"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peer_url, deadline = f"https://{NODES[4]}:2380", time.monotonic() + 60
    # (etcdctl, whose calls time out: the etcd3 client's member list can hang across a membership change)
    while peer_url not in etcdctl(NODES[0], "member list").stdout:
        assert time.monotonic() < deadline and join.poll() is None, "the join never announced node5"
        time.sleep(0.05)
    lab("stop", "5")
    assert join.wait(timeout=120) != 0
    lab("start", "5")
    script("etcd-add", NODES[4], nodes="1,2,3,4,5")
    assert_cluster_of(5, writer)
    assert len(members(NODES[0])) == 5


def test_the_writer_lost_nothing(writer):
    writer.stop()
    counts = writer.counts(NODES[0])
    print(f"continuous writer: {counts}")
    assert counts.acknowledged > 500 and counts.lost == 0
