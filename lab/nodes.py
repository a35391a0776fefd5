"""One lab node: an overlay over the base image booted by systemd-nspawn on the lab bridge.

A node's disk is its overlay's upper folder: stopping a node (a hard power-off) keeps it, `reset`
and `down` delete it. Processes are recorded as "PID STARTTIME" so that a recycled PID is never
mistaken for ours, and nothing is ever found or killed by its name.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

from lab import config, image
from lab.system import LabError, is_mounted, run, umount_under

BOOT_TIMEOUT = 60


def node_dir(number: int) -> Path:
    return config.NODES_DIR / config.node_name(number)


def root_dir(number: int) -> Path:
    return node_dir(number) / "root"


def _pid_file(number: int, which: str) -> Path:
    return node_dir(number) / f"{which}.pid"


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _recorded(number: int, which: str) -> int | None:
    """The recorded process if it is still the very process we started and not yet dead, else None."""
    try:
        pid, started = _pid_file(number, which).read_text().split()
    except (OSError, ValueError):
        return None
    return int(pid) if _start_time(int(pid)) == started and not _is_zombie(int(pid)) else None


def _record(number: int, which: str, pid: int) -> None:
    _pid_file(number, which).write_text(f"{pid} {_start_time(pid)}\n")


def _children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return children


def _container_init(nspawn: int) -> int | None:
    """The child of nspawn that is PID 1 of the container (nspawn forks helpers too)."""
    for child in _children(nspawn):
        try:
            status = Path(f"/proc/{child}/status").read_text()
        except OSError:
            continue
        namespace_pids = next((line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), [])
        if namespace_pids and namespace_pids[-1] == "1":
            return child
    return None


def init_pid(number: int) -> int | None:
    """The node's PID 1, as this machine sees it (None: not running): its namespaces are the node's."""
    return _recorded(number, "init")


def existing() -> list[int]:
    """Numbers of the nodes that have a disk (running or stopped)."""
    return sorted(n for n in range(1, config.MAX_NODES + 1) if node_dir(n).is_dir())


def is_running(number: int) -> bool:
    """Booted to the end: the init is recorded once sshd answered, so a half-booted node is not running."""
    return _recorded(number, "nspawn") is not None and _recorded(number, "init") is not None


def is_cut(number: int) -> bool:
    """Cut off: the host side of the node's link exists but is down."""
    flags = Path(f"/sys/class/net/{veth(number)}/flags")
    return flags.exists() and not int(flags.read_text(), 16) & 0x1


def veth(number: int) -> str:
    """The host side of the node's network link, which nspawn names vb-<machine>."""
    return f"vb-{config.node_name(number)}"


def _host_keys(number: int) -> Path:
    """Stable host keys per node number, so known_hosts stays valid across `down` and `up`."""
    keys = config.HOSTKEYS_DIR / config.node_name(number)
    if not list((keys / "etc/ssh").glob("ssh_host_*_key")):
        (keys / "etc/ssh").mkdir(parents=True, exist_ok=True)
        run("ssh-keygen", "-A", "-f", str(keys))
    return keys / "etc/ssh"


def known_hosts_lines(number: int) -> list[str]:
    lines = []
    for public in sorted(_host_keys(number).glob("ssh_host_*_key.pub")):
        key_type, key = public.read_text().split()[:2]
        lines.append(f"{config.node_address(number)} {key_type} {key}")
    return lines


