"""join's decisions: the joiner, learner or voter, wipe, resume, the version it gets, and every
refusal, from plain facts.

The inventory holds members 1-3 of a running cluster and the new host 4 (10.10.10.13).
"""

from dataclasses import replace

import pytest

from etcdkit.model import paths
from etcdkit.plans.join import JoinFacts, decide
from tests.unit.plans_data import (
    CA_PEM,
    TOKEN,
    UNREACHABLE,
    assert_control_node_untouched,
    bare,
    client_url,
    control,
    entry,
    foreign_data,
    foreign_etcd,
    inventory,
    refused,
    squatter,
    view,
    with_status,
)

MEMBERS = view(1, 2, 3)


def facts(inv, states=None, live=MEMBERS, in_run=None, ca_pem=CA_PEM, root=None, configured=False) -> JoinFacts:
    return JoinFacts(inv.spec, inv.hosts({4: bare()} | (states or {}), in_run=in_run), live, control(ca_pem, root, configured))


def four(tmp_path, **settings):
    return inventory(tmp_path, seqs=(1, 2, 3, 4), **settings)


def test_no_member_answers(tmp_path):
    with refused("join.down") as raised:
        decide(facts(four(tmp_path), live=None))
    assert raised.value.fix == "Start its members (systemctl start etcd) or create it first"


@pytest.mark.parametrize("in_run", [{2}, {1, 2, 3}])
def test_hosts_that_are_started_members_have_nothing_to_join(tmp_path, in_run):
    plan = decide(facts(four(tmp_path), in_run=in_run))
    assert plan.joiner is None
    assert plan.notes == ["every host of this run is a started member of `etcd`: nothing to join"]


def test_two_new_hosts_in_one_run_are_refused(tmp_path):
    inv = inventory(tmp_path, seqs=(1, 2, 3, 4, 5))
    with refused("join.several") as raised:
        decide(facts(inv, {5: bare()}))
    assert "(10.10.10.13 10.10.10.14)" in raised.value.found and "bin/etcd-add 10.10.10.13 10.10.10.14" in raised.value.fix


@pytest.mark.parametrize("in_run", [{4}, None])  # --limit 10.10.10.13, or the whole inventory
def test_a_new_host_joins_as_a_learner_with_the_live_member_list(tmp_path, in_run):
    inv = four(tmp_path)
    plan = decide(facts(inv, in_run=in_run))
    assert plan.joiner.member.seq == 4
    assert (plan.entry, plan.learner, plan.wipe) == (None, True, False)
    assert plan.endpoints == ",".join(client_url(seq) for seq in (1, 2, 3))
    conf = plan.joiner.files[paths.CONF]
    assert "initial-cluster-state: existing\n" in conf and f"initial-cluster-token: {TOKEN}\n" in conf
    assert (
        "initial-cluster: etcd-1=https://10.10.10.10:2380,etcd-2=https://10.10.10.11:2380,etcd-3=https://10.10.10.12:2380,"
        "etcd-4=https://10.10.10.13:2380\n" in conf
    )
    assert [c.name for c in plan.control.certificates] == ["etcd-4", "admin"]
    assert (plan.version, plan.replace) == ("3.5.16", True)
    assert plan.warnings == [] and plan.notes == ["etcd-4 gets etcd 3.5.16: the version the cluster's members run (3.5.16)"]
    assert_control_node_untouched(inv)


def test_a_voting_member_joins_a_cluster_that_keeps_quorum(tmp_path):
    plan = decide(facts(four(tmp_path, etcd_learner=False)))
    assert (plan.joiner.member.seq, plan.learner, plan.warnings) == (4, False, [])


def test_a_voting_member_on_a_1_member_cluster_is_warned_about(tmp_path):
    inv = inventory(tmp_path, seqs=(1, 2), etcd_learner=False)
    plan = decide(JoinFacts(inv.spec, inv.hosts({2: bare()}), view(1), control()))
    assert plan.learner is False
    assert plan.warnings == [
        "etcd_learner=false on a 1-member cluster: it has no write quorum from the member add "
        "until the new member is up; a learner (the default) avoids that"
    ]


