"""recover's decisions: every member accounted for, every refusal before any change, the survivor
chosen by the data on the disks, the joins decided by the join SOP at their turn, and the reload
planned on the cluster the run ends with."""

from dataclasses import replace

import pytest

from etcdkit.model import paths
from etcdkit.model.cluster import MemberMetrics
from etcdkit.model.data import DatabaseStatus
from etcdkit.model.host import EtcdHostState
from etcdkit.model.refusals import Refusal
from etcdkit.plans import join
from etcdkit.plans.memberfiles import ClusterSecrets
from etcdkit.plans.recover import CONTROL_NODE, RecoverFacts, ask, decide
from tests.unit.plans_data import (
    NO_MONITORS,
    UNREACHABLE,
    address,
    bare,
    client_url,
    control,
    foreign_data,
    foreign_etcd,
    inventory,
    member_id,
    view,
)

CLIENTS = ((), (), {}, NO_MONITORS)  # no admin, PostgreSQL or monitoring host in the run


def metrics(seq: int, revision: int, leader: bool = False, applied: int | None = None) -> MemberMetrics:
    """What EtcdMetrics reads from member seq's metrics."""
    applied = revision + 100 if applied is None else applied
    return MemberMetrics(member_id(seq), int(leader), applied_index=applied, raft_index=applied, revision=revision)


def database(revision: int) -> DatabaseStatus:
    """What EtcdDatabase reads from a copy of a member's database."""
    return DatabaseStatus(revision, keys=300, size=20480)


def running(inv, seq: int) -> EtcdHostState:
    """A running member without quorum: its etcd logs no one in, so EtcdHost's `own` is empty."""
    return replace(inv.ours(seq), own=None)


def stopped(inv, seq: int) -> EtcdHostState:
    return inv.ours(seq, running=False)


def facts(inv, states: dict, seen=None, databases=None, lost=(), in_run=None, control_state=None, **changes) -> RecoverFacts:
    """states: seq -> EtcdHost fact; seen: who (a seq, or CONTROL_NODE) -> seq -> metrics;
    databases: seq -> EtcdDatabase; lost: the seqs named lost."""
    hosts = inv.hosts(states, in_run=in_run, **changes)
    observed = {
        (inv.name(who) if isinstance(who, int) else who): {client_url(seq): m for seq, m in by.items()} for who, by in (seen or {}).items()
    }
    return RecoverFacts(
        inv.spec,
        hosts,
        frozenset(address(seq) for seq in lost),
        observed,
        {inv.name(seq): value for seq, value in (databases or {}).items()},
        control_state or control(),
        CLIENTS,
    )


def refusal(plan_facts, code: str | None = None) -> str:
    """The text of decide's refusal, whose codes include `code`."""
    with pytest.raises(Refusal) as refused:
        decide(plan_facts)
    message = str(refused.value)
    assert message.startswith("cannot recover `etcd`; nothing was changed:\n  - ") or "nothing was changed" in message
    assert code is None or code in refused.value.codes, refused.value.codes
    return message


def restarted_survivor(inv, **changes) -> RecoverFacts:
    """etcd-1 restarted without quorum (it never serves: read from its database), etcd-2 and
    etcd-3 lost their disks (bare hosts)."""
    states = {1: running(inv, 1), 2: bare(), 3: bare()}
    return facts(inv, states, databases={1: database(1200)}, **changes)


def stopped_newer(inv, **changes) -> RecoverFacts:
    """etcd-1 runs (restarted, not serving) with older data, etcd-2 was stopped later with newer
    data, etcd-3 is gone for good and named so."""
    states = {1: running(inv, 1), 2: stopped(inv, 2), 3: UNREACHABLE}
    return facts(inv, states, databases={1: database(1100), 2: database(1250)}, lost=[3], **changes)


# Every member accounted for


def test_a_member_that_cannot_be_reached_must_be_named_lost(tmp_path):
    inv = inventory(tmp_path)
    message = refusal(facts(inv, {1: running(inv, 1), 2: UNREACHABLE, 3: UNREACHABLE}, databases={1: database(10)}))
    assert (
        "10.10.10.11 cannot be reached over SSH, and recover must account for every member: bring it back, or, if it is "
        "gone for good, name it: --data etcd_recover_lost=10.10.10.11 (and leave it out: --exclude 10.10.10.11)"
    ) in message
    assert "10.10.10.12 cannot be reached" in message


