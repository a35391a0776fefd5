"""The restore SOP's wiring, in-process: every member is installed and restored, and no member
starts unless every member's data was restored in this run."""

import hashlib
import json

from tests.unit.sop_run import SopRun, bare_machine, created, pki
from tests.unit.test_sop_create import ADDRESSES

SNAPSHOT = b"a snapshot of cluster etcd"


def restore(tmp_path, host_data: dict | None = None) -> SopRun:
    created(tmp_path)  # the control node holds the CA and root's password
    snapshot = tmp_path / "backups" / "etcd-20250101T000000Z.db"
    snapshot.parent.mkdir(exist_ok=True)
    snapshot.write_bytes(SNAPSHOT)
    sidecar = {"cluster": "etcd", "sha256": hashlib.sha256(SNAPSHOT).hexdigest(), "size": len(SNAPSHOT), "revision": 40}
    snapshot.with_suffix(".json").write_text(json.dumps(sidecar))
    machines = {address: bare_machine() for address in ADDRESSES}
    run = SopRun("restore", machines, group_data=pki(tmp_path), data={"etcd_restore": str(snapshot)}, host_data=host_data).prepare()
    assert run.error is None, run.error
    return run


def started(run: SopRun) -> list[str]:
    return [a for a in ADDRESSES if any("systemctl start --no-block" in command for command in run.commands(a))]


def test_every_member_is_restored_then_started_only_if_every_restore_succeeded(tmp_path):
    run = restore(tmp_path)
    for address in ADDRESSES:
        names = run.names(address)
        restore_step = next(i for i, name in enumerate(names) if name.startswith("etcd restore | Restore"))
        start = names.index("etcd member | Start etcd [if]")
        assert restore_step < start
    run.execute()
    assert run.failed() == set() and started(run) == ADDRESSES


def test_one_failed_restore_starts_no_member(tmp_path):
    broken = {"fake_responses": {"snapshot restore": {"success": False, "stderr": "snapshot file has wrong CRC"}}}
    run = restore(tmp_path, host_data={ADDRESSES[1]: broken}).execute()
    assert ADDRESSES[1] in run.failed()
    assert started(run) == []
