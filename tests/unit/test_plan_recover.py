"""recover's decisions: every refusal, before any change, and which member survives."""

import pytest
from pyinfra.api.exceptions import DeployError

from etcdkit.plans.recover import RecoverFacts, decide
from tests.unit.plans_data import UNREACHABLE, address, foreign_data, foreign_etcd, inventory, member_id


def quorumless(inv, seq: int) -> dict:
    """A running member without quorum: its etcd logs no one in, so EtcdHost's `self` is empty."""
    return {**inv.ours(seq), "self": None}


def answer(seq: int, applied: int, leader: int = 0) -> dict:
    """What EtcdLocalStatus reads from member seq's own metrics (leader: 1 when it has one)."""
    return {"member_id": member_id(seq), "leader": 1 if leader else 0, "applied_index": applied, "raft_index": applied}


def facts(inv, states: dict, answers: dict, in_run=None, **changes) -> RecoverFacts:
    """states: seq -> EtcdHost fact; answers: seq -> EtcdLocalStatus."""
    hosts = inv.hosts(states, in_run=in_run, **changes)
    return RecoverFacts(inv.spec, hosts, {inv.name(seq): status for seq, status in answers.items()})


def one_survivor(inv, **changes) -> RecoverFacts:
    """etcd-1 runs without quorum; the hosts of etcd-2 and etcd-3 are up, their etcd stopped."""
    states = {1: quorumless(inv, 1), 2: inv.ours(2, running=False), 3: inv.ours(3, running=False)}
    return facts(inv, states, {1: answer(1, 240)}, **changes)


def refusal(plan_facts) -> str:
    with pytest.raises(DeployError) as refused:
        decide(plan_facts)
    return str(refused.value)


def test_a_cluster_with_a_leader_is_sent_to_remove_and_join(tmp_path):
    inv = inventory(tmp_path)
    states = {1: inv.ours(1), 2: inv.ours(2), 3: inv.ours(3, running=False)}
    message = refusal(facts(inv, states, {1: answer(1, 240, leader=2), 2: answer(2, 240, leader=2)}))
    assert message.startswith("cannot recover `etcd`: it has a leader (etcd-1, etcd-2 report one), so it has quorum; nothing was changed")
    assert "bin/etcd-rm -i INVENTORY IP, then bin/etcd-add -i INVENTORY IP (not serving: 10.10.10.12)" in message


def test_without_a_running_survivor_it_is_refused(tmp_path):
    inv = inventory(tmp_path)
    states = {1: inv.ours(1, running=False), 2: UNREACHABLE, 3: inv.ours(3, running=False)}
    message = refusal(facts(inv, states, {}))
    assert "no member of `etcd` with data answers: recover needs a running survivor" in message
    assert message.startswith("cannot recover `etcd`; nothing was changed:")


def test_a_running_member_that_does_not_answer_is_no_survivor(tmp_path):
    inv = inventory(tmp_path)
    states = {1: quorumless(inv, 1), 2: UNREACHABLE, 3: UNREACHABLE}
    assert "no member of `etcd` with data answers" in refusal(facts(inv, states, {}))


@pytest.mark.parametrize("foreign", [foreign_etcd(), foreign_data()], ids=["foreign etcd", "foreign data"])
def test_a_host_holding_what_is_not_this_clusters_is_refused(tmp_path, foreign):
    inv = inventory(tmp_path)
    plan_facts = one_survivor(inv)
    plan_facts.hosts[inv.name(3)].state = foreign
    message = refusal(plan_facts)
    assert f"{address(3)}: " in message and "it is not this cluster's, so nothing there is stopped or deleted" in message


def test_a_stopped_member_of_another_bootstrap_is_refused(tmp_path):
    inv = inventory(tmp_path)
    plan_facts = one_survivor(inv)
    plan_facts.hosts[inv.name(2)].state = inv.ours(2, running=False, token="etcd-0ther")
    assert "its data was bootstrapped with initial-cluster-token 'etcd-0ther', not this cluster's 'etcd-ba4666ca'" in refusal(plan_facts)


def test_running_members_of_different_clusters_are_refused(tmp_path):
    inv = inventory(tmp_path)
    states = {1: quorumless(inv, 1), 2: quorumless(inv, 2), 3: UNREACHABLE}
    states[2]["conf"] = states[2]["conf"].replace("initial-cluster-token: etcd-ba4666ca", "initial-cluster-token: etcd-0ther")
    message = refusal(facts(inv, states, {1: answer(1, 240), 2: answer(2, 250)}))
    assert "the running members were bootstrapped as different clusters (etcd-1 'etcd-ba4666ca', etcd-2 'etcd-0ther')" in message


def test_a_data_dir_with_more_than_member_data_is_refused(tmp_path):
    inv = inventory(tmp_path)
    plan_facts = one_survivor(inv)
    plan_facts.hosts[inv.name(3)].state["data"] = ["member", "notes.txt"]
    assert "holds more than etcd's member/ (notes.txt)" in refusal(plan_facts)


def test_safeguard_and_limit_are_refused(tmp_path):
    inv = inventory(tmp_path)
    assert "etcd_safeguard is on (10.10.10.10, 10.10.10.11, 10.10.10.12)" in refusal(one_survivor(inv, etcd_safeguard=True))
    assert "the run leaves out 10.10.10.12: run it without --limit" in refusal(one_survivor(inv, in_run=[1, 2]))


def test_the_survivor_has_the_highest_applied_index(tmp_path):
    inv = inventory(tmp_path)
    states = {1: quorumless(inv, 1), 2: quorumless(inv, 2), 3: UNREACHABLE}
    plan = decide(facts(inv, states, {1: answer(1, 238), 2: answer(2, 240)}))
    assert plan.survivor.member.seq == 2
    assert plan.wipe == {address(1): "/data/etcd"}  # the unreachable host cannot be wiped
    assert plan.rejoin == [address(1), address(3)]
    assert plan.warnings[0] == (
        "recover `etcd` (no quorum; raft applied index: etcd-1 238, etcd-2 240, etcd-3 down): etcd-2 (10.10.10.11) becomes a "
        "one-member cluster of its data (force-new-cluster), writes it had not applied are lost; then etcd-1 are stopped and their "
        "member data deleted"
    )
    assert plan.warnings[1].startswith("10.10.10.12 cannot be reached over SSH: they must be gone for good")
    assert plan.next_step == (
        "recover: `etcd` runs on etcd-2 alone; add the other members back one at a time: "
        "bin/etcd-add -i INVENTORY 10.10.10.10 10.10.10.12 (INVENTORY: this run's; it reloads the clients after the last)"
    )


def test_a_tie_goes_to_the_lowest_etcd_seq(tmp_path):
    inv = inventory(tmp_path, seqs=(1, 2, 3, 4, 5))
    states = {1: UNREACHABLE, 2: UNREACHABLE, 3: quorumless(inv, 3), 4: quorumless(inv, 4), 5: UNREACHABLE}
    plan = decide(facts(inv, states, {3: answer(3, 240), 4: answer(4, 240)}))
    assert plan.survivor.member.seq == 3 and list(plan.wipe) == [address(4)]


def test_stopped_members_with_data_are_wiped_after_the_survivor_serves(tmp_path):
    plan = decide(one_survivor(inventory(tmp_path)))
    assert plan.survivor.member.seq == 1
    assert list(plan.wipe) == [address(2), address(3)]
    assert plan.warnings[1] == (
        "etcd-2, etcd-3 hold data but are stopped: if starting etcd there (systemctl start etcd) brings the quorum back, "
        "do that instead, and nothing is lost"
    )
