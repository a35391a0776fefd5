"""The remove SOP's wiring, in-process: the departing member's host is cleaned only once the member
list, read in the same run, no longer has it; a leader hands its lead over before it goes."""

from etcdkit.facts.etcd import EtcdMembership

from tests.unit import plans_data
from tests.unit.sop_run import SopRun, created, member_machine, pki, with_view
from tests.unit.test_sop_create import ADDRESSES

CLEANUP = ["etcd removal | Take the scheduled backups off [if]", "etcd removal | Stop etcd and delete its files [if]"]


def remove(tmp_path, leaving: int, leader: int = 1, answers: dict | None = None) -> SopRun:
    """A run limited to member `leaving`'s host; the member list loses it once `member remove` ran."""
    created(tmp_path)
    inv = plans_data.inventory(tmp_path)
    before = plans_data.view(1, 2, 3, leader=leader)
    after = plans_data.view(*(seq for seq in (1, 2, 3) if seq != leaving), leader=leader if leader != leaving else 2)
    machines = with_view({address: member_machine(inv, seq) for seq, address in enumerate(ADDRESSES, 1)}, before)
    for machine in machines.values():
        machine.facts[EtcdMembership] = lambda run: after if run.ran("member remove") else before
    run = SopRun("remove", machines, group_data=pki(tmp_path), limit=[ADDRESSES[leaving - 1]], answers=answers).prepare()
    assert run.error is None
    return run


def cleaned(run: SopRun, address: str) -> bool:
    return any("systemctl disable --now" in command for command in run.commands(address))


def test_the_departing_host_removes_itself_then_is_cleaned_only_if_the_removal_is_confirmed(tmp_path):
    run = remove(tmp_path, leaving=3)
    names = run.names(ADDRESSES[2])
    assert names[0] == "Remove etcd-3 from the cluster"
    assert names[-2:] == CLEANUP
    assert run.names(ADDRESSES[0]) == run.names(ADDRESSES[1]) == []  # outside the run


def test_a_confirmed_removal_cleans_the_host_and_forgets_its_certificate(tmp_path):
    run = remove(tmp_path, leaving=3).execute()
    assert run.failed() == set()
    assert any("member remove" in command for command in run.commands(ADDRESSES[2]))
    assert cleaned(run, ADDRESSES[2])
    assert not (tmp_path / "pki" / "etcd" / "etcd-3.crt").exists() and (tmp_path / "pki" / "etcd" / "etcd-2.crt").exists()


def test_a_removal_etcd_refuses_leaves_the_host_as_it_was(tmp_path):
    run = remove(tmp_path, leaving=3, answers={"member remove": {"success": False, "stderr": "etcdserver: permission denied"}})
    run.execute()
    assert run.failed() == {ADDRESSES[2]}
    assert not cleaned(run, ADDRESSES[2])
    assert (tmp_path / "pki" / "etcd" / "etcd-3.crt").exists()


def test_the_leader_hands_its_lead_over_before_it_is_removed(tmp_path):
    run = remove(tmp_path, leaving=1, leader=1).execute()
    commands = run.commands(ADDRESSES[0])
    moved = next(i for i, command in enumerate(commands) if "move-leader" in command)
    removed = next(i for i, command in enumerate(commands) if "member remove" in command)
    assert moved < removed and f"move-leader {plans_data.hex_id(2)}" in commands[moved]
    assert cleaned(run, ADDRESSES[0])
