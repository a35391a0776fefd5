"""The upgrade SOP's wiring, in-process: the followers one at a time, then the leader, whoever leads."""

import pytest

from tests.unit import plans_data
from tests.unit.sop_run import SopRun, created, member_machine, pki, with_view
from tests.unit.test_sop_create import ADDRESSES

FOLLOWERS = "etcd upgrade | Upgrade etcd to 3.5.30: the followers, one at a time [serial]"
LEADER = "etcd upgrade | Upgrade etcd to 3.5.30: the leader, last"


@pytest.mark.parametrize("leader", [1, 2, 3])
def test_the_followers_are_upgraded_one_at_a_time_before_the_leader_whoever_leads(tmp_path, leader):
    created(tmp_path)
    inv = plans_data.inventory(tmp_path)
    live = plans_data.view(1, 2, 3, leader=leader)
    machines = with_view({address: member_machine(inv, seq) for seq, address in enumerate(ADDRESSES, 1)}, live)
    run = SopRun("upgrade", machines, group_data=pki(tmp_path), data={"etcd_version": "3.5.30"}).prepare()
    assert run.error is None, run.error
    assert [name for name in run.order() if name.startswith("etcd upgrade")] == [FOLLOWERS, LEADER]
    for seq, address in enumerate(ADDRESSES, 1):
        assert [name for name in run.names(address) if name.startswith("etcd upgrade")] == [LEADER if seq == leader else FOLLOWERS]


def test_a_cluster_at_the_version_already_changes_nothing(tmp_path):
    created(tmp_path)
    inv = plans_data.inventory(tmp_path)
    machines = with_view({address: member_machine(inv, seq) for seq, address in enumerate(ADDRESSES, 1)}, plans_data.view(1, 2, 3))
    run = SopRun("upgrade", machines, group_data=pki(tmp_path), data={"etcd_version": "3.5.16"}).prepare()
    assert run.error is None and all(run.names(address) == [] for address in ADDRESSES)
