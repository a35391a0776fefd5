"""downgrade's decisions: refused below 3.6 with what to do instead, one minor version back to a
release above the floor, validate and enable first through one member, the order (followers by
etcd_seq, the leader last), an enabled downgrade resumed without enabling it again, and a run
that changes nothing once every member runs the target."""

import pytest

from etcdkit.model.refusals import Refusal
from etcdkit.plans.downgrade import DowngradeFacts, decide
from tests.unit.plans_data import client_url, entry, inventory, view, with_status


def live(*versions: str, leader: int = 2, enabled: str | None = None, **kwargs):
    """Members 1.. running these server versions; the 3.6+ ones report the downgrade enabled to `enabled`."""
    members = kwargs.pop("members", range(1, len(versions) + 1))
    cluster = view(*members, leader=leader, **kwargs)
    for seq, version in enumerate(versions, 1):
        if client_url(seq) in cluster.status:
            downgrade = f"{enabled}.0" if enabled and not version.startswith("3.5.") else None
            cluster = with_status(cluster, client_url(seq), version=version, downgrade=downgrade)
    return cluster


def facts(inv, cluster, in_run=None, **changes) -> DowngradeFacts:
    return DowngradeFacts(inv.spec, inv.hosts(None, in_run, **{"etcd_version": "3.5.32", **changes}), cluster)


def refusal(tmp_path, cluster, **changes) -> Refusal:
    with pytest.raises(Refusal) as error:
        decide(facts(inventory(tmp_path), cluster, **changes))
    return error.value


def refused(tmp_path, cluster, **changes) -> str:
    return str(refusal(tmp_path, cluster, **changes))


def test_no_member_answers(tmp_path):
    assert refused(tmp_path, None).startswith("cannot downgrade: no member of cluster `etcd` answers")


def test_etcd_version_is_required(tmp_path):
    assert "set the release to go back to, etcd_version" in refused(tmp_path, live("3.6.11", "3.6.11", "3.6.11"), etcd_version=None)


@pytest.mark.parametrize("running", [("3.5.16",) * 3, ("3.4.23",) * 3], ids=["3.5", "3.4"])
def test_refused_below_3_6_saying_why_and_what_instead(tmp_path, running):
    refused_by = refusal(tmp_path, live(*running), etcd_version="3.4.23" if running[0] == "3.5.16" else "3.4.20")
    message = str(refused_by)
    assert refused_by.code == "downgrade.rules" and f"\n  - the cluster runs etcd {running[0][:3]}" in message
    assert "etcd has no downgrade before 3.6" in message and "an older binary cannot start on the data of a newer minor version" in message
    assert "restore a snapshot taken before the upgrade" in message and "bin/etcd-restore FILE" in message


def test_refused_below_3_6_even_when_a_member_is_down(tmp_path):
    # the version rules come first: below 3.6 there is nothing to wait for
    message = refused(tmp_path, live("3.5.16", "3.5.16", "3.5.16", down=[3]), etcd_version="3.4.23")
    assert "etcd has no downgrade before 3.6" in message and "not healthy" not in message


@pytest.mark.parametrize(
    "cluster, expected",
    [
        (live("3.6.11", "3.6.11", "3.6.11", down=[3]), "member etcd-3 (https://10.10.10.12:2379) is not healthy"),
        (live("3.6.11", "3.6.11", "3.6.11", leader=None), "the cluster has no leader"),
    ],
    ids=["unhealthy", "no-leader"],
)
def test_refused_unless_healthy_with_a_leader(tmp_path, cluster, expected):
    refused_by = refusal(tmp_path, cluster)
    assert refused_by.codes == {"downgrade.refused", "cluster.unhealthy"} and expected in str(refused_by)


def test_a_pending_learner_is_refused(tmp_path):
    inv = inventory(tmp_path, seqs=(1, 2, 3, 4))
    cluster = live("3.6.11", "3.6.11", "3.6.11", "3.6.11", members=(1, 2, 3, entry(4, learner=True)))
    with pytest.raises(Refusal) as raised:
        decide(facts(inv, cluster))
    assert "cluster.pending" in raised.value.codes and "member etcd-4 a000000000000004" in str(raised.value)


