"""The SOPs as a Pigsty site logs in: an `admin` user with passwordless sudo, and no SSH login as
root (pyinfra's `--ssh-user admin --sudo`; bin/etcd-* pass those flags through to pyinfra): create,
a rolling restart, the root password, join and remove, upgrade, maintain, status, backup, destroy,
restore and a CA rotation. (recover resets nodes, which takes their admin user away: its remote work
goes through the same helpers, etcdkit/operations/on_host.py.)

Tests run in order on one lab: each starts from what the previous one left.
"""

import hashlib
import json
import shlex
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT, deploy, lab, script, ssh
from tests.writer import PREFIX, Writer

NODES = ["10.10.10.10", "10.10.10.11", "10.10.10.12"]
NEW = "10.10.10.13"
SUDO = ("--ssh-user", "admin", "--sudo")
ADMIN_USER = (
    "useradd -m -s /bin/bash admin && install -d -m 700 -o admin -g admin /home/admin/.ssh && "
    "install -m 600 -o admin -g admin /root/.ssh/authorized_keys /home/admin/.ssh/authorized_keys && "
    "echo 'admin ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/admin && chmod 440 /etc/sudoers.d/admin && "
    "echo 'PermitRootLogin no' > /etc/ssh/sshd_config.d/no-root-login.conf && systemctl reload ssh"
)


@pytest.fixture(scope="module", autouse=True)
def admin_nodes():
    lab("up", "-n", "4")
    lab("reset", "1", "2", "3", "4")
    for address in [*NODES, NEW]:
        ssh(address, ADMIN_USER)
        assert ssh(address, "true", check=False).returncode != 0  # root may not log in any more


def as_root(address: str, command: str, check: bool = True):
    """A command as root through admin's sudo, in a login shell (the etcdctl environment)."""
    return ssh(f"admin@{address}", f"sudo -n bash -lc {shlex.quote(command)}", check=check)


def healthy(address: str, count: int) -> bool:
    health = json.loads(as_root(address, "etcdctl endpoint health --cluster -w json").stdout)
    return [h["health"] for h in health] == [True] * count


def leftovers(address: str) -> str:
    """pyinfra's and etcdkit's temporary files (secrets pass through them) that stayed on the host."""
    return as_root(address, "ls -A /tmp | grep -E 'pyinfra|etcdkit' || true").stdout.strip()


# The fixed names secrets went through in /tmp before (pyinfra's `/tmp/pyinfra-<SHA-1 of a key>`):
# the new root password, and the upload of etcd.pass.
OLD_NAMES = [f"/tmp/pyinfra-{hashlib.sha1(key.encode()).hexdigest()}" for key in ("etcd-root-password", "/etc/etcd/etcd.pass")]


def planted(address: str) -> str:
    """Inode, owner, mode and content of the files another user left at those names."""
    return as_root(address, f"for f in {' '.join(OLD_NAMES)}; do stat -c '%i %U %a' $f && cat $f && echo; done").stdout


def test_create_and_converge_through_sudo():
    deploy("create", *SUDO)
    assert healthy(NODES[0], 3)
    for address in NODES:
        assert as_root(address, "stat -c '%U %G %a' /etc/etcd/etcd.pass /etc/etcd/server.key").stdout.split() == [
            *("root", "etcd", "640"),
            *("etcd", "etcd", "600"),
        ]
        assert leftovers(address) == ""
    assert deploy("create", *SUDO).changed == {}


def test_a_rolling_restart_with_new_settings_through_sudo():
    settings = ("--data", "etcd_heartbeat_interval=150", "--data", "etcd_election_timeout=1500")
    with Writer(NODES) as writer:
        run = deploy("create", *SUDO, *settings)
        time.sleep(1)
    assert sorted(run.changed["etcd member | Restart etcd (one member at a time)"]) == NODES
    assert all("heartbeat-interval: 150" in as_root(a, "cat /etc/etcd/etcd.conf").stdout for a in NODES)
    keys = as_root(NODES[0], f"etcdctl get {PREFIX} --prefix --keys-only").stdout.split()
    stored = {int(key[len(PREFIX) :]) for key in keys if key.startswith(PREFIX)}
    acknowledged = writer.acknowledged()
    assert len(acknowledged) > 50 and acknowledged <= stored  # no acknowledged write was lost
    assert deploy("create", *SUDO, *settings).changed == {}


def test_the_root_password_changes_through_sudo(tmp_path):
    password_file = tmp_path / "root.password"
    password_file.write_text("N3w-r00t-Passw0rd\n")
    password_file.chmod(0o600)
    run = deploy("create", *SUDO, "--data", f"etcd_root_password_file={password_file}")
    assert "N3w-r00t-Passw0rd" not in run.stdout + run.stderr
    assert as_root(NODES[1], "cat /etc/etcd/etcd.pass").stdout.strip() == "N3w-r00t-Passw0rd"
    assert healthy(NODES[2], 3) and all(leftovers(a) == "" for a in NODES)
    assert (ROOT / "pki" / "etcd" / "root.password").read_text().strip() == "N3w-r00t-Passw0rd"


