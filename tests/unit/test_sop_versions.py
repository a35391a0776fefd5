"""The wiring of the SOPs the version rules drive, run in-process on fake hosts: the downgrade enabled
through one member before any turn, the followers' turns one at a time and the leader's last, its
refusal below 3.6 and its converged second run; the join installing the version its cluster runs."""

import pytest

from tests.unit import plans_data
from tests.unit.sop_run import SopRun, bare_machine, member_machine, pki, with_view

ADDRESSES = [plans_data.address(seq) for seq in (1, 2, 3)]
ENABLE = "etcd downgrade | Validate and enable the cluster's downgrade to 3.5"
FOLLOWERS = "etcd downgrade | Downgrade etcd to 3.5.32: the followers, one at a time [serial]"
LEADER = "etcd downgrade | Downgrade etcd to 3.5.32: the leader, last"


def running(*versions: str, enabled: str | None = None):
    """The live cluster of members 1.. (etcd-2 leads) on these server versions; 3.6+ members report
    the downgrade enabled to `enabled`."""
    live = plans_data.view(*range(1, len(versions) + 1), leader=2)
    for seq, version in enumerate(versions, 1):
        downgrade = f"{enabled}.0" if enabled and not version.startswith(f"{enabled}.") else None
        live = plans_data.with_status(live, plans_data.client_url(seq), version=version, downgrade=downgrade)
    return live


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The control node's folders, with the PKI a create run made (the runs below only prepare: they write nothing there)."""
    path = tmp_path_factory.mktemp("control")
    SopRun("create", {address: bare_machine() for address in ADDRESSES}, group_data=pki(path)).prepare().execute()
    return path


@pytest.fixture
def members(folder):
    """The three members as create leaves them, answering with the live cluster given."""
    inv = plans_data.inventory(folder)
    return lambda live: with_view({address: member_machine(inv, seq) for seq, address in enumerate(ADDRESSES, 1)}, live)


def downgrade(folder, machines, version="3.5.32") -> SopRun:
    return SopRun("downgrade", machines, group_data=pki(folder), data={"etcd_version": version}).prepare()


def order(run: SopRun) -> list[str]:
    """The run's operations in the order pyinfra runs them (each once, whatever its hosts)."""
    return [" | ".join(sorted(run.state.op_meta[op_hash].names)) for op_hash in run.state.get_op_order()]


def test_the_downgrade_is_enabled_through_one_member_before_the_followers_turns_and_the_leaders(folder, members):
    run = downgrade(folder, members(running("3.6.11", "3.6.11", "3.6.11")))
    assert run.error is None
    # every member has the enabling operation (it enables through etcd-1 only), so that the leader's
    # turn is not its host's first operation, which pyinfra would run right after the enabling
    assert run.names(ADDRESSES[0]) == run.names(ADDRESSES[2]) == [ENABLE, FOLLOWERS]
    assert run.names(ADDRESSES[1]) == [ENABLE, LEADER]  # etcd-2 leads: its turn is last
    assert order(run) == [ENABLE, FOLLOWERS.split(" [")[0], LEADER]
    assert ENABLE in run.changes(ADDRESSES[0]) and ENABLE not in run.changes(ADDRESSES[1]) + run.changes(ADDRESSES[2])


def test_a_resumed_downgrade_is_not_enabled_again(folder, members):
    run = downgrade(folder, members(running("3.5.32", "3.6.11", "3.6.11", enabled="3.5")))
    assert (run.names(ADDRESSES[0]), run.names(ADDRESSES[1]), run.names(ADDRESSES[2])) == ([], [LEADER], [FOLLOWERS])


def test_the_downgrade_is_refused_below_3_6_and_nothing_runs(folder, members):
    run = downgrade(folder, members(running("3.5.16", "3.5.16", "3.5.16")), version="3.4.23")
    assert "etcd has no downgrade before 3.6" in str(run.error)
    assert all(run.names(address) == [] for address in ADDRESSES)


def test_a_second_downgrade_run_once_every_member_runs_the_target_has_no_operation(folder, members):
    run = downgrade(folder, members(running("3.5.32", "3.5.32", "3.5.32")))
    assert run.error is None and all(run.names(address) == [] for address in ADDRESSES)


def test_the_join_installs_the_version_its_cluster_runs(folder, members):
    machines = members(running("3.5.30", "3.5.30", "3.5.30"))
    new = plans_data.address(4)
    run = SopRun("join", {**machines, new: bare_machine()}, group_data=pki(folder), limit=[new]).prepare()
    assert run.error is None
    assert "etcd join | Install etcd 3.5.30" in run.names(new)