def test_the_partitioned_minority_is_never_forced(tmp_path):
    """The control node reaches only etcd-1, cut from a healthy etcd-2 and etcd-3: refused, even
    though etcd-1 sees no leader; and if the operator names them lost, the control node still sees
    their leader on their client ports."""
    inv = inventory(tmp_path)
    states = {1: replace(inv.ours(1), own=None), 2: UNREACHABLE, 3: UNREACHABLE}
    seen = {1: {1: metrics(1, 900)}}
    assert "cannot be reached over SSH" in refusal(facts(inv, states, seen))
    seen[CONTROL_NODE] = {2: metrics(2, 950, leader=True), 3: metrics(3, 950, leader=True)}
    message = refusal(facts(inv, states, seen, lost=[2, 3]))
    assert (
        "10.10.10.11 is named lost (etcd_recover_lost), but its etcd answers at https://10.10.10.11:2379 (seen from the control node)"
        in message
    )
    assert (
        "the cluster has a leader: etcd-2 (10.10.10.11, seen by the control node); etcd-3 (10.10.10.12, seen by the control node) have one"
        in message
    )


def test_a_member_named_lost_that_answers_over_ssh_is_refused(tmp_path):
    inv = inventory(tmp_path)
    message = refusal(restarted_survivor(inv, lost=[2]), "recover.lost_answers")
    assert message.startswith(
        "cannot recover `etcd`; nothing was changed:\n  - 10.10.10.11 is named lost (etcd_recover_lost), but it answers over "
        "SSH: a member that is not gone for good is not given up; drop it from etcd_recover_lost (recover inspects it then)\n"
    )


def test_a_member_named_lost_whose_etcd_answers_a_member_is_refused(tmp_path):
    inv = inventory(tmp_path)
    plan_facts = stopped_newer(inv, seen={1: {3: metrics(3, 1300)}})
    assert (
        "10.10.10.12 is named lost (etcd_recover_lost), but its etcd answers at https://10.10.10.12:2379 (seen from 10.10.10.10)"
        in refusal(plan_facts)
    )


def test_a_run_that_leaves_out_a_member_not_named_lost_is_refused(tmp_path):
    inv = inventory(tmp_path)
    assert "the run leaves out 10.10.10.12: run it without --limit or --exclude" in refusal(restarted_survivor(inv, in_run=[1, 2]))
    assert decide(stopped_newer(inv, in_run=[1, 2])).survivor.member.seq == 2  # the lost one may be left out


# A leader anywhere


def test_a_member_with_a_leader_refuses_and_points_to_remove_and_join(tmp_path):
    inv = inventory(tmp_path)
    states = {1: inv.ours(1), 2: inv.ours(2), 3: stopped(inv, 3)}
    seen = {1: {1: metrics(1, 240, leader=True), 2: metrics(2, 240, leader=True)}, 2: {2: metrics(2, 240, leader=True)}}
    message = refusal(facts(inv, states, seen, databases={3: database(200)}), "recover.partition")
    assert (
        "the cluster has a leader: etcd-1 (10.10.10.10, seen by itself); etcd-2 (10.10.10.11, seen by itself, 10.10.10.10) have one, "
        "so it has quorum. recover is only for a cluster that lost its quorum for good"
    ) in message
    assert "bin/etcd-rm -i INVENTORY IP, then bin/etcd-add -i INVENTORY IP (not running, or not reached over SSH: 10.10.10.12)\n" in message


def test_a_member_that_sees_a_leader_among_its_peers_refuses(tmp_path):
    """etcd-1 is stopped and the control node cannot log in to etcd-2 and etcd-3, but etcd-1's host
    reaches their client ports: they have a leader."""
    inv = inventory(tmp_path)
    seen = {1: {2: metrics(2, 500, leader=True)}}
    message = refusal(facts(inv, {1: stopped(inv, 1), 2: UNREACHABLE, 3: UNREACHABLE}, seen, databases={1: database(400)}, lost=[3]))
    assert "the cluster has a leader: etcd-2 (10.10.10.11, seen by 10.10.10.10) has one, so it has quorum" in message


# What the hosts hold


