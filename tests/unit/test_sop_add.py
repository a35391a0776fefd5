"""bin/etcd-add's run, in-process: the named host joins and the members are reloaded in the same
run, the reload gated on the join; the hosts named after it wait for the next run."""

from etcdkit.facts.etcd import EtcdMembership

from tests.unit import plans_data
from tests.unit.sop_run import SopRun, bare_machine, created, member_machine, pki, with_view
from tests.unit.test_sop_create import ADDRESSES
from tests.unit.test_sop_join import ADDED, JOINER, membership

LATER = plans_data.address(5)


def add(tmp_path, named: str = JOINER, answers: dict | None = None) -> SopRun:
    created(tmp_path)
    inv = plans_data.inventory(tmp_path)
    machines = with_view({address: member_machine(inv, seq) for seq, address in enumerate(ADDRESSES, 1)}, plans_data.view(1, 2, 3))
    machines[JOINER] = bare_machine()
    machines[LATER] = bare_machine()
    for machine in machines.values():
        machine.facts[EtcdMembership] = membership
    run = SopRun("add", machines, group_data=pki(tmp_path), data={"etcd_join": named}, answers={**ADDED, **(answers or {})}).prepare()
    assert run.error is None, run.error
    return run


def test_the_join_then_the_reload_of_every_member_in_one_run(tmp_path):
    run = add(tmp_path)
    names = run.names(JOINER)
    assert names[0] == "Control node: CA, certificates and passwords in the PKI folder"
    assert "etcd join | Start etcd-4, promote it, check the cluster" in names
    assert names.index("etcd join | Start etcd-4, promote it, check the cluster") < names.index("etcd-4 joined")
    assert not any(name.startswith("etcd member") for name in names)  # its join wrote the files the reload would
    for address in ADDRESSES:  # every member waits for the join, then is reloaded for the cluster with etcd-4
        assert run.names(address)[0] == "etcd-4 joined: the members and their clients are reloaded"
    assert run.names(LATER) == ["etcd-4 joined: the members and their clients are reloaded"]  # no member: nothing else
    run.execute()
    assert run.failed() == set()
    assert (tmp_path / "pki" / "etcd" / "etcd-4.crt").exists()


def test_a_failed_join_reloads_nothing_anywhere(tmp_path):
    refused = {"systemctl start --no-block": {"success": False, "stderr": "Job for etcd.service failed"}}
    run = add(tmp_path, answers=refused).execute()
    assert run.failed() == {JOINER, *ADDRESSES, LATER}  # the gate stops every host before its reload
    assert run.ran("member remove")
    for address in ADDRESSES:  # the gate was their first operation: nothing ran there
        assert run.commands(address) == []


def test_the_first_host_named_that_is_no_member_joins_and_the_next_waits(tmp_path):
    run = add(tmp_path, named=f"{ADDRESSES[0]},{JOINER},{LATER}")
    assert "etcd join | Announce etcd-4 (learner)" in run.names(JOINER)
    assert not any("etcd join" in name for name in run.names(LATER))
