"""upgrade's decisions: every refusal (unhealthy, no leader, learner pending, downgrade, minor
skip, no etcd_version), the order (followers by etcd_seq, the leader last), and a converged
cluster that takes no turn."""

import pytest
from pyinfra.api.exceptions import DeployError

from etcdkit.plans.upgrade import UpgradeFacts, decide
from tests.unit.plans_data import client_url, entry, inventory, view


def live(*versions: str, leader: int = 2, **kwargs):
    """Members 1.. running these server versions."""
    members = kwargs.pop("members", range(1, len(versions) + 1))
    cluster = view(*members, leader=leader, **kwargs)
    for seq, version in enumerate(versions, 1):
        if client_url(seq) in cluster.status:
            cluster.status[client_url(seq)]["version"] = version
    return cluster


def facts(inv, cluster, in_run=None, **changes) -> UpgradeFacts:
    return UpgradeFacts(inv.spec, inv.hosts(None, in_run, **{"etcd_version": "3.5.16", **changes}), cluster)


def refused(tmp_path, cluster, **changes) -> str:
    with pytest.raises(DeployError) as error:
        decide(facts(inventory(tmp_path), cluster, **changes))
    return str(error.value)


def test_no_member_answers(tmp_path):
    assert refused(tmp_path, None).startswith("cannot upgrade: no member of cluster `etcd` answers")


def test_etcd_version_is_required(tmp_path):
    assert "set the version to run, etcd_version" in refused(tmp_path, live("3.5.15", "3.5.15", "3.5.15"), etcd_version=None)


@pytest.mark.parametrize(
    "cluster, expected",
    [
        (live("3.5.15", "3.5.15", "3.5.15", down=[3]), "the cluster is not healthy: member etcd-3 .* is not healthy"),
        (live("3.5.15", "3.5.15", "3.5.15", leader=None), "the cluster is not healthy: the cluster has no leader"),
    ],
    ids=["unhealthy", "no-leader"],
)
def test_refused_unless_healthy_with_a_leader(tmp_path, cluster, expected):
    with pytest.raises(DeployError, match=f"cannot upgrade, nothing was changed:\n  - {expected}"):
        decide(facts(inventory(tmp_path), cluster))


def test_a_pending_learner_is_refused(tmp_path):
    inv = inventory(tmp_path, seqs=(1, 2, 3, 4))
    cluster = live("3.5.15", "3.5.15", "3.5.15", "3.5.15", members=(1, 2, 3, entry(4, learner=True)))
    with pytest.raises(DeployError, match=r"member etcd-4 .* learner .* is pending \(an unfinished join\)"):
        decide(facts(inv, cluster))


def test_a_downgrade_is_refused(tmp_path):
    assert "etcd_version 3.5.16 is older than the etcd that runs (3.5.17): etcdkit does not downgrade" in refused(
        tmp_path, live("3.5.16", "3.5.17", "3.5.16")
    )


def test_a_minor_skip_is_refused(tmp_path):
    message = refused(tmp_path, live("3.4.23", "3.4.23", "3.4.23"), etcd_version="3.6.4")
    assert "etcd_version 3.6.4 skips a minor version: the cluster runs 3.4" in message
    assert "Upgrade to the latest 3.5 release first" in message


def test_a_tarball_of_another_release_is_refused(tmp_path):
    tarball = tmp_path / "etcd-v3.5.15-linux-amd64.tar.gz"
    message = refused(tmp_path, live("3.5.15", "3.5.15", "3.5.15"), etcd_tarball=str(tarball), etcd_tarball_sha256="0" * 64)
    assert f"etcd_tarball {tarball} is not the release of etcd_version 3.5.16" in message


def test_followers_first_by_etcd_seq_and_the_leader_last(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, live("3.4.23", "3.4.23", "3.4.23", leader=1)))
    assert plan.turns == [inv.name(2), inv.name(3), inv.name(1)]
    assert plan.leader_host == inv.name(1)
    assert plan.notes[-1] == "upgrade: the followers one at a time (etcd-2, etcd-3), then the leader, etcd-1, last"
    assert plan.notes[0] == "etcd-2: etcd 3.4.23 -> 3.5.16"


def test_an_interrupted_upgrade_resumes_with_the_members_left(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, live("3.5.16", "3.4.23", "3.4.23", leader=2)))
    assert plan.turns == [inv.name(3), inv.name(2)] and plan.leader_host == inv.name(2)


def test_a_converged_cluster_takes_no_turn(tmp_path):
    plan = decide(facts(inventory(tmp_path), live("3.5.16", "3.5.16", "3.5.16")))
    assert (plan.members, plan.turns, plan.leader_host) == ({}, [], None)
    assert plan.notes == ["every member of the run runs etcd 3.5.16: nothing to upgrade"]


def test_members_left_out_of_the_run_are_named(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, live("3.5.15", "3.5.15", "3.5.15", leader=2), in_run=[1]))
    assert plan.turns == [inv.name(1)] and plan.leader_host is None
    assert [w.split(" a000")[0] for w in plan.warnings] == ["member etcd-2", "member etcd-3"]


def test_members_upgrade_the_way_they_were_installed(tmp_path):
    tarball = tmp_path / "etcd-v3.5.16-linux-amd64.tar.gz"
    message = refused(tmp_path, live("3.5.15", "3.5.15", "3.5.15"), etcd_tarball=str(tarball), etcd_tarball_sha256="0" * 64)
    assert "10.10.10.10 runs etcd from packages, not a tarball: upgrade it the way it was installed (unset etcd_tarball)" in message
