"""The backup SOP's wiring, in-process: one snapshot through a follower, and the older verified
snapshots beyond etcd_backup_keep go only once the new one verified."""

import json

from tests.unit import plans_data
from tests.unit.sop_run import SopRun, created, member_machine, pki, with_view
from tests.unit.test_sop_create import ADDRESSES
from tests.unit.test_sop_destroy import SNAPSHOT, snapshot_answers

OLD = [f"etcd-2025010{day}T000000Z" for day in range(1, 8)]  # seven verified snapshots, oldest first


def backup(tmp_path, downloads: dict, answers: dict | None = None) -> SopRun:
    created(tmp_path)
    folder = tmp_path / "backups"
    folder.mkdir(exist_ok=True)
    for stamp in OLD:
        (folder / f"{stamp}.db").write_bytes(b"an older snapshot")
        (folder / f"{stamp}.json").write_text(json.dumps({"cluster": "etcd"}))
    (folder / "etcd-20250108T000000Z.db").write_bytes(b"a leftover that never verified")  # no sidecar
    inv = plans_data.inventory(tmp_path)
    machines = with_view({address: member_machine(inv, seq) for seq, address in enumerate(ADDRESSES, 1)}, plans_data.view(1, 2, 3))
    run = SopRun("backup", machines, group_data=pki(tmp_path), answers=answers or snapshot_answers(), downloads=downloads).prepare()
    assert run.error is None, run.error
    return run


def kept(tmp_path) -> list[str]:
    return sorted(path.name for path in (tmp_path / "backups").iterdir())


def test_the_snapshot_is_taken_through_one_follower_and_retention_waits_for_it(tmp_path):
    run = backup(tmp_path, {"/tmp/": SNAPSHOT})
    takers = [a for a in ADDRESSES if run.names(a)]
    assert takers == [ADDRESSES[1]]  # etcd-1 leads: the first follower takes it
    assert run.names(ADDRESSES[1])[1] == "Delete 1 older snapshot from " + str((tmp_path / "backups").resolve()) + " [if]"


def test_a_verified_snapshot_lets_the_oldest_verified_one_go_and_never_an_unverified_file(tmp_path):
    run = backup(tmp_path, {"/tmp/": SNAPSHOT}).execute()
    assert run.failed() == set()
    names = kept(tmp_path)
    assert f"{OLD[0]}.db" not in names and f"{OLD[0]}.json" not in names
    assert "etcd-20250108T000000Z.db" in names  # never counted, never deleted
    assert len([name for name in names if name.endswith(".json")]) == 7  # six older ones and the new one


def test_a_snapshot_that_does_not_verify_deletes_no_older_one(tmp_path):
    run = backup(tmp_path, {"/tmp/": SNAPSHOT[:-1]})
    before = kept(tmp_path)
    run.execute()
    assert run.failed() == {ADDRESSES[1]}
    assert kept(tmp_path) == before
