"""etcd's version rules on lab nodes (trixie: Debian's etcd 3.5.16, and sid's 3.5.30 that the lab
serves pinned, installed only when asked for by version): the downgrade SOP refused on 3.5 before
any change, an upgrade to 3.6 under 3.5.32 refused naming the release to go to first, then a
cluster upgraded to 3.5.30 under the continuous writer grows by a fourth member with bin/etcd-add
and no etcd_version: the new member runs 3.5.30 too and is promoted; a second run changes nothing.

Tests run in order on one lab: each starts from what the previous one left.
"""

import json

import pytest

from lab import config
from tests.helpers import control_node_state, deploy, etcdctl, host_state, lab, main_pids, members, script, ssh
from tests.writer import Writer

NODES = [config.node_address(number) for number in range(1, 5)]
CLUSTER = NODES[:3]


@pytest.fixture(scope="module", autouse=True)
def trixie_cluster():
    lab("up", "-n", "4")
    lab("reset", "1", "2", "3", "4")
    deploy("create")


def versions() -> dict[str, str]:
    status = json.loads(etcdctl(NODES[0], "endpoint status --cluster -w json").stdout)
    return {s["Endpoint"].split("//")[1].split(":")[0]: s["Status"]["version"] for s in status}


def test_the_downgrade_sop_refuses_etcd_3_5_before_any_change():
    hosts, control = {address: host_state(address) for address in CLUSTER}, control_node_state()
    run = deploy("downgrade", "--data", "etcd_version=3.4.23", check=False)
    assert run.returncode != 0 and not run.executed
    assert "the cluster runs etcd 3.5 (3.5.16): etcd has no downgrade before 3.6" in run.stderr
    assert "restore a snapshot taken before the upgrade" in run.stderr and "bin/etcd-restore" in run.stderr
    assert {address: host_state(address) for address in CLUSTER} == hosts and control_node_state() == control
    assert set(versions().values()) == {"3.5.16"}


def test_an_upgrade_to_3_6_under_3_5_32_is_refused_naming_the_release_to_go_to_first():
    pids = main_pids(CLUSTER)
    run = deploy("upgrade", "--data", "etcd_version=3.6.11", check=False)
    assert run.returncode != 0 and not run.executed
    assert "every member must run etcd 3.5.32 or later before the step to 3.6" in run.stderr
    assert "upgrade to 3.5.32 first (etcd_version=3.5.32), then to 3.6.11" in run.stderr
    assert main_pids(CLUSTER) == pids


@pytest.fixture(scope="module")
def writer():
    with Writer(CLUSTER) as running:
        yield running


def test_a_cluster_upgraded_to_3_5_30_gives_its_new_member_3_5_30(writer):
    deploy("upgrade", "--data", "etcd_version=3.5.30")
    assert set(versions().values()) == {"3.5.30"}
    added = script("etcd-add", NODES[3], nodes="1,2,3,4")  # no etcd_version: the distribution's would be 3.5.16
    assert "etcd-4 gets etcd 3.5.30: the version the cluster's members run (3.5.30)" in added.stdout + added.stderr
    listing = members(NODES[0])
    assert sorted(url for m in listing for url in m["peerURLs"]) == [f"https://{a}:2380" for a in NODES]
    assert all(m.get("name") and not m.get("isLearner") for m in listing), listing  # promoted
    assert versions() == dict.fromkeys(NODES, "3.5.30")
    assert ssh(NODES[3], "dpkg-query -W -f '${Version}' etcd-server").stdout.startswith("3.5.30")
    assert etcdctl(NODES[3], "endpoint health --cluster").returncode == 0
    writer.stop()
    counts = writer.counts(NODES[0])
    print(f"upgrade to 3.5.30 and join of a fourth member: continuous writer {counts}")
    assert counts.acknowledged > 50 and counts.lost == 0


def test_a_second_add_changes_nothing():
    before = {address: host_state(address) for address in NODES}
    script("etcd-add", NODES[3], nodes="1,2,3,4")
    assert {address: host_state(address) for address in NODES} == before
    assert deploy("join", "--limit", NODES[3], nodes="1,2,3,4").changed == {}