@pytest.mark.parametrize("foreign", [foreign_etcd(), foreign_data()], ids=["foreign etcd", "foreign data"])
def test_a_host_holding_what_is_not_this_clusters_is_refused(tmp_path, foreign):
    inv = inventory(tmp_path)
    message = refusal(facts(inv, {1: running(inv, 1), 2: bare(), 3: foreign}, databases={1: database(10)}))
    assert f"{address(3)}: " in message and "it is not this cluster's, so nothing there is stopped or deleted" in message


def test_a_member_whose_data_cannot_be_read_is_refused(tmp_path):
    inv = inventory(tmp_path)
    unreadable = DatabaseStatus(error="no room in /data for a copy of its database (8 GB)")
    message = refusal(facts(inv, {1: running(inv, 1), 2: stopped(inv, 2), 3: bare()}, databases={1: database(10), 2: unreadable}))
    assert (
        "10.10.10.11: its data could not be read (no room in /data for a copy of its database (8 GB)): recover cannot tell "
        "whether it holds the newest data"
    ) in message


def test_members_of_different_bootstraps_are_refused(tmp_path):
    inv = inventory(tmp_path)
    states = {1: running(inv, 1), 2: stopped(inv, 2), 3: bare()}
    states[2] = replace(states[2], conf=states[2].conf.replace("initial-cluster-token: etcd-ba4666ca", "initial-cluster-token: etcd-0ther"))
    message = refusal(facts(inv, states, databases={1: database(10), 2: database(12)}))
    assert "the members with data were bootstrapped as different clusters (etcd-1 'etcd-ba4666ca', etcd-2 'etcd-0ther')" in message


def test_a_data_dir_with_more_than_member_data_is_refused(tmp_path):
    inv = inventory(tmp_path)
    plan_facts = stopped_newer(inv)
    plan_facts.hosts[inv.name(1)] = plan_facts.hosts[inv.name(1)].with_state(data=("member", "notes.txt"))
    assert "10.10.10.10: the data dir /data/etcd holds more than etcd's member/ (notes.txt)" in refusal(plan_facts)


def test_without_any_data_there_is_nothing_to_recover_from(tmp_path):
    inv = inventory(tmp_path)
    message = refusal(facts(inv, {1: bare(), 2: bare(), 3: UNREACHABLE}, lost=[3]), "recover.no_data")
    assert "no member of `etcd` holds data recover can start from: restore a snapshot instead (bin/etcd-restore)" in message


def test_safeguard_is_refused(tmp_path):
    inv = inventory(tmp_path)
    assert "etcd_safeguard is on (10.10.10.10, 10.10.10.11, 10.10.10.12)" in refusal(restarted_survivor(inv, etcd_safeguard=True))


def test_a_control_node_with_another_ca_is_refused(tmp_path):
    inv = inventory(tmp_path)
    other = "-----BEGIN CERTIFICATE-----\nanother CA\n-----END CERTIFICATE-----\n"
    with pytest.raises(Refusal, match="the control node's CA is not the one 10.10.10.10 hold"):
        decide(restarted_survivor(inv, control_state=control(ca_pem=other)))


# The survivor


def test_the_stopped_member_with_the_newest_data_survives_and_keeps_it(tmp_path):
    plan = decide(stopped_newer(inventory(tmp_path)))
    assert plan.survivor.member.seq == 2
    assert plan.wipe == {address(1): "/data/etcd"}  # older: deleted once etcd-2 serves
    assert plan.joiners == [address(1)]  # etcd-3 is lost
    assert plan.warnings[0] == (
        "recover `etcd`: no member has a leader, and every member is accounted for:\n"
        "  etcd-1 (10.10.10.10): running, not serving: revision 1100 (a copy of its database)\n"
        "  etcd-2 (10.10.10.11): stopped: revision 1250 (a copy of its database)  <- the newest data: the survivor\n"
        "  etcd-3 (10.10.10.12): named lost (etcd_recover_lost)"
    )
    assert plan.warnings[1] == (
        "etcd-2 (10.10.10.11) becomes a one-member cluster of its data (force-new-cluster, started from its stopped state); "
        "writes it had not applied are lost; then etcd-1 is stopped and its member data deleted (older than etcd-2's); "
        "then etcd-1 joins again one at a time (the join SOP: learners, each promoted before the next); "
        "then the members and their clients are reloaded"
    )
    assert plan.warnings[2].startswith(
        "etcd-2 holds data but is stopped: with it started (systemctl start etcd), 2 of 3 members would run, a quorum"
    )
    assert plan.warnings[3].startswith("etcd-3 is named lost: left out of the cluster. Keep etcd from starting there")
    assert plan.done.endswith(
        "etcd-3 (named lost) is not a member: once its host runs again, add it with bin/etcd-add -i INVENTORY 10.10.10.12"
    )


