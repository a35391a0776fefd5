"""Disaster recovery on lab nodes: two of three members powered off and their disks wiped (quorum
lost for good), recover from the survivor, then the others joined again; refused while the
cluster has quorum.

Tests run in order on one lab: each starts from what the previous one left.
"""

import json
import shlex
import time

import pytest

from tests.helpers import deploy, etcdctl, lab, main_pids, script, ssh
from tests.writer import PREFIX, Writer

pytestmark = pytest.mark.etcd("3.5.30", "create", "recover", "join")

NODES = ["10.10.10.10", "10.10.10.11", "10.10.10.12"]


@pytest.fixture(scope="module", autouse=True)
def cluster():
    lab("up", "-n", "3")
    lab("reset", "1", "2", "3")
    deploy("create")


def survivor(command: str):
    """etcdctl on node 1 against itself only: its etcdctl environment names the old members until they join again."""
    return ssh(NODES[0], f"bash -lc {shlex.quote(f'ETCDCTL_ENDPOINTS=https://{NODES[0]}:2379 etcdctl {command}')}")


def stored(address: str) -> set[int]:
    keys = etcdctl(address, f"get {PREFIX} --prefix --keys-only").stdout.split()
    return {int(key[len(PREFIX) :]) for key in keys if key.startswith(PREFIX)}


def test_recover_is_refused_while_the_cluster_has_quorum():
    pids = main_pids(NODES)
    run = deploy("recover", check=False)
    assert run.returncode != 0 and "so it has quorum; nothing was changed" in run.stderr and not run.executed
    assert main_pids(NODES) == pids


def test_quorum_lost_for_good_is_recovered_from_the_survivor():
    with Writer(NODES) as writer:
        time.sleep(3)
    written = writer.acknowledged()
    time.sleep(1)  # the survivor applies what the cluster committed
    cluster_id = json.loads(etcdctl(NODES[0], "endpoint status -w json").stdout)[0]["Status"]["header"]["cluster_id"]
    for node in ("2", "3"):
        lab("stop", node)
    lab("reset", "2", "3")  # their disks are gone: the quorum is lost for good
    started = time.monotonic()
    run = deploy("recover")
    print(f"recover: {time.monotonic() - started:.1f} s")
    assert "etcd-1 (10.10.10.10) becomes a one-member cluster" in run.stderr
    assert len(json.loads(survivor("member list -w json").stdout)["members"]) == 1
    assert survivor("endpoint health").returncode == 0
    keys = survivor(f"get {PREFIX} --prefix --keys-only").stdout.split()
    assert written and written <= {int(key[len(PREFIX) :]) for key in keys if key.startswith(PREFIX)}  # all the survivor applied
    status = json.loads(survivor("endpoint status -w json").stdout)[0]["Status"]["header"]
    assert status["cluster_id"] == cluster_id
    assert "force-new-cluster" not in ssh(NODES[0], "cat /etc/etcd/etcd.conf; systemctl cat etcd").stdout
    ssh(NODES[0], "systemctl restart etcd")
    assert survivor("endpoint health").returncode == 0  # a plain restart keeps the one-member cluster
    script("etcd-add", NODES[1], NODES[2], nodes="1,2,3")
    health = json.loads(etcdctl(NODES[2], "endpoint health --cluster -w json").stdout)
    assert [h["health"] for h in health] == [True, True, True]
    assert written <= stored(NODES[2])
    assert deploy("create").changed == {}
