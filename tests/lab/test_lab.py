"""The lab's own tests: real nodes booted, reached, broken and torn down on this machine.

The tests run in order and share one lab; each starts by bringing it to the state it needs.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab import config
from tests.helpers import LAB, ROOT, lab, ssh

NODE_ADDRESSES = [config.node_address(n) for n in (1, 2, 3)]
USER_CONFIG_LINES = "Host example.invalid\n    User someone\n"


def init_started(address: str) -> str:
    """When the node's PID 1 started: changes if and only if the node boots again."""
    return ssh(address, "cut -d' ' -f22 /proc/1/stat").stdout.strip()


def reachable(address: str, port: int = 22, timeout: float = 2) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_namespaces() -> set[str]:
    namespaces = set()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            namespaces.add(os.readlink(proc / "ns" / "pid"))
        except OSError:
            continue
    return namespaces


@pytest.fixture(scope="module")
def host_namespaces():
    """The PID namespaces of this machine without the lab, to prove `down` leaves no process."""
    lab("down")
    return pid_namespaces()


@pytest.fixture(scope="module")
def user_ssh_config():
    """A user SSH config of our own, restored afterwards: up and down must leave it as it was."""
    path = config.USER_SSH_CONFIG
    saved = path.read_text() if path.exists() else None
    lab("down")
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.write_text(USER_CONFIG_LINES)
    yield path
    if saved is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(saved)


def test_up_boots_three_nodes_reachable_over_plain_ssh(host_namespaces, user_ssh_config):
    lab("up")
    status = lab("status").stdout
    for number, address in enumerate(NODE_ADDRESSES, start=1):
        assert re.search(rf"^node{number}\s+{re.escape(address)}\s+up$", status, re.M), status
        assert ssh(address, "hostname").stdout.strip() == f"node{number}"
    assert "node4" not in status
    assert user_ssh_config.read_text().endswith(USER_CONFIG_LINES)


