"""The reload SOP's wiring, in-process: members that are up to date change nothing and restart
nothing; an admin host gets etcdctl and the files it needs; a change that needs a restart restarts
the members one at a time."""

from tests.unit import plans_data
from tests.unit.sop_run import Machine, SopRun, created, member_machine, pki, with_view
from tests.unit.test_sop_create import ADDRESSES

ADMIN = "10.10.10.20"


def reload(tmp_path, data: dict | None = None, pending: dict[str, int] | None = None) -> SopRun:
    """The reload on a converged cluster and an admin host; pending: address -> the MainPID a restart
    was recorded for by an earlier run."""
    created(tmp_path)
    inv = plans_data.inventory(tmp_path)
    machines = {address: member_machine(inv, seq, pending=(pending or {}).get(address, 0)) for seq, address in enumerate(ADDRESSES, 1)}
    machines = with_view(machines, plans_data.view(1, 2, 3))
    machines[ADMIN] = Machine({})
    run = SopRun("reload", machines, members=ADDRESSES, groups={"etcd_clients": [ADMIN]}, group_data=pki(tmp_path), data=data)
    run.prepare()
    assert run.error is None, run.error
    return run


def test_up_to_date_members_change_nothing_and_an_admin_host_gets_its_files(tmp_path):
    run = reload(tmp_path).execute()
    assert run.failed() == set()
    assert all(run.changes(address) == [] and run.commands(address) == [] for address in ADDRESSES)
    assert run.changes(ADMIN) == [
        "etcd admin host | Install etcdctl",
        "etcd admin host | etcdctl's CA, certificate, key, password and environment",
    ]
    written = " ".join(run.commands(ADMIN))
    for path in ("ca.crt", "admin.crt", "admin.key", "root.pass"):
        assert f"> /etc/etcd-client/{path}" in written
    assert "> /etc/profile.d/etcdctl.sh" in written and "chmod 600 /etc/etcd-client/root.pass" in written


def test_a_rolling_restart_on_request_restarts_every_member_one_at_a_time(tmp_path):
    run = reload(tmp_path, data={"etcd_reload": "restart"})
    restart = "etcd member | Restart etcd (one member at a time) [serial]"
    requested = "etcd member | Restart needed: a rolling restart was asked for (etcd_reload=restart)"
    for address in ADDRESSES:
        assert [name for name in run.names(address) if name.startswith("etcd member")] == [requested, restart]
    assert run.names(ADMIN) == []  # env is not among the parts: the admin host is left alone


def test_only_a_member_whose_restart_an_earlier_run_recorded_takes_a_turn(tmp_path):
    restart = "etcd member | Restart etcd (one member at a time) [serial]"
    run = reload(tmp_path, pending={ADDRESSES[1]: 2671})  # its running etcd's MainPID: the restart is still due
    assert [address for address in ADDRESSES if restart in run.names(address)] == [ADDRESSES[1]]
    run = reload(tmp_path / "again", pending={ADDRESSES[1]: 1234})  # etcd restarted since it was recorded: nothing is due
    assert not any(restart in run.names(address) for address in ADDRESSES)
