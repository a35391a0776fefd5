"""Running host commands and checking that this machine can host the lab."""

import ipaddress
import json
import os
import shutil
import subprocess
from pathlib import Path

from lab import config


class LabError(Exception):
    """A problem the user can fix; printed as one clear line, never as a traceback."""


# The command each lab step needs, and the Debian package that provides it.
REQUIRED_COMMANDS = {
    "systemd-nspawn": "systemd-container",
    "debootstrap": "debootstrap",
    "apt-ftparchive": "apt-utils",
    "ip": "iproute2",
    "nsenter": "util-linux",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
}


def run(*args: str, check: bool = True, capture: bool = True, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, text=True, capture_output=capture, **kwargs)
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout or "").strip().splitlines()[-5:] if capture else []
        raise LabError(f"command failed ({result.returncode}): {' '.join(args)}" + "".join(f"\n  {line}" for line in detail))
    return result


def require_root() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (it mounts overlays, creates a bridge and boots containers): run it with sudo")


def require_commands() -> None:
    missing = sorted({package for command, package in REQUIRED_COMMANDS.items() if shutil.which(command) is None})
    if missing:
        raise LabError(f"missing commands; install them with: apt-get install -y {' '.join(missing)}")


def require_free_space(path: Path, needed: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(path).free
    if free < needed:
        raise LabError(
            f"not enough disk space in {path}: {free >> 20} MiB free, the lab needs {needed >> 20} MiB "
            f"(free some space or set ETCD_LAB_DIR to another file system)"
        )


def require_free_network() -> None:
    """The lab's address range must not already be used by another interface of this machine."""
    network = ipaddress.ip_network(config.NETWORK)
    links = json.loads(run("ip", "-j", "addr", "show").stdout or "[]")
    for link in links:
        if link.get("ifname") == config.BRIDGE:
            continue
        for address in link.get("addr_info", []):
            try:
                if ipaddress.ip_address(address.get("local", "")) in network:
                    raise LabError(
                        f"the lab's address range {config.NETWORK} is already in use on interface "
                        f"{link['ifname']} ({address['local']}): free it before starting the lab"
                    )
            except ValueError:
                continue


def is_mounted(path: Path) -> bool:
    return str(path) in mounted_paths()


def mounted_paths() -> list[str]:
    with open("/proc/self/mounts") as mounts:
        return [line.split()[1].replace("\\040", " ") for line in mounts]


def umount_under(path: Path) -> None:
    """Unmount everything mounted at or below path, deepest first."""
    prefix = str(path)
    for mountpoint in sorted(mounted_paths(), key=len, reverse=True):
        if mountpoint == prefix or mountpoint.startswith(prefix + "/"):
            run("umount", mountpoint)