def test_pyinfra_reaches_a_node_without_flags():
    result = subprocess.run(
        [str(ROOT / ".venv/bin/pyinfra"), "-y", "@ssh/10.10.10.12", "exec", "--", "hostname"],
        text=True,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "node3" in result.stdout + result.stderr


def test_nodes_are_bare_and_install_etcd_from_the_local_repository_only():
    address = NODE_ADDRESSES[0]
    assert ssh(address, "command -v etcd", check=False).returncode != 0
    sources = ssh(address, "cat /etc/apt/sources.list; ls /etc/apt/sources.list.d").stdout
    assert sources.split("\n")[:2] == [
        f"deb [trusted=yes] file:{config.REPO_MOUNT} ./",
        f"deb [trusted=yes] file:{config.REPO_MOUNT}/newer ./",
    ]
    candidate = ssh(address, "apt-cache policy etcd-server").stdout
    # trixie's own etcd by default; sid's newer one only when asked for by version (pinned at 100)
    assert re.search(r"Candidate: 3\.5\.16-", candidate) and re.search(r"3\.5\.30-\S+ 100", candidate), candidate
    assert ssh(address, "timeout 3 bash -c '</dev/tcp/151.101.2.132/80'", check=False).returncode != 0


def test_up_again_changes_nothing():
    before = [init_started(a) for a in NODE_ADDRESSES]
    started = time.monotonic()
    lab("up")
    assert time.monotonic() - started < 10
    assert [init_started(a) for a in NODE_ADDRESSES] == before


def test_up_with_four_adds_node4_and_leaves_the_others_running():
    before = [init_started(a) for a in NODE_ADDRESSES]
    lab("up", "-n", "4")
    assert ssh("10.10.10.13", "hostname").stdout.strip() == "node4"
    assert [init_started(a) for a in NODE_ADDRESSES] == before
    assert ssh("10.10.10.10", "timeout 3 bash -c '</dev/tcp/10.10.10.13/22'", check=False).returncode == 0


def test_stop_is_a_power_off_and_start_boots_with_the_disk_intact():
    address = "10.10.10.13"
    ssh(address, "echo kept > /root/marker && sync")
    before = init_started(address)
    lab("stop", "4")
    assert re.search(r"^node4\s+10\.10\.10\.13\s+stopped$", lab("status").stdout, re.M)
    assert not reachable(address)
    lab("start", address)
    assert ssh(address, "cat /root/marker").stdout.strip() == "kept"
    assert init_started(address) != before
    assert ssh(address, "systemctl is-active sshd").stdout.strip() == "active"


def test_cut_stops_traffic_and_heal_resumes_it():
    lab("cut", "node2")
    assert "up, cut off the network" in lab("status").stdout
    assert not reachable("10.10.10.11")
    probe = "timeout 3 bash -c '</dev/tcp/10.10.10.11/22'"
    assert ssh("10.10.10.10", probe, check=False).returncode != 0
    lab("heal", "2")
    assert reachable("10.10.10.11", timeout=5)
    assert ssh("10.10.10.10", probe).returncode == 0


def test_partition_cuts_nodes_from_one_another_and_block_ssh_only_this_machines_ssh():
    to = lambda address: f"timeout 3 bash -c '</dev/tcp/{address}/22'"  # noqa: E731
    lab("partition", "node1", "node2", "node3")
    lab("block-ssh", "3")
    try:
        assert re.search(r"^node1\s+10\.10\.10\.10\s+up, cut from node2 node3$", lab("status").stdout, re.M)
        assert ssh("10.10.10.10", to("10.10.10.11"), check=False).returncode != 0
        assert ssh("10.10.10.11", to("10.10.10.10"), check=False).returncode != 0
        assert ssh("10.10.10.11", to("10.10.10.12")).returncode == 0  # the others still reach one another
        assert not reachable("10.10.10.12")  # this machine's SSH to node 3 is dropped
        assert ssh("10.10.10.11", to("10.10.10.12")).returncode == 0  # node 3's sshd still answers the others
    finally:
        for node in ("1", "3"):
            lab("heal", node)
    assert ssh("10.10.10.11", to("10.10.10.10")).returncode == 0 and reachable("10.10.10.12", timeout=5)
    assert "cut" not in lab("status").stdout


def test_reset_gives_a_fresh_disk_with_the_same_identity():
    address = NODE_ADDRESSES[0]
    ssh(address, "touch /root/old")
    lab("reset", "1")
    assert ssh(address, "ls /root/old", check=False).returncode != 0
    assert ssh(address, "hostname").stdout.strip() == "node1"


def test_a_second_lab_on_the_same_machine_is_refused(tmp_path):
    other = lab("up", check=False, env={**os.environ, "ETCD_LAB_DIR": str(tmp_path)})
    assert other.returncode == 1 and "another lab" in other.stderr
    assert lab("status").stdout.count(" up") == 4


def test_down_leaves_no_process_mount_bridge_or_ssh_config(host_namespaces, user_ssh_config):
    lab("down")
    assert pid_namespaces() == host_namespaces
    assert not [m for m in Path("/proc/self/mounts").read_text().splitlines() if str(config.STATE_DIR) in m]
    links = os.listdir("/sys/class/net")
    assert config.BRIDGE not in links and not [link for link in links if link.startswith("vb-")]
    assert user_ssh_config.read_text() == USER_CONFIG_LINES
    assert not config.SSH_CONFIG.exists()
    assert lab("status").stdout.strip() == "lab: down"


def test_up_recovers_after_an_interrupted_up_and_down(host_namespaces):
    for command in (["up"], ["down"], ["up"]):
        process = subprocess.Popen([str(LAB), *command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        process.kill()
        process.wait()
    lab("up")
    for number, address in enumerate(NODE_ADDRESSES, start=1):
        assert ssh(address, "hostname").stdout.strip() == f"node{number}"
    lab("down")
    assert pid_namespaces() == host_namespaces


def test_bookworm_on_request():
    lab("down")
    lab("up", "-n", "1", "--release", "bookworm", timeout=600)
    assert "bookworm" in ssh("10.10.10.10", "cat /etc/os-release").stdout
    assert re.search(r"Candidate: 3\.4\.", ssh("10.10.10.10", "apt-cache policy etcd-server").stdout)
    refused = lab("up", "--release", "trixie", check=False)
    assert refused.returncode != 0 and "bin/lab down" in refused.stderr
    lab("down")


def test_clear_errors():
    lab("down")
    as_nobody = {**os.environ, "PATH": "/usr/bin:/bin"}
    unprivileged = lab("up", check=False, env=as_nobody, preexec_fn=lambda: os.setuid(65534))
    assert unprivileged.returncode == 1 and "needs root" in unprivileged.stderr

    bare_path = Path("/tmp/etcd-lab-test-path")
    shutil.rmtree(bare_path, ignore_errors=True)
    bare_path.mkdir()
    (bare_path / "python3").symlink_to(os.path.realpath(sys.executable))
    for command in ("env", "ip", "ssh", "ssh-keygen", "apt-ftparchive"):
        (bare_path / command).symlink_to(shutil.which(command))
    missing = lab("up", check=False, env={**os.environ, "PATH": str(bare_path)})
    assert missing.returncode == 1
    assert "apt-get install -y debootstrap systemd-container" in missing.stderr

    subprocess.run(["ip", "link", "add", "labtest0", "type", "bridge"], check=True)
    try:
        subprocess.run(["ip", "addr", "add", "10.10.10.200/24", "dev", "labtest0"], check=True)
        taken = lab("up", check=False)
        assert taken.returncode == 1 and "already in use on interface labtest0" in taken.stderr
    finally:
        subprocess.run(["ip", "link", "delete", "labtest0"], check=True)

    tiny = Path("/tmp/etcd-lab-test-tiny")
    tiny.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(tiny)], check=True)
    try:
        full = lab("up", check=False, env={**os.environ, "ETCD_LAB_DIR": str(tiny)})
        assert full.returncode == 1 and "not enough disk space" in full.stderr
    finally:
        subprocess.run(["umount", str(tiny)], check=True)
    assert lab("status").stdout.strip() == "lab: down"
