"""bin/etcd-rm's run, in-process: the member leaves and the others and their clients are reloaded
in the same run, the reload gated on this run seeing it leave."""

from etcdkit.facts.etcd import EtcdMembership

from tests.unit import plans_data
from tests.unit.sop_run import SopRun, created, member_machine, pki, with_view
from tests.unit.test_sop_create import ADDRESSES
from tests.unit.test_sop_remove import CLEANUP, cleaned

GATE = "etcd-3 left: the members and their clients are reloaded"


def rm(tmp_path, answers: dict | None = None) -> SopRun:
    created(tmp_path)
    inv = plans_data.inventory(tmp_path)
    before, after = plans_data.view(1, 2, 3), plans_data.view(1, 2)
    machines = with_view({address: member_machine(inv, seq) for seq, address in enumerate(ADDRESSES, 1)}, before)
    for machine in machines.values():
        machine.facts[EtcdMembership] = lambda run: after if run.ran("member remove") else before
    run = SopRun("rm", machines, group_data=pki(tmp_path), data={"etcd_remove": ADDRESSES[2]}, answers=answers).prepare()
    assert run.error is None, run.error
    return run


def test_the_removal_then_the_reload_of_the_others_for_the_cluster_without_it(tmp_path):
    run = rm(tmp_path)
    departing = run.names(ADDRESSES[2])
    assert departing[0] == "Remove etcd-3 from the cluster" and departing[-3:] == [*CLEANUP, GATE]
    for address in ADDRESSES[:2]:  # each waits for the removal, then gets etcd.conf and etcdctl.sh without etcd-3
        names = run.names(address)
        assert names.index(GATE) < names.index("etcd member | etcd's files")
        assert "etcd member | etcd's files" in run.changes(address)
    run.execute()
    assert run.failed() == set() and cleaned(run, ADDRESSES[2])
    for address in ADDRESSES[:2]:
        written = " ".join(run.commands(address))
        assert "> /etc/etcd/etcd.conf" in written and "> /etc/profile.d/etcdctl.sh" in written
    assert not (tmp_path / "pki" / "etcd" / "etcd-3.crt").exists()


def test_a_refused_removal_reloads_nothing_and_cleans_nothing(tmp_path):
    run = rm(tmp_path, answers={"member remove": {"success": False, "stderr": "etcdserver: permission denied"}}).execute()
    assert run.failed() == set(ADDRESSES)
    assert not cleaned(run, ADDRESSES[2])
    for address in ADDRESSES[:2]:
        assert run.commands(address) == []