@pytest.mark.parametrize("learner", [True, False])
def test_an_unhealthy_cluster_is_refused_and_a_voter_that_breaks_quorum_too(tmp_path, learner):
    inv = four(tmp_path, etcd_learner=learner)
    with refused("join.refused", "cluster.unhealthy") as raised:
        decide(facts(inv, {3: inv.ours(3, running=False)}, live=view(1, 2, 3, down={3})))
    message = str(raised.value)
    assert message.startswith("cannot join 10.10.10.13 to `etcd`; nothing was changed:\n")
    assert "  - the cluster is not healthy: member etcd-3 (https://10.10.10.12:2379) is not healthy: context deadline" in message
    quorum = "after the change 2 of 4 voting members would be healthy, fewer than the quorum of 3: bring the failed members back"
    assert (quorum in message) is not learner


def test_a_cluster_without_a_leader_is_refused(tmp_path):
    with refused("join.refused", "cluster.unhealthy", match="  - the cluster is not healthy: the cluster has no leader"):
        decide(facts(four(tmp_path), live=view(1, 2, 3, leader=None)))


def test_a_voter_on_a_1_member_cluster_that_is_down_is_refused_for_quorum(tmp_path):
    inv = inventory(tmp_path, seqs=(1, 2), etcd_learner=False)
    with refused(
        "join.refused",
        "cluster.quorum",
        "cluster.unhealthy",
        "join.version",
        match="after the change 0 of 2 voting members would be healthy, fewer than the quorum of 2",
    ):
        decide(JoinFacts(inv.spec, inv.hosts({2: bare()}), view(1, down={1}, leader=None), CA_PEM))


@pytest.mark.parametrize(
    "pending, described",
    [
        (entry(5, learner=True), "etcd-5 a000000000000005 started learner https://10.10.10.14:2380"),
        (entry(5, started=False), r"\(no name yet\) a000000000000005 unstarted voter https://10.10.10.14:2380"),
    ],
)
def test_a_pending_member_of_another_host_is_refused(tmp_path, pending, described):
    with refused(
        "join.refused",
        "cluster.pending",
        match=(
            f"  - member {described} is pending \\(an unfinished join\\): finish it with the join SOP for its host, "
            r"or remove it with the remove SOP \(bin/etcd-rm 10\.10\.10\.14\)"
        ),
    ):
        decide(facts(four(tmp_path), live=view(1, 2, 3, pending)))


def test_an_unstarted_entry_of_the_host_is_resumed_and_its_partial_data_wiped(tmp_path):
    inv = four(tmp_path, etcd_learner=False)
    pending = entry(4, started=False, learner=True)
    plan = decide(facts(inv, {4: inv.ours(4, running=False, initial_state="existing")}, live=view(1, 2, 3, pending)))
    assert plan.entry.hex_id == "a000000000000004" and not plan.entry.started
    assert (plan.learner, plan.wipe) == (True, True)  # the entry says learner, whatever etcd_learner says
    assert plan.endpoints == ",".join(client_url(seq) for seq in (1, 2, 3))


def test_an_unstarted_voter_entry_is_resumed_as_a_voter_without_the_quorum_check(tmp_path):
    plan = decide(facts(four(tmp_path), live=view(1, 2, 3, entry(4, started=False))))
    assert (plan.entry.is_learner, plan.learner, plan.wipe, plan.warnings) == (False, False, False, [])


def test_a_started_learner_of_the_host_is_resumed_with_its_data(tmp_path):
    inv = four(tmp_path, etcd_learner=False)
    plan = decide(facts(inv, {4: inv.ours(4, initial_state="existing")}, live=view(1, 2, 3, entry(4, learner=True))))
    assert plan.entry.started and plan.entry.is_learner
    assert (plan.learner, plan.wipe, plan.replace) == (True, False, False)  # its etcd runs: it is not replaced
    assert client_url(4) not in plan.endpoints.split(",")
    assert plan.endpoints == ",".join(client_url(seq) for seq in (1, 2, 3))


@pytest.mark.parametrize("state", [foreign_etcd(), foreign_data(), squatter()], ids=["a running etcd", "data", "a listener"])
def test_anything_foreign_on_the_host_is_refused_and_kept(tmp_path, state):
    with refused(
        "join.refused",
        "join.foreign",
        match=r"  - 10\.10\.10\.13 holds an etcd or data that is not this cluster's \(.*\): nothing there is stopped or deleted",
    ):
        decide(facts(four(tmp_path), {4: state}))


def test_a_member_of_another_cluster_with_the_same_name_is_refused(tmp_path):
    inv = four(tmp_path)
    other = inv.ours(4, cluster_id=0x1234)  # same member name and data dir, serving a cluster of its own
    with refused(
        "join.refused", "join.foreign", match=r"10\.10\.10\.13 is not a member of `etcd`: its etcd serves another cluster \(cluster ID 1234"
    ):
        decide(facts(inv, {4: other}))


