"""Backup and restore on lab nodes: a backup under the continuous writer, destroy, restore, and
every write acknowledged before the backup back; the refusals (a cluster that runs, a damaged
file), retention, and the same cycle on etcd 3.4 (bookworm).

Tests run in order on one lab: each starts from what the previous one left.
"""

import json
import os
import re
import shutil
import stat
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT, deploy, etcdctl, host_state, lab, main_pids, script, ssh
from tests.writer import PREFIX, Writer

pytestmark = pytest.mark.etcd("3.5.16", "backup", "restore", "destroy")

NODES = ["10.10.10.10", "10.10.10.11", "10.10.10.12"]
BACKUPS = ROOT / "backups"


@pytest.fixture(scope="module", autouse=True)
def cluster():
    lab("up", "-n", "3")
    lab("reset", "1", "2", "3")
    deploy("create")


def snapshots() -> set[Path]:
    """The snapshots of cluster `etcd` (not another cluster's, such as etcd-staging's)."""
    return {path for path in BACKUPS.glob("etcd-*.db") if re.fullmatch(r"etcd-\d{8}T\d{6}Z\.db", path.name)}


def stored_numbers(address: str) -> set[int]:
    keys = etcdctl(address, f"get {PREFIX} --prefix --keys-only").stdout.split()
    return {int(key[len(PREFIX) :]) for key in keys if key.startswith(PREFIX)}


def backup() -> Path:
    before = snapshots()
    script("etcd-backup", nodes="1,2,3", yes=False)
    [new] = snapshots() - before
    return new


def test_a_backup_under_writes_is_verified_and_described():
    leader_id = json.loads(etcdctl(NODES[0], "endpoint status -w json").stdout)[0]["Status"]["leader"]
    with Writer(NODES) as writer:
        time.sleep(2)
        written = writer.acknowledged()
        started = time.monotonic()
        snapshot = backup()
        took = time.monotonic() - started
    print(f"backup of {len(written)}+ keys under writes: {took:.1f} s")
    assert stat.S_IMODE(snapshot.stat().st_mode) == 0o600 and stat.S_IMODE(BACKUPS.stat().st_mode) == 0o700
    sidecar = json.loads(snapshot.with_suffix(".json").read_text())
    status = json.loads(etcdctl(NODES[0], "endpoint status -w json").stdout)[0]["Status"]
    assert sidecar["cluster_id"] == f"{status['header']['cluster_id']:x}"
    assert sidecar["size"] == snapshot.stat().st_size and sidecar["revision"] > len(written)
    assert len(sidecar["members"]) == 3
    [leader_url] = [
        m["clientURLs"][0] for m in json.loads(etcdctl(NODES[0], "member list -w json").stdout)["members"] if m["ID"] == leader_id
    ]
    assert sidecar["taken_from"] in [f"https://{a}:2379" for a in NODES] and sidecar["taken_from"] != leader_url  # a follower's
    (BACKUPS / "under-writes.txt").write_text(" ".join(map(str, sorted(written))) + f"\n{snapshot.name}\n")


def test_restore_on_a_running_cluster_is_refused_with_nothing_changed():
    snapshot = sorted(snapshots())[-1]
    pids = main_pids(NODES)
    run = deploy("restore", "--data", f"etcd_restore={snapshot}", check=False)
    assert run.returncode != 0 and "deploys/destroy.py" in run.stdout + run.stderr
    assert main_pids(NODES) == pids


def test_a_damaged_snapshot_is_refused_before_any_host_changes(tmp_path):
    snapshot = sorted(snapshots())[-1]
    damaged = tmp_path / snapshot.name
    damaged.write_bytes(snapshot.read_bytes()[:-4096])  # truncated
    shutil.copy(snapshot.with_suffix(".json"), damaged.with_suffix(".json"))
    before = {address: host_state(address) for address in NODES}
    run = deploy("restore", "--data", f"etcd_restore={damaged}", check=False)
    assert run.returncode != 0 and not run.executed
    assert "it is damaged or another file; nothing was changed" in run.stderr
    assert {address: host_state(address) for address in NODES} == before


def test_destroy_then_restore_brings_back_every_acknowledged_write():
    written_text, name = (BACKUPS / "under-writes.txt").read_text().splitlines()
    (BACKUPS / "under-writes.txt").unlink()
    written = {int(n) for n in written_text.split()}
    etcdctl(NODES[0], "put /after-the-backup lost")
    old_id = json.loads(etcdctl(NODES[0], "endpoint status -w json").stdout)[0]["Status"]["header"]["cluster_id"]
    script("etcd-rm", "--destroy", "etcd", nodes="1,2,3")
    started = time.monotonic()
    script("etcd-restore", str(BACKUPS / name), nodes="1,2,3")
    print(f"restore of 3 members: {time.monotonic() - started:.1f} s (with the reload of clients)")
    health = json.loads(etcdctl(NODES[1], "endpoint health --cluster -w json").stdout)
    assert [h["health"] for h in health] == [True, True, True]
    assert written <= stored_numbers(NODES[2])  # every write acknowledged before the backup began
    assert etcdctl(NODES[0], "get /after-the-backup --print-value-only").stdout == ""
    new_id = json.loads(etcdctl(NODES[0], "endpoint status -w json").stdout)[0]["Status"]["header"]["cluster_id"]
    assert new_id != old_id
    anonymous = ssh(NODES[1], "bash -lc 'unset ETCDCTL_USER; etcdctl get x'", check=False)
    assert anonymous.returncode != 0  # RBAC came back with the snapshot; root logs in with the same password
    for address in NODES:
        assert ssh(address, "ls -A /data; stat -c '%U %a' /data/etcd/member").stdout.split() == ["etcd", "etcd", "700"]
    assert deploy("create").changed == {}