def provision(number: int, release: str) -> None:
    """Mount the node's disk and, on first use, make it this node: name, address, keys."""
    folder, root = node_dir(number), root_dir(number)
    upper, work = folder / "upper", folder / "work"
    for path in (upper, work, root):
        path.mkdir(parents=True, exist_ok=True)
    if not is_mounted(root):
        run("mount", "-t", "overlay", "overlay", "-o", f"lowerdir={image.base_dir(release)},upperdir={upper},workdir={work}", str(root))
    marker = folder / "provisioned"
    if marker.exists():
        return
    name, address = config.node_name(number), config.node_address(number)
    (root / "etc/hostname").write_text(f"{name}\n")
    hosts = ["127.0.0.1 localhost", f"127.0.1.1 {name}"]
    hosts += [f"{config.node_address(n)} {config.node_name(n)}" for n in range(1, config.MAX_NODES + 1) if n != number]
    (root / "etc/hosts").write_text("\n".join(hosts) + "\n")
    (root / "etc/machine-id").write_text(uuid.uuid4().hex + "\n")
    network = root / "etc/systemd/network"
    network.mkdir(parents=True, exist_ok=True)
    # Static IPv4 only: waiting for IPv6 router advertisements would hold network-online.target.
    (network / "10-host0.network").write_text(
        f"[Match]\nName=host0\n\n[Network]\nAddress={address}/24\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n"
    )
    for key in _host_keys(number).glob("ssh_host_*"):
        target = root / "etc/ssh" / key.name
        shutil.copyfile(key, target)
        target.chmod(0o644 if key.name.endswith(".pub") else 0o600)
    ssh = root / "root/.ssh"
    ssh.mkdir(mode=0o700, parents=True, exist_ok=True)
    authorized = ssh / "authorized_keys"
    authorized.write_text(config.SSH_KEY.with_suffix(".pub").read_text())
    authorized.chmod(0o600)
    marker.write_text(release + "\n")


def boot(number: int, release: str) -> None:
    """Start the container in the background; `wait_ready` tells when sshd answers.

    The child records itself before it becomes nspawn, so a `bin/lab` killed at any moment never
    leaves a container behind that `down` does not know of.
    """
    name = config.node_name(number)
    power_off(number)  # what is left of a boot that was interrupted
    with open(node_dir(number) / "console.log", "ab") as console:
        subprocess.Popen(
            [
                "systemd-nspawn",
                "--quiet",
                "--boot",
                "--register=no",
                "--keep-unit",
                "--link-journal=no",
                "--console=passive",
                f"--machine={name}",
                f"--network-bridge={config.BRIDGE}",
                f"--bind-ro={image.repo_dir(release)}:{config.REPO_MOUNT}",
                f"--directory={root_dir(number)}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: _record(number, "nspawn", os.getpid()),
        )


def wait_ready(number: int, timeout: float = BOOT_TIMEOUT) -> None:
    """Wait until the node's sshd greets us, then record the container's init process."""
    address, deadline = config.node_address(number), time.monotonic() + timeout
    while time.monotonic() < deadline:
        nspawn = _recorded(number, "nspawn")
        if nspawn is None:
            raise LabError(f"{config.node_name(number)} did not boot:\n{console_tail(number)}")
        try:
            with socket.create_connection((address, 22), timeout=1) as connection:
                connection.settimeout(2)
                init = _container_init(nspawn)
                if connection.recv(64).startswith(b"SSH-") and init:
                    _record(number, "init", init)
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise LabError(f"{config.node_name(number)} ({address}) did not answer on ssh within {timeout:.0f} s:\n{console_tail(number)}")


def console_tail(number: int, lines: int = 15) -> str:
    log = node_dir(number) / "console.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join("  " + line for line in text.splitlines()[-lines:])


def power_off(number: int) -> None:
    """A hard power-off: kill the container's init, which takes every process of the node with it."""
    nspawn = _recorded(number, "nspawn")
    targets = set(_children(nspawn)) if nspawn else set()
    init = _recorded(number, "init")
    if init:
        targets.add(init)
    for pid in targets:
        _kill(pid, signal.SIGKILL)
    if nspawn and not _wait_gone(nspawn, 10):
        _kill(nspawn, signal.SIGKILL)
        _wait_gone(nspawn, 5)
    if init:
        _wait_gone(init, 5)
    for which in ("nspawn", "init"):
        _pid_file(number, which).unlink(missing_ok=True)
    # nspawn removes its link when it exits cleanly; after a killed nspawn, do it ourselves.
    if Path(f"/sys/class/net/{veth(number)}").exists():
        run("ip", "link", "delete", veth(number), check=False)


def _kill(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
            return True
        time.sleep(0.05)
    return False


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def delete(number: int) -> None:
    """Power off, unmount and delete the node's disk."""
    power_off(number)
    umount_under(node_dir(number))
    shutil.rmtree(node_dir(number), ignore_errors=True)
