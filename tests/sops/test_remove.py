"""The remove SOP on lab nodes, under a continuous writer: a follower, the leader, a powered-off
node, an unstarted member; the safeguard; the departing host alone as the inventory.

Tests run in order on one lab: each starts from the cluster the previous one left.
"""

import json

import pytest

from lab import config
from tests.helpers import ROOT, deploy, etcdctl, lab, members, pyinfra, script, ssh
from tests.writer import Writer

pytestmark = pytest.mark.etcd("3.5.16", "remove")

NODES = [config.node_address(number) for number in range(1, 5)]
ALL = "1,2,3,4"


@pytest.fixture(scope="module", autouse=True)
def four_member_cluster():
    lab("up", "-n", "4")
    lab("reset", "1", "2", "3", "4")
    deploy("create", nodes=ALL)


@pytest.fixture(scope="module")
def writer():
    with Writer(NODES) as running:
        yield running


def current() -> list[str]:
    """The members' addresses, asked of whichever node still is one (the leader may have left)."""
    for address in NODES:
        listing = etcdctl(address, "member list -w json", check=False)
        if listing.returncode == 0:
            urls = [url for m in json.loads(listing.stdout)["members"] for url in m["peerURLs"]]
            return sorted(url.split("//")[1].split(":")[0] for url in urls)
    raise AssertionError("no node answers")


def leader() -> str:
    """The address of the member that leads."""
    for endpoint in json.loads(etcdctl(current()[0], "endpoint status --cluster -w json").stdout):
        if endpoint["Status"]["header"]["member_id"] == endpoint["Status"]["leader"]:
            return endpoint["Endpoint"].split("//")[1].split(":")[0]
    raise AssertionError("no leader")


def assert_left(departed: str, remaining: list[str], writer: Writer) -> None:
    """Only `remaining` are members, the cluster is healthy, no acknowledged write is lost, and
    the departed host has no etcd left (unless it cannot be reached)."""
    assert current() == sorted(remaining)
    assert etcdctl(remaining[0], "endpoint health --cluster").returncode == 0
    writer.addresses = remaining
    assert writer.counts(remaining[0]).lost == 0
    leftovers = ssh(
        departed,
        "systemctl is-active etcd; ls -d /etc/etcd /data/etcd /etc/systemd/system/etcd.service /etc/profile.d/etcdctl.sh 2>/dev/null",
        check=False,
    ).stdout.split()
    assert leftovers == ["inactive"]


def test_the_safeguard_refuses_without_changing_anything():
    run = deploy("remove", "--limit", NODES[3], "--data", "etcd_safeguard=true", nodes=ALL, check=False)
    assert run.returncode != 0 and "etcd_safeguard is on: refusing to remove 10.10.10.13" in run.stderr
    assert len(members(NODES[0])) == 4
    assert ssh(NODES[3], "systemctl is-active etcd").stdout.strip() == "active"


def test_remove_a_follower_with_etcd_rm(writer):
    follower = next(a for a in reversed(NODES) if a != leader())
    removed = script("etcd-rm", follower, nodes=ALL)
    assert f"{follower} left the cluster" in removed.stderr
    remaining = [a for a in NODES if a != follower]
    assert_left(follower, remaining, writer)
    # bin/etcd-rm reloads the remaining members' client references
    assert follower not in ssh(remaining[0], "bash -lc 'echo $ETCDCTL_ENDPOINTS'").stdout
    number = NODES.index(follower) + 1
    assert not list((ROOT / "pki" / "etcd").glob(f"etcd-{number}.*"))
    again = deploy("remove", "--limit", follower, nodes=ALL)
    assert again.changed == {}


def test_remove_the_leader(writer):
    before = current()
    departing = leader()
    run = deploy("remove", "--limit", departing, nodes=ALL)
    assert run.changed["etcd removal | Stop etcd and delete its files"] == [departing]
    remaining = [a for a in before if a != departing]
    assert_left(departing, remaining, writer)
    assert leader() in remaining


def test_remove_a_powered_off_node(writer):
    gone = [a for a in NODES if a not in current()]
    script("etcd-add", gone[0], nodes=ALL)
    members_now = current()
    dead = next(a for a in reversed(members_now) if a != leader())
    writer.addresses = [a for a in members_now if a != dead]
    lab("stop", str(NODES.index(dead) + 1))
    removed = script("etcd-rm", dead, nodes=ALL)
    assert f"{dead} does not answer on ssh" in removed.stderr and "its cleanup is skipped" in removed.stderr
    remaining = [a for a in members_now if a != dead]
    assert current() == remaining
    assert writer.counts(remaining[0]).lost == 0
    # back up, the removed member's host is cleaned by running the SOP again
    lab("start", str(NODES.index(dead) + 1))
    cleanup = deploy("remove", "--limit", dead, nodes=ALL)
    assert cleanup.changed["etcd removal | Stop etcd and delete its files"] == [dead]
    assert_left(dead, remaining, writer)


def test_remove_an_unstarted_member_left_by_an_interrupted_join(writer):
    members_now = current()
    outsider = next(a for a in NODES if a not in members_now)
    etcdctl(members_now[0], f"member add pending --learner --peer-urls=https://{outsider}:2380")
    assert len(members(members_now[0])) == len(members_now) + 1
    script("etcd-rm", outsider, nodes=ALL)
    assert current() == members_now


def test_the_departing_hosts_own_data_dir_is_checked_as_the_inventorys(writer):
    members_now = current()
    departing = next(a for a in reversed(members_now) if a != leader())
    conf = "/etc/etcd/etcd.conf"
    ssh(departing, f"cp {conf} /root/etcd.conf.orig && sed -i 's|^data-dir: .*|data-dir: /var/lib|' {conf}")
    try:
        run = pyinfra(f"@ssh/{departing}", "deploys/remove.py", check=False)
        assert run.returncode != 0 and not run.executed
        assert f"{departing}: data-dir '/var/lib' of {conf} is a system folder" in run.stderr
        assert current() == members_now
        assert ssh(departing, "systemctl is-active etcd; test -d /var/lib/dpkg && echo kept").stdout.split() == ["active", "kept"]
    finally:
        ssh(departing, f"cp /root/etcd.conf.orig {conf}")


def test_remove_with_the_departing_host_alone_as_inventory(writer):
    members_now = current()
    departing = next(a for a in reversed(members_now) if a != leader())
    run = pyinfra(f"@ssh/{departing}", "deploys/remove.py")
    assert len(run.changed["etcd removal | Stop etcd and delete its files"]) == 1
    assert any(name.startswith("Remove etcd-") for name in run.changed)
    remaining = [a for a in members_now if a != departing]
    assert_left(departing, remaining, writer)


def test_the_writer_lost_nothing(writer):
    writer.stop()
    counts = writer.counts(writer.addresses[0])
    print(f"continuous writer: {counts}")
    assert counts.acknowledged > 300 and counts.lost == 0
