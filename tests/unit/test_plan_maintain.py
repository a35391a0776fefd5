"""maintain's decisions: every refusal (a member silent, no leader, a CORRUPT alarm), a NOSPACE
alarm allowed, and the order of the defragmentation (followers by etcd_seq, the leader last)."""

import pytest

from etcdkit.model.cluster import Alarm
from etcdkit.plans.maintain import MaintainFacts, decide
from tests.unit.plans_data import client_url, entry, inventory, member_id, refused, view, with_health

NOSPACE = (Alarm(member_id(1), "NOSPACE"),)


def facts(inv, live=None, alarms=(), in_run=None, **changes) -> MaintainFacts:
    live = view(1, 2, 3, leader=2) if live is None else live
    return MaintainFacts(inv.spec, inv.hosts(None, in_run, **changes), live, list(alarms) if alarms is not None else None)


def test_no_member_answers(tmp_path):
    with refused("maintain.down"):
        decide(MaintainFacts(inventory(tmp_path).spec, inventory(tmp_path).hosts(), None, None))


@pytest.mark.parametrize(
    "live, expected",
    [
        (view(1, 2, 3, down=[3]), "member etcd-3 a000000000000003 started voter https://10.10.10.12:2380 does not answer"),
        (view(1, 2, 3, leader=None), "the cluster has no leader"),
        (view(1, 2, entry(3, started=False)), "member (no name yet) a000000000000003 unstarted voter"),
    ],
    ids=["member-down", "no-leader", "unstarted-member"],
)
def test_refused_unless_every_member_answers_with_a_leader(tmp_path, live, expected):
    with refused("maintain.refused") as raised:
        decide(facts(inventory(tmp_path), live))
    assert f"\n  - the cluster does not answer as a whole: {expected}" in str(raised.value)


def test_a_corrupt_alarm_is_refused(tmp_path):
    with refused("maintain.refused", match="alarm CORRUPT is active: the members' data differ"):
        decide(facts(inventory(tmp_path), alarms=(Alarm(member_id(2), "CORRUPT"), *NOSPACE)))


def test_unreadable_alarms_are_refused(tmp_path):
    with refused("maintain.refused", match="the cluster's alarms cannot be read"):
        decide(facts(inventory(tmp_path), alarms=None))


def test_a_nospace_alarm_is_what_maintenance_is_for(tmp_path):
    live = view(1, 2, 3, leader=2)
    for seq in (1, 2, 3):
        live = with_health(live, client_url(seq), "Active Alarm(s): NOSPACE")  # endpoint health fails on every member
    plan = decide(facts(inventory(tmp_path), live, alarms=NOSPACE))
    assert "active alarms: NOSPACE" in plan.notes
    assert plan.parts == ["compact", "defrag", "disarm"] and plan.keep == 1000


def test_followers_first_by_etcd_seq_and_the_leader_last(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, view(1, 2, 3, leader=2)))
    assert plan.turns == [inv.name(1), inv.name(3), inv.name(2)]
    assert (plan.leader_host, plan.executor) == (inv.name(2), inv.name(1))
    assert plan.notes == [
        "etcd-1: database 20 kB, 16 kB in use",
        "etcd-2: database 20 kB, 16 kB in use",
        "etcd-3: database 20 kB, 16 kB in use",
        "defragmentation: the followers one at a time (etcd-1, etcd-3), then the leader, etcd-2, last",
    ]
    assert plan.warnings == []


def test_members_left_out_of_the_run_are_named_and_not_maintained(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, view(1, 2, 3, leader=1), in_run=[2, 3]))
    assert list(plan.members) == [inv.name(2), inv.name(3)]
    assert plan.leader_host is None and plan.executor == inv.name(2)
    assert [w.split(" a000")[0] for w in plan.warnings] == ["member etcd-1"]


def test_the_parts_and_the_history_kept_come_from_the_parameters(tmp_path):
    plan = decide(facts(inventory(tmp_path), etcd_maintain=["defrag"], etcd_compact_keep=50))
    assert (plan.parts, plan.keep) == (["defrag"], 50)
    assert decide(facts(inventory(tmp_path), etcd_maintain=["compact"])).notes[-1] == "etcd-3: database 20 kB, 16 kB in use"