def test_a_stopped_member_of_another_bootstrap_is_refused(tmp_path):
    inv = four(tmp_path)
    other = inv.ours(4, running=False, token="etcd-0ther000")
    with refused("join.refused", "join.foreign", match=r"bootstrapped with initial-cluster-token 'etcd-0ther000', not this cluster's"):
        decide(facts(inv, {4: other}))


def test_stale_data_with_other_files_is_refused(tmp_path):
    inv = four(tmp_path)
    crowded = replace(inv.ours(4, running=False), data=("member", "notes.txt"))
    with refused("join.refused", "join.foreign", match=r"holds more than etcd's member/ \(notes\.txt\)"):
        decide(facts(inv, {4: crowded}))


@pytest.mark.parametrize("kind", ["a removed member's data", "a removed member still running"])
def test_stale_data_of_the_host_is_wiped(tmp_path, kind):
    inv = four(tmp_path)
    state = {
        "a removed member's data": inv.ours(4, running=False),
        "a removed member still running": inv.ours(4),
    }[kind]
    plan = decide(facts(inv, {4: state}))
    assert (plan.joiner.member.seq, plan.entry, plan.wipe) == (4, None, True)


def test_running_members_without_the_ca_on_the_control_node_are_refused(tmp_path):
    inv = four(tmp_path)
    with refused("control.no_ca", match=r"runs on 10\.10\.10\.10, 10\.10\.10\.11, 10\.10\.10\.12, but the control node has no CA"):
        decide(facts(inv, ca_pem=None))
    assert_control_node_untouched(inv)


def test_an_unreachable_new_host_is_refused(tmp_path):
    with refused("join.unreachable", match=r"10\.10\.10\.13 cannot be reached"):
        decide(facts(four(tmp_path), {4: UNREACHABLE}))


def running(*versions: str):
    """The live cluster of members 1.. running these server versions."""
    live = view(*range(1, len(versions) + 1))
    for seq, version in enumerate(versions, 1):
        live = with_status(live, client_url(seq), version=version)
    return live


def test_a_new_member_gets_the_version_the_upgraded_cluster_runs_not_the_distributions(tmp_path):
    plan = decide(facts(four(tmp_path), live=running("3.5.30", "3.5.30", "3.5.30")))
    assert plan.version == "3.5.30"
    assert plan.notes == ["etcd-4 gets etcd 3.5.30: the version the cluster's members run (3.5.30)"]


def test_an_etcd_of_another_version_left_on_the_new_host_is_replaced(tmp_path):
    plan = decide(facts(four(tmp_path), {4: bare(version="3.5.16")}, live=running("3.5.30", "3.5.30", "3.5.30")))
    assert (plan.version, plan.replace) == ("3.5.30", True)
    assert plan.notes[1] == "10.10.10.13 has etcd 3.5.16 installed, not a member's: the join replaces it with 3.5.30"


def test_etcd_version_of_the_clusters_minor_version_is_the_new_members(tmp_path):
    plan = decide(facts(four(tmp_path, etcd_version="3.5.31"), live=running("3.5.30", "3.5.30", "3.5.30")))
    assert plan.version == "3.5.31"
    assert plan.notes[0] == "etcd-4 gets etcd 3.5.31: etcd_version names it (the cluster runs 3.5.30, the same minor version)"


def test_etcd_version_of_another_minor_version_is_refused(tmp_path):
    inv = four(tmp_path, etcd_version="3.6.11")
    with refused(
        "join.refused", "join.version", match=r"etcd_version 3.6.11 is etcd 3.6, but the cluster runs 3.5: a new member joins on a minor"
    ):
        decide(facts(inv, live=running("3.5.30", "3.5.30", "3.5.30")))


def test_a_tarball_names_the_release_and_must_be_etcd_versions(tmp_path):
    tarball = str(tmp_path / "etcd-v3.5.30-linux-amd64.tar.gz")
    plan = decide(facts(four(tmp_path, etcd_tarball=tarball), live=running("3.5.30", "3.5.30", "3.5.30")))
    assert plan.version == "3.5.30"
    with refused("join.refused", "join.version", match=f"etcd_tarball {tarball} is not the release of etcd_version 3.5.31"):
        decide(facts(four(tmp_path, etcd_tarball=tarball, etcd_version="3.5.31"), live=running("3.5.30", "3.5.30", "3.5.30")))
