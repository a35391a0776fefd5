"""Backups and restores that must not go ahead, on lab nodes: a backup folder whose filesystem is
full (failed runs leave nothing behind, and retention counts only verified snapshots), a snapshot
of another cluster, and a host whose stopped etcd is configured as another member.

Tests run in order on one lab: each starts from what the previous one left.
"""

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT, deploy, etcdctl, host_state, lab, script, ssh

NODES = ["10.10.10.10", "10.10.10.11", "10.10.10.12"]
BACKUPS = ROOT / "backups"


@pytest.fixture(scope="module", autouse=True)
def cluster():
    lab("up", "-n", "3")
    lab("reset", "1", "2", "3")
    deploy("create")


def backup() -> Path:
    """A verified snapshot in the default backups folder."""
    pattern = re.compile(r"etcd-\d{8}T\d{6}Z\.db")
    before = {path for path in BACKUPS.glob("etcd-*.db") if pattern.fullmatch(path.name)}
    script("etcd-backup", nodes="1,2,3", yes=False)
    [new] = {path for path in BACKUPS.glob("etcd-*.db") if pattern.fullmatch(path.name)} - before
    return new


@pytest.fixture
def small_filesystem(tmp_path):
    """mount(size): a folder on a filesystem of its own of that many bytes (a tmpfs), unmounted afterwards."""
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)

    def mount(size: int) -> Path:
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)], check=True)
        return folder

    yield mount
    if os.path.ismount(folder):
        subprocess.run(["umount", str(folder)], check=True)


def fill(folder: Path) -> Path:
    """A file that takes every free byte of the folder's filesystem."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as file:
        try:
            while True:
                file.write(b"\0" * 4096)
        except OSError:
            pass
    assert os.statvfs(folder).f_bavail == 0
    return filler


def test_backups_into_a_full_filesystem_leave_nothing_and_retention_keeps_the_verified(small_filesystem):
    snapshots = []
    for _ in range(2):
        snapshots.append(backup())
        time.sleep(1.1)  # snapshots are named by the second
    # room for these two and one more (a good backup needs it), then filled up
    folder = small_filesystem(3 * max(path.stat().st_size for path in snapshots) + (1 << 20))
    verified = []
    for snapshot in snapshots:
        for path in (snapshot, snapshot.with_suffix(".json")):
            shutil.copy2(path, folder / path.name)
        verified.append(snapshot.name)
    filler = fill(folder)
    before = sorted(os.listdir(folder))
    options = ("--data", f"etcd_backup_dir={folder}", "--data", "etcd_backup_keep=2")
    for _ in range(3):  # more failed runs than etcd_backup_keep
        run = deploy("backup", *options, check=False)
        assert run.returncode != 0
        assert sorted(os.listdir(folder)) == before, "a failed backup left files behind"
        time.sleep(1.1)
    filler.unlink()
    deploy("backup", *options)
    names = sorted(os.listdir(folder))
    assert len(names) == 4 and names[:2] == [verified[1], verified[1].replace(".db", ".json")]  # the newest verified kept
    new = json.loads((folder / names[3]).read_text())
    assert names[2] == names[3].replace(".json", ".db") and new["size"] == (folder / names[2]).stat().st_size


def other_clusters(snapshot: Path, folder: Path, cluster: str) -> Path:
    """A copy of the snapshot whose sidecar says it was taken from another cluster."""
    copy = folder / snapshot.name
    shutil.copy2(snapshot, copy)
    sidecar = json.loads(snapshot.with_suffix(".json").read_text())
    copy.with_suffix(".json").write_text(json.dumps({**sidecar, "cluster": cluster}))
    return copy


def test_a_snapshot_of_another_cluster_is_refused_before_the_countdown_until_it_is_named(tmp_path):
    etcdctl(NODES[0], "put /restored-from staging")
    snapshot = other_clusters(backup(), tmp_path, "staging")
    script("etcd-rm", "--destroy", "etcd", nodes="1,2,3")
    before = {address: host_state(address) for address in NODES}
    run = script("etcd-restore", str(snapshot), nodes="1,2,3", yes=False, check=False)  # as typed: with its countdown
    assert run.returncode != 0
    assert "`staging`" in run.stderr and "--data etcd_restore_from=staging" in run.stderr, run.stderr[-2000:]
    assert "starting in" not in run.stderr  # refused before the countdown
    assert {address: host_state(address) for address in NODES} == before
    script("etcd-restore", str(snapshot), "--data", "etcd_restore_from=staging", nodes="1,2,3")
    assert etcdctl(NODES[1], "get /restored-from --print-value-only").stdout.strip() == "staging"


def test_a_host_whose_stopped_etcd_is_another_member_is_refused():
    snapshot = backup()
    script("etcd-rm", "--destroy", "etcd", nodes="1,2,3")
    ssh(NODES[1], "mkdir -p /etc/etcd && printf 'name: other-7\\ndata-dir: /data/other\\n' > /etc/etcd/etcd.conf")
    before = {address: host_state(address) for address in NODES}
    run = deploy("restore", "--data", f"etcd_restore={snapshot}", check=False)
    assert run.returncode != 0 and not run.executed
    assert NODES[1] in run.stderr and "other-7" in run.stderr and "/data/other" in run.stderr, run.stderr[-2000:]
    assert {address: host_state(address) for address in NODES} == before
    ssh(NODES[1], "mv /etc/etcd/etcd.conf /etc/etcd/etcd.conf.other")  # what the refusal says to do
    deploy("restore", "--data", f"etcd_restore={snapshot}")
    assert etcdctl(NODES[2], "endpoint health --cluster").returncode == 0
