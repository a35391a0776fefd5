"""The status SOP's wiring, in-process: its document is kept in the run's context, where
etcd-status reads it, and its table is logged for an operator who runs the deploy."""

import logging

from etcdkit.facts.etcd import EtcdAlarms

from etcdkit.model.run import run_context
from tests.unit import plans_data
from tests.unit.sop_run import SopRun, created, member_machine, pki, with_view
from tests.unit.test_sop_create import ADDRESSES


def test_the_document_is_kept_in_the_runs_context_once_for_every_host(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="pyinfra")
    created(tmp_path)
    inv = plans_data.inventory(tmp_path)
    machines = with_view({address: member_machine(inv, seq) for seq, address in enumerate(ADDRESSES, 1)}, plans_data.view(1, 2, 3))
    for machine in machines.values():
        machine.facts[EtcdAlarms] = ()
    run = SopRun("status", machines, group_data=pki(tmp_path)).prepare()
    assert run.error is None, run.error
    doc = run_context(run.state).status_report
    assert [member["name"] for member in doc["members"]] == ["etcd-1", "etcd-2", "etcd-3"]
    assert doc["leader"] == "etcd-1" and doc["auth"] is True and doc["alarms"] == []
    assert [address for address in ADDRESSES if run.names(address)] == []  # read-only: no operation anywhere
    assert len([r for r in caplog.records if "3 members, leader etcd-1" in r.getMessage()]) == 1