def test_a_second_restore_is_refused_while_the_cluster_runs():
    run = deploy("restore", "--data", f"etcd_restore={sorted(snapshots())[-1]}", check=False)
    assert run.returncode != 0 and "deploys/destroy.py" in run.stdout + run.stderr


def test_retention_keeps_the_newest_and_nothing_else_is_touched():
    for stamp in ("20200101T000000Z", "20200102T000000Z", "20200103T000000Z"):
        (BACKUPS / f"etcd-{stamp}.db").write_bytes(b"old")
        (BACKUPS / f"etcd-{stamp}.json").write_text("{}")
    (BACKUPS / "etcd-staging-20200101T000000Z.db").write_bytes(b"another cluster's")
    (BACKUPS / "notes.txt").write_text("the operator's")
    deploy("backup", "--data", "etcd_backup_keep=2")
    kept = sorted(p.name for p in snapshots())
    assert len(kept) == 2 and not any(name.startswith("etcd-2020") for name in kept)
    assert not any((BACKUPS / f"etcd-{s}.json").exists() for s in ("20200101T000000Z", "20200102T000000Z", "20200103T000000Z"))
    assert (BACKUPS / "etcd-staging-20200101T000000Z.db").exists() and (BACKUPS / "notes.txt").exists()
    os.unlink(BACKUPS / "etcd-staging-20200101T000000Z.db")
    os.unlink(BACKUPS / "notes.txt")


def test_scheduled_backups_on_the_members_write_rotate_and_report(tmp_path):
    schedule = ("--data", "etcd_backup_schedule=*-*-* 03:00:00", "--data", "etcd_backup_keep=2")
    deploy("create", *schedule)
    member = NODES[1]
    assert ssh(member, "systemctl is-enabled etcd-backup.timer; systemctl is-active etcd-backup.timer").stdout.split() == [
        "enabled",
        "active",
    ]
    assert "*-*-* 03:00:00" in ssh(member, "systemctl show -p TimersCalendar etcd-backup.timer").stdout
    ssh(member, "touch /var/backups/etcd/notes.txt")
    for _ in range(3):  # what the timer starts, three times: the schedule itself is hours away
        ssh(member, "systemctl start etcd-backup.service")
        time.sleep(1.1)  # snapshots are named by the second
    listing = ssh(member, "ls /var/backups/etcd").stdout.split()
    assert len([name for name in listing if re.fullmatch(r"etcd-\d{8}T\d{6}Z\.db", name)]) == 2 and "notes.txt" in listing
    assert ssh(member, "stat -c '%U %a' /var/backups/etcd").stdout.split() == ["root", "700"]
    metric = ssh(member, "cat /var/lib/prometheus/node-exporter/etcd_backup.prom").stdout
    stamp = float(re.search(r'etcd_backup_last_success_timestamp_seconds\{cls="etcd"\} (\S+)', metric)[1])
    assert abs(time.time() - stamp) < 120
    assert deploy("create", *schedule).changed == {}
    deploy("create")  # no schedule: the timer goes, the snapshots stay
    assert ssh(member, "systemctl is-enabled etcd-backup.timer", check=False).stdout.strip() != "enabled"
    assert "notes.txt" in ssh(member, "ls /var/backups/etcd").stdout


@pytest.mark.etcd("3.4.23", "create", "backup", "restore", "destroy")
def test_backup_and_restore_on_etcd_3_4():
    lab("down")
    lab("up", "--release", "bookworm")
    try:
        deploy("create")
        etcdctl(NODES[0], "put /kept-on-3.4 yes")
        before = snapshots()
        script("etcd-backup", nodes="1,2,3", yes=False)
        [snapshot] = snapshots() - before
        script("etcd-rm", "--destroy", "etcd", nodes="1,2,3")
        script("etcd-restore", str(snapshot), nodes="1,2,3")
        assert etcdctl(NODES[1], "get /kept-on-3.4 --print-value-only").stdout.strip() == "yes"
        status = json.loads(etcdctl(NODES[0], "endpoint status --cluster -w json").stdout)
        assert {s["Status"]["version"] for s in status} == {"3.4.23"}
    finally:
        lab("down")
        lab("up")
