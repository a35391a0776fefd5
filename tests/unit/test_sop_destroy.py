"""The destroy SOP's wiring, in-process: nothing is deleted on any host unless the snapshot was saved
and verified on the control node in the same run."""

import hashlib
import json

from tests.unit import plans_data
from tests.unit.sop_run import SopRun, created, member_machine, pki, with_view
from tests.unit.test_sop_create import ADDRESSES

SNAPSHOT = b"a snapshot of the cluster's keys"


def snapshot_answers(content: bytes = SNAPSHOT, keys: int = 12) -> dict:
    """What the snapshot host answers: save, read back, checksum of the file the member holds."""
    return {
        "snapshot save": "",
        "snapshot status": json.dumps({"hash": 1, "revision": 40, "totalKey": keys, "totalSize": len(content)}),
        "sha256sum": f"{hashlib.sha256(content).hexdigest()}\n{len(content)}",
    }


def destroy(tmp_path, answers: dict, downloads: dict) -> SopRun:
    created(tmp_path)
    inv = plans_data.inventory(tmp_path)
    machines = with_view({address: member_machine(inv, seq) for seq, address in enumerate(ADDRESSES, 1)}, plans_data.view(1, 2, 3))
    run = SopRun("destroy", machines, group_data=pki(tmp_path), answers=answers, downloads=downloads).prepare()
    assert run.error is None
    return run


def purged(run: SopRun) -> dict[str, bool]:
    return {address: any("systemctl disable --now" in command for command in run.commands(address)) for address in ADDRESSES}


def test_the_snapshot_comes_first_and_every_deletion_is_guarded_by_it(tmp_path):
    run = destroy(tmp_path, snapshot_answers(), {"/snapshot.db": SNAPSHOT})
    snapshot = [name for name in run.names(ADDRESSES[0]) if name.startswith("Save a snapshot")]
    assert len(snapshot) == 1 and all(not name.startswith("Save a snapshot") for a in ADDRESSES[1:] for name in run.names(a))
    for address in ADDRESSES:
        deletions = [op for op in run.ops(address) if "removal" in op.name or "Delete" in op.name]
        assert deletions and all(op.guarded for op in deletions), run.names(address)


def test_a_verified_snapshot_lets_every_member_go(tmp_path):
    run = destroy(tmp_path, snapshot_answers(), {"/snapshot.db": SNAPSHOT}).execute()
    assert run.failed() == set()
    assert purged(run) == dict.fromkeys(ADDRESSES, True)
    [saved] = (tmp_path / "backups").glob("etcd-*.db")
    assert saved.read_bytes() == SNAPSHOT and json.loads(saved.with_suffix(".json").read_text())["revision"] == 40
    assert not (tmp_path / "pki" / "etcd" / "etcd-1.crt").exists()  # the members' certificates went with them


def test_a_snapshot_that_does_not_verify_deletes_nothing_anywhere(tmp_path):
    run = destroy(tmp_path, snapshot_answers(), {"/snapshot.db": SNAPSHOT[:-1]}).execute()  # the copy lost a byte
    assert run.failed() == {ADDRESSES[0]}
    assert list((tmp_path / "backups").glob("*.json")) == []  # no sidecar: it was never taken for a snapshot
    assert purged(run) == dict.fromkeys(ADDRESSES, False)
    assert (tmp_path / "pki" / "etcd" / "etcd-1.crt").exists()


def test_a_snapshot_that_cannot_be_saved_deletes_nothing_anywhere(tmp_path):
    answers = {**snapshot_answers(), "snapshot save": {"success": False, "stderr": "context deadline exceeded"}}
    run = destroy(tmp_path, answers, {"/snapshot.db": SNAPSHOT}).execute()
    assert run.failed() == {ADDRESSES[0]}
    assert purged(run) == dict.fromkeys(ADDRESSES, False)
