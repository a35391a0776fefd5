"""Helpers shared by the test suites: the lab command and ssh to lab nodes."""

import json
import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / "bin" / "lab"


# Whether this test session booted lab nodes (and so must tear them down at the end).
lab_used = False


def lab(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    global lab_used
    lab_used = lab_used or args[0] in ("up", "start", "reset")
    result = subprocess.run([str(LAB), *args], text=True, capture_output=True, **kwargs)
    if check and result.returncode != 0:
        pytest.fail(f"bin/lab {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def ssh(address: str, command: str, check: bool = True, timeout: float = 60, input_: str | None = None) -> subprocess.CompletedProcess:
    """Plain OpenSSH, as a user would type it: the lab's SSH config makes it work without flags."""
    result = subprocess.run(["ssh", "-o", "BatchMode=yes", address, command], text=True, capture_output=True, timeout=timeout, input=input_)
    if check and result.returncode != 0:
        pytest.fail(f"ssh {address} {command!r} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


PYINFRA = ROOT / ".venv" / "bin" / "pyinfra"
LAB_INVENTORY = "inventories/lab.py"

# The etcd version every SOP run installs on the default (trixie) lab, when set: `ETCD_LAB_VERSION=3.5.30`
# runs the suite on sid's etcd, which the lab's repository serves beside trixie's 3.5.16 (README, "Tests").
# The bookworm lab (etcd 3.4) keeps its own.
LAB_VERSION = os.environ.get("ETCD_LAB_VERSION")
# The version the `etcd` marker of the running test, or of its module, names (tests/conftest.py): its SOP
# runs install that version, unless ETCD_LAB_VERSION asks for another on the trixie lab.
marked_version: str | None = None


def version_args(args=()) -> list[str]:
    """`--data etcd_version=...` for a SOP run with these arguments: $ETCD_LAB_VERSION on the
    default lab, else the marked version; nothing when the run names its own etcd_version or release
    tarball."""
    from lab.cli import lab_release
    from lab.config import DEFAULT_RELEASE

    if any(word.startswith(("etcd_version=", "etcd_tarball=")) for word in args):
        return []
    version = LAB_VERSION if LAB_VERSION and lab_release() in (None, DEFAULT_RELEASE) else marked_version
    return ["--data", f"etcd_version={version}"] if version else []


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    # operation name -> hosts on which it changed something; None when pyinfra printed no results
    # (it stopped before executing any operation: a refusal or a bad inventory)
    results: dict[str, list[str]] | None

    @property
    def changed(self) -> dict[str, list[str]]:
        """What the run changed: only a run that executed has an answer."""
        if self.results is None:
            raise AssertionError(f"pyinfra printed no results (exit {self.returncode}): it executed nothing\n{self.stderr[-2000:]}")
        return self.results

    @property
    def executed(self) -> bool:
        return self.results is not None


def pyinfra(*args: str, nodes: str = "1,2,3", check: bool = True, timeout: float = 600, extra_env=None) -> Run:
    """Run the pyinfra CLI from the repository root, as a user would, and report what changed."""
    env = {**lab_env(nodes), **(extra_env or {})}
    args = (*args, *version_args(args))
    result = subprocess.run([str(PYINFRA), "-y", "--json", *args], cwd=ROOT, env=env, text=True, capture_output=True, timeout=timeout)
    changed = None
    try:
        operations = json.loads(result.stdout)["results"]["operations"]
    except (ValueError, KeyError):
        operations = None
    if operations is not None:
        changed = {operation["name"]: operation["success"] for operation in operations if operation["success"]}
    if check and result.returncode != 0:
        pytest.fail(f"pyinfra {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return Run(result.returncode, result.stdout, result.stderr, changed)


def lab_env(nodes: str) -> dict[str, str]:
    return {**os.environ, "ETCD_NODES": nodes}


def deploy(sop: str, *args: str, inventory: str = LAB_INVENTORY, **kwargs) -> Run:
    return pyinfra(inventory, f"deploys/{sop}.py", *args, **kwargs)


def etcdctl(address: str, command: str, check: bool = True) -> subprocess.CompletedProcess:
    """etcdctl on a member, in a login shell: the environment /etc/profile.d/etcdctl.sh sets up."""
    return ssh(address, f"bash -lc {shlex.quote('etcdctl ' + command)}", check=check)


def members(address: str) -> list[dict]:
    return json.loads(etcdctl(address, "member list -w json").stdout)["members"]


def script(
    name: str, *args: str, nodes: str, check: bool = True, timeout: float = 600, inventory: str = LAB_INVENTORY, yes: bool = True
) -> subprocess.CompletedProcess:
    """One of the bin/etcd-* commands on the lab inventory with ETCD_NODES=nodes, without countdown
    (yes=False: a command that has none, such as etcd-backup)."""
    result = subprocess.run(
        [str(ROOT / "bin" / name), "-i", inventory, *(["-y"] if yes else []), *args, *version_args(args)],
        cwd=ROOT,
        env=lab_env(nodes),
        text=True,
        capture_output=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        pytest.fail(f"bin/{name} {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result


def main_pids(addresses) -> dict[str, str]:
    return {address: ssh(address, "systemctl show -p MainPID --value etcd").stdout.strip() for address in addresses}


def typed(*args: str, nodes: str = "1,2,3", enter: bool = True, inventory: str = LAB_INVENTORY, cwd: Path = ROOT):
    """pyinfra as an operator types it, without -y: it previews, then executes when Enter is pressed
    (enter=False: the operator aborts with Ctrl-D at the prompt, and pyinfra leaves a
    pyinfra-debug.log in cwd)."""
    return subprocess.run(
        [str(PYINFRA), inventory, *args, *version_args(args)],
        cwd=cwd,
        env={**lab_env(nodes), "PYTHONPATH": str(ROOT)},  # the lab inventory imports the lab's module
        text=True,
        capture_output=True,
        timeout=600,
        input="\n" if enter else "",
    )


def control_node_state() -> dict[str, str]:
    """Every file of the control node's pki/ and backups/ with its SHA-256."""
    import hashlib

    return {
        str(path.relative_to(ROOT)): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in (ROOT / "pki", ROOT / "backups")
        if folder.exists()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def host_state(address: str) -> str:
    """What a SOP could change on a host: etcd's MainPID and enabled state, its files' checksums and
    its data dir's entries."""
    return ssh(
        address,
        "systemctl show -p MainPID --value etcd; systemctl is-enabled etcd 2>&1; "
        "sha256sum /etc/etcd/* /etc/systemd/system/etcd.service /etc/profile.d/etcdctl.sh 2>&1; ls -A /data/etcd 2>&1; "
        "command -v etcd || true",
        check=False,
    ).stdout