def test_secrets_never_pass_through_a_file_another_user_planted_in_tmp(tmp_path):
    plant = f"for f in {' '.join(OLD_NAMES)}; do printf planted > $f && chown nobody $f && chmod 666 $f; done"
    for address in NODES:
        as_root(address, plant)
    before = {address: planted(address) for address in NODES}
    password_file = tmp_path / "root.password"
    password_file.write_text("An0ther-r00t-Passw0rd\n")
    password_file.chmod(0o600)
    try:
        deploy("create", *SUDO, "--data", f"etcd_root_password_file={password_file}")
        assert as_root(NODES[1], "cat /etc/etcd/etcd.pass").stdout.strip() == "An0ther-r00t-Passw0rd"
        assert healthy(NODES[2], 3)
        for address in NODES:
            assert planted(address) == before[address]  # neither read through nor written
            assert before[address].count("planted") == len(OLD_NAMES)
    finally:
        for address in NODES:
            as_root(address, f"rm -f {' '.join(OLD_NAMES)}")
    assert all(leftovers(a) == "" for a in NODES)


def test_etcd_add_and_etcd_rm_pass_the_connection_flags_through():
    script("etcd-add", *SUDO, NEW, nodes="1,2,3,4")
    assert healthy(NEW, 4)
    script("etcd-rm", *SUDO, NEW, nodes="1,2,3,4")
    assert healthy(NODES[0], 3)
    assert as_root(NEW, "systemctl is-active etcd", check=False).stdout.strip() != "active"


@pytest.mark.etcd("3.5.30", "upgrade", "maintain")
def test_upgrade_and_maintain_through_sudo():
    deploy("upgrade", *SUDO, "--data", "etcd_version=3.5.30")  # the lab's newer packages
    assert all("etcd Version: 3.5.30" in as_root(a, "etcd --version").stdout for a in NODES)
    assert healthy(NODES[1], 3)
    as_root(NODES[0], "etcdctl put /sudo/before-backup kept")
    run = deploy("maintain", *SUDO, "--data", "etcd_compact_keep=0")
    assert run.changed  # compacted and defragmented
    assert healthy(NODES[2], 3) and all(leftovers(a) == "" for a in NODES)


@pytest.mark.etcd("3.5.30", "status", "backup", "destroy", "restore")
def test_status_backup_destroy_and_restore_through_sudo():
    status = script("etcd-status", *SUDO, "--json", nodes="1,2,3", yes=False)
    assert len(json.loads(status.stdout)["members"]) == 3
    backups = set((ROOT / "backups").glob("etcd-*.db"))
    script("etcd-backup", *SUDO, nodes="1,2,3", yes=False)
    (snapshot,) = set((ROOT / "backups").glob("etcd-*.db")) - backups
    assert all(leftovers(a) == "" for a in NODES)
    script("etcd-rm", *SUDO, "--destroy", "etcd", nodes="1,2,3")
    assert all(as_root(a, "systemctl is-active etcd", check=False).stdout.strip() != "active" for a in NODES)
    script("etcd-restore", *SUDO, str(snapshot), nodes="1,2,3")
    assert healthy(NODES[0], 3)
    assert as_root(NODES[1], "etcdctl get /sudo/before-backup --print-value-only").stdout.strip() == "kept"


@pytest.mark.etcd("3.5.30", "rotate_ca")
def test_a_ca_rotation_through_sudo(tmp_path):
    subprocess.run([str(ROOT / "bin" / "etcd-ca"), "new", str(tmp_path / "next")], check=True, capture_output=True)
    new_ca = (tmp_path / "next" / "ca.crt").read_text()
    deploy("rotate_ca", *SUDO, "--data", f"etcd_ca_cert={tmp_path}/next/ca.crt", "--data", f"etcd_ca_key={tmp_path}/next/ca.key")
    assert all(as_root(a, "cat /etc/etcd/ca.crt").stdout == new_ca for a in NODES)
    assert healthy(NODES[2], 3) and all(leftovers(a) == "" for a in NODES)


def test_a_tarball_install_through_sudo(tmp_path):
    tarball = Path(lab("tarball", "3.5.16").stdout.strip())
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    lab("reset", "4")
    ssh(NEW, ADMIN_USER)
    solo = tmp_path / "solo.py"
    solo.write_text(
        f'etcd = ([("{NEW}", {{"etcd_seq": 1}})], {{"etcd_cluster": "solo", "etcd_tarball": "{tarball}", "etcd_tarball_sha256": "{digest}"}})\n'
    )
    deploy("create", *SUDO, inventory=str(solo), nodes="4")
    assert "etcd Version: 3.5.16" in as_root(NEW, "/usr/local/bin/etcd --version").stdout
    assert healthy(NEW, 1) and leftovers(NEW) == ""
    assert deploy("create", *SUDO, inventory=str(solo), nodes="4").changed == {}
