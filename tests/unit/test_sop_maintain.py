"""The maintain SOP's wiring, in-process: compaction once, the followers defragmented one at a time
before the leader, the alarm disarmed last and not after a failed defragmentation."""

import pytest
from etcdkit.facts.etcd import EtcdAlarms, EtcdCompacted, EtcdMembership

from etcdkit.model.cluster import Alarm
from tests.unit import plans_data
from tests.unit.sop_run import SopRun, created, member_machine, pki, with_view
from tests.unit.test_sop_create import ADDRESSES

NOSPACE = (Alarm(plans_data.member_id(1), "NOSPACE"),)


def maintain(tmp_path, leader: int = 2, answers: dict | None = None) -> SopRun:
    created(tmp_path)
    inv = plans_data.inventory(tmp_path)
    fragmented = plans_data.view(1, 2, 3, leader=leader, db_size=8 << 20, revision=5000)  # 8 MiB, 16 KiB in use
    machines = with_view({address: member_machine(inv, seq) for seq, address in enumerate(ADDRESSES, 1)}, fragmented)
    for machine in machines.values():
        machine.facts[EtcdMembership] = fragmented
        machine.facts[EtcdAlarms] = lambda run: () if run.ran("alarm disarm") else NOSPACE
        machine.facts[EtcdCompacted] = False
    run = SopRun("maintain", machines, group_data=pki(tmp_path), answers=answers).prepare()
    assert run.error is None, run.error
    return run


COMPACT = "etcd maintenance | Compact the history, keeping 1000 revisions"
FOLLOWERS = "etcd maintenance | Defragment the followers, one at a time [serial]"
LEADER = "etcd maintenance | Defragment the leader, last"
DISARM = "etcd maintenance | Disarm the NOSPACE alarm [if]"


@pytest.mark.parametrize("leader", [1, 2, 3])
def test_the_followers_are_defragmented_one_at_a_time_before_the_leader_whoever_leads(tmp_path, leader):
    run = maintain(tmp_path, leader=leader)
    assert run.order() == [COMPACT, FOLLOWERS, LEADER, DISARM]
    for seq, address in enumerate(ADDRESSES, 1):
        assert run.names(address) == [COMPACT, LEADER if seq == leader else FOLLOWERS] + ([DISARM] if seq == 1 else [])


def test_the_history_is_compacted_through_the_first_member_only(tmp_path):
    run = maintain(tmp_path, leader=2).execute()
    assert [any("compact " in command for command in run.commands(a)) for a in ADDRESSES] == [True, False, False]


def test_the_run_defragments_every_member_and_disarms(tmp_path):
    run = maintain(tmp_path).execute()
    assert run.failed() == set()
    assert all(any(command.endswith(" defrag") for command in run.commands(a)) for a in ADDRESSES)
    assert run.ran("alarm disarm")


def test_a_failed_defragmentation_stops_the_others_and_the_disarm(tmp_path):
    run = maintain(tmp_path, answers={" defrag": {"success": False, "stderr": "context deadline exceeded"}}).execute()
    defragmented = [a for a in ADDRESSES if any(command.endswith(" defrag") for command in run.commands(a))]
    assert len(defragmented) == 1 and defragmented[0] != ADDRESSES[1]  # a follower's turn failed: no other member took one
    assert run.failed() == set(ADDRESSES)  # the others' turns refused, naming the failed one
    assert not run.ran("alarm disarm")