@pytest.mark.parametrize(
    "running, version, expected",
    [
        (("3.7.1",) * 3, "3.5.32", "more than one minor version back from 3.7"),
        (("3.6.11",) * 3, "3.5.30", "etcd_version 3.5.30 is below 3.5.32"),
        (("3.6.11",) * 3, "3.6.12", "that is the upgrade SOP's"),
        (("3.5.32", "3.6.11", "3.6.11"), "3.5.32", "no downgrade is enabled"),
    ],
    ids=["two minor versions", "under the floor", "an upgrade", "an unfinished upgrade"],
)
def test_targets_off_etcds_downgrade_path_are_refused(tmp_path, running, version, expected):
    assert expected in refused(tmp_path, live(*running), etcd_version=version)


def test_a_tarball_of_another_release_is_refused(tmp_path):
    tarball = tmp_path / "etcd-v3.5.33-linux-amd64.tar.gz"
    message = refused(tmp_path, live("3.6.11", "3.6.11", "3.6.11"), etcd_tarball=str(tarball), etcd_tarball_sha256="0" * 64)
    assert f"etcd_tarball {tarball} is not the release of etcd_version 3.5.32" in message
    assert "runs etcd from packages, not a tarball" in message


def test_validate_and_enable_first_then_followers_by_etcd_seq_and_the_leader_last(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, live("3.6.11", "3.6.11", "3.6.11", leader=1)))
    assert (plan.version, plan.target, plan.enable, plan.executor) == ("3.5.32", "3.5", True, inv.name(1))
    assert plan.turns == [inv.name(2), inv.name(3), inv.name(1)] and plan.leader_host == inv.name(1)
    assert plan.notes[0] == "downgrade to 3.5: etcdctl downgrade validate 3.5, then enable 3.5, through etcd-1"
    assert plan.notes[1] == "etcd-2: etcd 3.6.11 -> 3.5.32"
    assert plan.notes[-1] == "downgrade: the followers one at a time (etcd-2, etcd-3), then the leader, etcd-1, last"


def test_3_7_goes_back_to_3_6(tmp_path):
    plan = decide(facts(inventory(tmp_path), live("3.7.1", "3.7.1", "3.7.1"), etcd_version="3.6.11"))
    assert (plan.target, plan.enable, len(plan.turns)) == ("3.6", True, 3)


def test_an_enabled_downgrade_is_resumed_without_enabling_it_again(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, live("3.5.32", "3.6.11", "3.6.11", enabled="3.5", leader=2)))
    assert (plan.enable, plan.executor) == (False, None)
    assert plan.turns == [inv.name(3), inv.name(2)]
    assert plan.notes[0] == "the downgrade to 3.5 is enabled already: the members left take their turn"


def test_a_downgrade_to_another_version_enabled_already_is_refused(tmp_path):
    message = refused(tmp_path, live("3.7.1", "3.7.1", "3.7.1", enabled="3.6"), etcd_version="3.5.32")
    assert "a downgrade of the cluster to 3.6 is enabled already" in message and "etcdctl downgrade cancel" in message


@pytest.mark.parametrize("enabled", [None, "3.6"], ids=["ended", "etcd ends it"])
def test_a_second_run_once_every_member_runs_the_target_changes_nothing(tmp_path, enabled):
    cluster = live("3.6.11", "3.6.11", "3.6.11", enabled=enabled)
    if enabled:  # every member runs 3.6.11, its status still says enabled: etcd's monitor ends it within seconds
        for url in list(cluster.status):
            cluster = with_status(cluster, url, downgrade="3.6.0")
    plan = decide(facts(inventory(tmp_path), cluster, etcd_version="3.6.11"))
    assert (plan.members, plan.turns, plan.leader_host, plan.enable) == ({}, [], None, False)
    assert plan.notes[0].startswith("every member of the run runs etcd 3.6.11: nothing to downgrade")
    assert ("etcd ends the downgrade to 3.6 by itself" in plan.notes[0]) is bool(enabled)


def test_members_left_out_of_the_run_are_named(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, live("3.6.11", "3.6.11", "3.6.11", leader=2), in_run=[1]))
    assert plan.turns == [inv.name(1)] and plan.leader_host is None and plan.executor == inv.name(1)
    assert [w.split(" a000")[0] for w in plan.warnings] == ["member etcd-2", "member etcd-3"]
