"""What a host's etcd says it is, read once per run: from the cluster view read beside the hosts'
facts where that view can say it, else from the host's etcd itself (etcdkit.plans.gather.with_own)."""

from dataclasses import replace

import pytest

from etcdkit.model.host import OwnStatus
from etcdkit.plans.gather import own_in_view, with_own
from tests.unit.plans_data import CLUSTER_ID, client_url, inventory, member_id, view, with_status


def unasked(inv, seq: int, **changes):
    """Member seq's host as the plan reads it beside the view: its etcd not asked what it is."""
    return replace(inv.ours(seq), **{"own": None, "version": None, "runs_binary": True, **changes})


def test_the_view_says_what_each_answering_member_is_and_its_version(tmp_path):
    inv = inventory(tmp_path)
    live = with_status(view(1, 2, 3), client_url(2), version="3.5.30")
    assert own_in_view(inv.member(2), live) == OwnStatus(CLUSTER_ID, member_id(2), "3.5.30")
    hosts = inv.hosts({seq: unasked(inv, seq) for seq in (1, 2, 3)})
    read_again: list[int] = []
    done = with_own(hosts, live, lambda member: read_again.append(member.seq))
    assert read_again == []  # no etcdctl on any host
    assert {host.member.seq: (host.own, host.version) for host in done.values()} == {
        1: (OwnStatus(CLUSTER_ID, member_id(1), "3.5.16"), "3.5.16"),
        2: (OwnStatus(CLUSTER_ID, member_id(2), "3.5.30"), "3.5.30"),  # the version the running binary reports
        3: (OwnStatus(CLUSTER_ID, member_id(3), "3.5.16"), "3.5.16"),
    }


def test_a_binary_replaced_since_its_etcd_started_keeps_the_version_of_the_file(tmp_path):
    inv = inventory(tmp_path)
    hosts = inv.hosts({1: unasked(inv, 1, runs_binary=False, version="3.5.31")})
    done = with_own(hosts, view(1, 2, 3), lambda member: None)
    assert (done[inv.name(1)].own.version, done[inv.name(1)].version) == ("3.5.16", "3.5.31")


@pytest.mark.parametrize(
    "live, again",
    [
        (None, {1, 2, 3}),  # no view: the first member did not answer
        (view(1, 2, 3, down=[2]), {2}),  # its member did not answer the view's status
        (view(1, 3), {2}),  # not a member of the view
        (with_status(view(1, 2, 3), client_url(3), member_id=member_id(7)), {3}),  # another etcd answers at its URL
        (with_status(view(1, 2, 3), client_url(3), version=None), {3}),  # no version reported
    ],
    ids=["no view", "its member does not answer", "not a member", "another etcd at its URL", "no version"],
)
def test_a_host_the_view_cannot_speak_for_is_read_again_asking_its_etcd(tmp_path, live, again):
    inv = inventory(tmp_path)
    hosts = inv.hosts({seq: unasked(inv, seq) for seq in (1, 2, 3)})
    read_again: list[int] = []

    def read(member):
        read_again.append(member.seq)
        return replace(hosts[member.host_name], state=inv.ours(member.seq))  # its etcd asked

    done = with_own(hosts, live, read)
    assert sorted(read_again) == sorted(again)
    assert all(host.own is not None and host.own.member_id == member_id(host.member.seq) for host in done.values())


def test_hosts_whose_etcd_does_not_run_or_was_asked_already_are_left_as_read(tmp_path):
    inv = inventory(tmp_path)
    stopped = replace(inv.ours(1, running=False), own=None)
    asked = inv.ours(2)
    hosts = inv.hosts({1: stopped, 2: asked, 3: None})
    done = with_own(hosts, None, lambda member: (_ for _ in ()).throw(AssertionError(f"{member.name} read again")))
    assert done == hosts