def test_a_serving_member_says_its_revision_in_its_metrics(tmp_path):
    inv = inventory(tmp_path)
    states = {1: running(inv, 1), 2: stopped(inv, 2), 3: UNREACHABLE}
    plan = decide(facts(inv, states, {1: {1: metrics(1, 1300, applied=2410)}}, databases={2: database(1250)}, lost=[3]))
    assert plan.survivor.member.seq == 1 and plan.wipe == {address(2): "/data/etcd"}
    assert (
        "  etcd-1 (10.10.10.10): serving, without a leader: applied index 2410, revision 1300 (its metrics)  <- the newest"
        in plan.warnings[0]
    )


def test_the_restarted_member_is_found_from_its_disk(tmp_path):
    plan = decide(restarted_survivor(inventory(tmp_path)))
    assert plan.survivor.member.seq == 1
    assert plan.wipe == {}  # the others have no data left
    assert plan.joiners == [address(2), address(3)]
    assert "etcd-2 (10.10.10.11): no data" in plan.warnings[0]
    assert plan.done == "recover: `etcd` runs on etcd-1, etcd-2, etcd-3, every one a started voter, its clients reloaded"


def test_equal_revisions_hold_the_same_keys_and_the_lowest_etcd_seq_survives(tmp_path):
    inv = inventory(tmp_path, seqs=(1, 2, 3, 4, 5))
    states = {1: UNREACHABLE, 2: UNREACHABLE, 3: running(inv, 3), 4: stopped(inv, 4), 5: UNREACHABLE}
    plan = decide(facts(inv, states, databases={3: database(240), 4: database(240)}, lost=[1, 2, 5]))
    assert plan.survivor.member.seq == 3 and list(plan.wipe) == [address(4)]


# The joins and the reload of the same run


def test_each_join_is_the_join_sops_decision_at_its_turn(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(restarted_survivor(inv))
    rejoin = plan.rejoin
    first = join.decide(rejoin.facts(inv.name(3), bare(), view(1, leader=1), set()))
    assert first.joiner.member.seq == 3 and first.learner and not first.wipe
    assert first.endpoints == client_url(1)
    conf = first.joiner.files[paths.CONF]
    assert "initial-cluster: etcd-1=https://10.10.10.10:2380,etcd-3=https://10.10.10.12:2380\n" in conf
    assert "initial-cluster-state: existing" in conf and "initial-cluster-token: etcd-ba4666ca" in conf
    second = join.decide(rejoin.facts(inv.name(2), bare(), view(1, 3, leader=1), {inv.name(3)}))
    assert second.joiner.member.seq == 2 and second.endpoints == f"{client_url(1)},{client_url(3)}"
    assert (
        "initial-cluster: etcd-1=https://10.10.10.10:2380,etcd-2=https://10.10.10.11:2380,etcd-3=https://10.10.10.12:2380\n"
        in (second.joiner.files[paths.CONF])
    )


def test_the_reload_is_planned_on_the_cluster_the_run_ends_with(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(stopped_newer(inv))
    reload_plan = plan.reload
    assert sorted(reload_plan.members) == [address(1), address(2)]  # the lost etcd-3 is not reloaded
    assert all(member.restart_reason is None for member in reload_plan.members.values())
    env = reload_plan.members[address(1)].files[paths.ENV]
    assert "https://10.10.10.10:2379,https://10.10.10.11:2379" in env and "10.10.10.12" not in env
    conf = reload_plan.members[address(2)].files[paths.CONF]
    assert "initial-cluster: etcd-1=https://10.10.10.10:2380,etcd-2=https://10.10.10.11:2380\n" in conf
    assert plan.control is reload_plan.control and reload_plan.control_host == address(1)


def test_the_control_node_asks_nothing_without_its_admin_certificate(tmp_path):
    secrets = ClusterSecrets.of(inventory(tmp_path).settings, "etcd")
    assert ask("https://10.10.10.11:2379", secrets) is None
