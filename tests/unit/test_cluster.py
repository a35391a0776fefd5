"""The live-cluster view parsed from real etcdctl output captured on the lab (etcd 3.5.16)."""

import dataclasses
import hashlib
from pathlib import Path

import pytest
from etcdkit.facts.etcd import EtcdCluster, EtcdHost, EtcdService

from etcdkit.model.cluster import EndpointStatus, Role, fragmented, quorum
from etcdkit.model.host import EtcdHostState, EtcdServiceState, FileStat, OwnStatus

DATA = Path(__file__).parent / "data"


def view(name):
    return EtcdCluster().process((DATA / name).read_text().splitlines())


def test_healthy_cluster():
    cluster = view("cluster_healthy.txt")
    assert [m.name for m in cluster.members] == ["etcd-1", "etcd-2", "etcd-3"]
    assert cluster.answered_by == 5939695185329910967
    assert cluster.leader().name == "etcd-2"
    assert cluster.health_problems() == []
    assert cluster.by_peer_url("https://10.10.10.12:2380").hex_id == "d5f49d1ab012fa9c"
    assert cluster.successor(cluster.leader().id).name == "etcd-3"  # the most caught-up other voter
    assert [cluster.role(m) for m in cluster.members] == [Role.FOLLOWER, Role.LEADER, Role.FOLLOWER]
    assert quorum(len(cluster.voters)) == 2


def test_member_down_is_reported():
    cluster = view("cluster_member_down.txt")
    assert cluster.health_problems() == ["member etcd-3 (https://10.10.10.12:2379) is not healthy: context deadline exceeded"]
    assert [m.name for m in cluster.healthy_voters] == ["etcd-1", "etcd-2"]


def test_no_answer_is_none():
    assert EtcdCluster().process(["members", "", "status", "", "health", ""]) is None


def test_host_state_of_a_member_and_of_a_bare_host():
    member = EtcdHost().process((DATA / "host_member.txt").read_text().splitlines())
    assert (member.version, member.active, member.data, member.listeners) == ("3.5.16", "active", ("member",), 3)
    assert (member.binary, member.package, member.unit, member.unit_etcdkit) == (
        "/usr/bin/etcd",
        "etcd-server",
        "/etc/systemd/system/etcd.service",
        "yes",
    )
    assert member.conf.splitlines()[1] == "name: etcd-2"
    assert set(member.sha256) == {
        "/etc/etcd/ca.crt",
        "/etc/etcd/server.crt",
        "/etc/etcd/server.key",
        "/etc/etcd/etcd.pass",
        "/etc/etcd/etcd.conf",
        "/etc/systemd/system/etcd.service",
        "/etc/profile.d/etcdctl.sh",
    }
    assert member.files["/etc/etcd"] == FileStat("root", "etcd", 750, "directory")
    assert member.files["/etc/etcd/server.key"] == FileStat("etcd", "etcd", 600, "regular file")
    assert member.files["/var/backups/etcd"] is None and member.lacks("/var/backups/etcd")
    assert not member.lacks("/etc/etcd/etcd.conf") and not member.lacks("/etc/motd")  # held; not asked about
    conf_digest = member.sha256["/etc/etcd/etcd.conf"]
    assert member.holds_file("/etc/etcd/etcd.conf", conf_digest, "root", "etcd", "644")
    assert not member.holds_file("/etc/etcd/etcd.conf", conf_digest, "root", "etcd", "640")  # another mode
    assert not member.holds_file("/etc/etcd/etcd.conf", "0" * 64, "root", "etcd", "644")  # another content
    assert not member.holds_file("/etc/etcd", conf_digest, "root", "etcd", "750")  # a folder is no file
    assert member.holds_folder("/data/etcd", "etcd", "etcd", "700") and not member.holds_folder("/data/etcd", "root", "etcd", "700")
    bare = EtcdHost().process((DATA / "host_bare.txt").read_text().splitlines())
    assert (bare.version, bare.data, bare.conf, bare.pid, bare.package_manager) == (None, None, None, 0, "apt-get")
    assert (bare.binary, bare.package, bare.unit) == (None, None, None)


def test_the_host_fact_is_a_frozen_state_with_its_etcds_own_status():
    member = EtcdHost().process((DATA / "host_member.txt").read_text().splitlines())
    assert isinstance(member, EtcdHostState)
    assert member.own == OwnStatus(cluster_id=3996540687120701406, member_id=13413896952413943900, version="3.5.16")
    assert member.sha256["/etc/etcd/etcd.conf"] == hashlib.sha256(member.conf.encode()).hexdigest()
    with pytest.raises(dataclasses.FrozenInstanceError):
        member.data = None
    assert EtcdHost().process(["self=not json"]) == EtcdHostState()


def test_the_service_fact_is_a_frozen_state_missing_lines_not_running():
    service = EtcdService().process(["active", "enabled", "4242", "4242"])
    assert service == EtcdServiceState("active", "enabled", 4242, 4242)
    with pytest.raises(dataclasses.FrozenInstanceError):
        service.pid = 0
    assert EtcdService().process(["inactive", "disabled", "", "x"]) == EtcdServiceState("inactive", "disabled", 0, 0)
    assert EtcdService().process(["failed"]) == EtcdServiceState("failed", "", 0, 0)


@pytest.mark.parametrize(
    "size, in_use, expected",
    [
        (20480, 16384, False),  # a fresh database: nothing to gain
        (100 << 20, 90 << 20, False),  # 90% in use
        (100 << 20, 70 << 20, True),  # 30 MiB free
        (4 << 20, 2 << 20, True),  # half free, 2 MiB
        (1 << 20, 0, True),  # 1 MiB free: the least worth a defragmentation
        ((1 << 20) - 1, 0, False),
        (None, None, False),  # the member did not answer
    ],
)
def test_fragmented(size, in_use, expected):
    assert fragmented(EndpointStatus.parse({"dbSize": size, "dbSizeInUse": in_use})) is expected


def test_a_status_without_the_size_in_use_is_not_fragmented():
    assert fragmented(EndpointStatus.parse({"dbSize": 100 << 20})) is False
