"""etcdkit's operations against canned facts: the commands a starting state yields, nothing (and a
noop message) once the facts show the converged state, and secrets only ever in upload bodies."""

import dataclasses
import hashlib
import json
import os
import shlex
import stat
import subprocess
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from etcdkit.facts.etcd import (
    EtcdAlarms,
    EtcdAuth,
    EtcdCluster,
    EtcdCompacted,
    EtcdctlVersion,
    EtcdDatabase,
    EtcdMembership,
    EtcdMetrics,
    EtcdService,
    EtcdUser,
    EtcdVersion,
)
from etcdkit.facts.patroni import PatroniRole
from etcdkit.facts.prometheus import PrometheusSetup, TargetFiles
from etcdkit.facts.yaml import ConfigFile, YamlKeys, hashed
from pyinfra.api import FunctionCommand, OperationError, StringCommand
from pyinfra.facts.files import Directory, File, Sha256File
from pyinfra.facts.server import Which

from etcdkit.control.passwords import Secret
from etcdkit.control.pki import CASource, CertRequest
from etcdkit.control.store import ControlWork
from etcdkit.model import paths
from etcdkit.model.auth import AuthState, UserState
from etcdkit.model.cluster import Alarm, ClusterView, MemberMetrics
from etcdkit.model.config_file import ConfigLocation
from etcdkit.model.data import DatabaseStatus
from etcdkit.model.host import EtcdHostState, EtcdServiceState
from etcdkit.model.inventory import Member
from etcdkit.model.prometheus import PrometheusState
from etcdkit.model.run import run_context
from etcdkit.operations import control, etcd, gates, maintenance, membership, prometheus, restart, services, upgrade
from etcdkit.operations.files import control_node_rewrites, upload
from etcdkit.operations.yaml import yaml_keys
from etcdkit.remote.etcdctl import POLL_TIMEOUTS, etcdctl
from etcdkit.remote.packages import etcd_user_exists, extract_release
from etcdkit.remote.services import READ_API
from tests.unit import plans_data
from tests.unit.fake_host import Changing, FakeHost, MissingFact, active, body, call, describe, fact, run, shell, steps
from tests.unit.plans_data import NOW

DATA = Path(__file__).parent / "data"
ETCD_USER = etcd_user_exists().get_raw_value()
CONFIG_FILE = (Path(__file__).resolve().parents[2] / "templates" / "scripts" / "config-file.py").read_text()
ENDPOINT = "https://10.10.10.10:2379"
ENDPOINTS = "https://10.10.10.10:2379,https://10.10.10.11:2379"
JOINER = Member(host_name="10.10.10.13", seq=4, cluster="etcd", address="10.10.10.13", port=2379, peer_port=2380)
# How every etcdctl of a member authenticates: the password is read from the file when it runs.
ROOT_FROM_FILE = f'ETCDCTL_USER=root:"$(cat {paths.PASS})"'


# the end of a fresh install: the package's unit, if it has one, disabled, and the etcd user there
UNIT_OFF_AND_USER = f"if systemctl cat etcd.service >/dev/null 2>&1; then\n    SYSTEMCTL_SKIP_SYSV=1 systemctl disable --no-reload --quiet etcd.service || exit 1\nfi\n{ETCD_USER}\n"


def step(command: str) -> str:
    """A command's first step: a script's first line after its comments, up to the first `;`."""
    return next(line for line in command.splitlines() if line and not line.startswith("#")).split(";")[0]


def converged(host: FakeHost, commands: list) -> bool:
    """Nothing to do, and the operation said why."""
    return commands == [] and len(host.noops) == 1 and bool(host.noops[0])


def uploaded(commands: list, host: FakeHost) -> dict[str, str]:
    """What the commands' callbacks write on the host, by destination (run as the run executes)."""
    for command in commands:
        if isinstance(command, FunctionCommand):
            call(command, host)
    return {dest: data.decode() for dest, data in host.installed().items()}


def secret_only_in_uploads(commands: list, secret: str, host: FakeHost) -> None:
    """The secret is sent (through a private temporary file) and appears in no shell command, nor
    in a callback's arguments, nor in a command the callbacks run."""
    for command in commands:
        if isinstance(command, StringCommand):
            assert secret not in command.get_raw_value()
            assert secret not in command.get_masked_value()
        elif isinstance(command, FunctionCommand):
            assert secret not in repr((command.args, command.kwargs))
    assert any(secret in body for body in uploaded(commands, host).values()), "the secret is not uploaded at all"
    assert all(secret not in text for text in host.commands)


def service(active="active", enabled="enabled", pid=4242, restart_pending=0) -> EtcdServiceState:
    return EtcdServiceState(active, enabled, pid, restart_pending)


def which(*present: str) -> dict:
    return {fact(Which, command=name): f"/usr/bin/{name}" if name in present else None for name in ("apt-get", "dnf", "yum")}


# etcd.install


def test_install_second_run_is_a_noop():
    host = FakeHost({EtcdVersion: "3.5.16"})
    assert converged(host, run(etcd.install, host=host))
    assert "3.5.16" in host.noops[0]
    assert host.asked == [fact(EtcdVersion)]  # the package manager is not even looked at


def test_install_with_apt_keeps_the_package_from_starting_its_own_etcd():
    host = FakeHost({EtcdVersion: None, **which("apt-get")})
    [command] = shell(run(etcd.install, host=host))
    assert "apt-get install -y -q --no-install-recommends  etcd-server etcd-client" in command
    assert 'policy=/usr/sbin/policy-rc.d\nif [ -e "$policy" ] || [ -L "$policy" ]; then' in command  # never replaces the operator's
    assert "(set -C && printf '#!/bin/sh\\nexit 101\\n' >\"$policy\")" in command
    assert "trap 'rm -f \"$policy\"' EXIT" in command
    assert "apt_install || { apt-get update -q && apt_install; }" in command  # retried once after an update
    assert command.endswith(UNIT_OFF_AND_USER)


def test_install_quotes_package_names():
    host = FakeHost({EtcdVersion: None, **which("apt-get")})
    [command] = shell(run(etcd.install, packages=["etcd-server", "etcd; reboot"], host=host))
    assert "--no-install-recommends  etcd-server 'etcd; reboot'" in command


@pytest.mark.parametrize("present, expected", [(("dnf", "yum"), "dnf install -y etcd"), (("yum",), "yum install -y etcd")])
def test_install_with_dnf_or_yum(present, expected):
    host = FakeHost({EtcdVersion: None, **which(*present)})
    assert shell(run(etcd.install, host=host)) == [f"{expected} && {ETCD_USER}"]


@pytest.mark.parametrize("manager, expected", [("dnf", "dnf install -y etcd"), ("apt-get", "apt-get install -y -q")])
def test_install_takes_the_package_manager_the_plan_read_even_after_a_command_ran(manager, expected):
    host = FakeHost({EtcdVersion: None})  # no Which answer: asking one fails the test
    run_context(host.run_state).host_states[host.name] = EtcdHostState(package_manager=manager)
    executed = SimpleNamespace(operation_meta=SimpleNamespace(executed=True))
    host.run_state.ops = {host: {"an earlier operation": executed}}  # the plan's reading of the rest no longer counts
    [command] = shell(run(etcd.install, host=host))
    assert expected in command
    assert host.asked == [fact(EtcdVersion)]


def test_install_pins_etcd_version_with_apt_and_never_changes_an_installed_etcd():
    host = FakeHost({EtcdVersion: None, **which("apt-get")})
    [command] = shell(run(etcd.install, version="3.5.16", host=host))
    assert (
        "apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "
        "'etcd-server=3.5.16*' 'etcd-client=3.5.16*'\n" in command
    )
    assert command.endswith(UNIT_OFF_AND_USER)
    other = FakeHost({EtcdVersion: "3.5.15"})
    assert converged(other, run(etcd.install, version="3.5.16", host=other))
    assert other.noops == ["etcd 3.5.15 is installed (not etcd_version 3.5.16: the upgrade SOP, deploys/upgrade.py, changes it)"]


def test_create_never_installs_a_second_etcd_nor_replaces_a_newer_one():
    for installed in ("3.6.11", "3.5.30"):
        host = FakeHost({EtcdVersion: installed})  # Pigsty's `etcd` package, say: its /usr/bin/etcd answers
        assert converged(host, run(etcd.install, version="3.5.16", tarball="etcd-v3.5.16-linux-amd64.tar.gz", host=host))
        assert host.asked == [fact(EtcdVersion)]


@pytest.mark.parametrize(
    "installed, expected",
    [
        ("3.5.16", "-o Dpkg::Options::=--force-confold 'etcd-server=3.5.30*' 'etcd-client=3.5.30*'"),  # left by a failed join
        ("3.6.0", "-o Dpkg::Options::=--force-confold --allow-downgrades 'etcd-server=3.5.30*' 'etcd-client=3.5.30*'"),
    ],
)
def test_a_join_replaces_an_etcd_of_another_version_on_its_new_host(installed, expected):
    host = FakeHost({EtcdVersion: installed, **which("apt-get")})
    [command] = shell(run(etcd.install, version="3.5.30", replace=True, host=host))
    assert expected in command and command.endswith(UNIT_OFF_AND_USER)
    same = FakeHost({EtcdVersion: "3.5.30"})
    assert converged(same, run(etcd.install, version="3.5.30", replace=True, host=same))


@pytest.mark.parametrize("present, expected", [(("dnf",), "dnf downgrade -y etcd-3.5.30"), (("yum",), "yum downgrade -y etcd-3.5.30")])
def test_a_join_replaces_a_newer_etcd_with_dnf_or_yum_by_a_downgrade(present, expected):
    host = FakeHost({EtcdVersion: "3.6.0", **which(*present)})
    assert shell(run(etcd.install, version="3.5.30", replace=True, host=host)) == [f"{expected} && {ETCD_USER}"]


@pytest.mark.parametrize("present, expected", [(("dnf",), "dnf install -y etcd-3.5.16"), (("yum",), "yum install -y etcd-3.5.16")])
def test_install_pins_etcd_version_with_dnf_or_yum(present, expected):
    host = FakeHost({EtcdVersion: None, **which(*present)})
    assert shell(run(etcd.install, version="3.5.16", host=host)) == [f"{expected} && {ETCD_USER}"]


def test_install_without_a_package_manager_asks_for_a_tarball():
    host = FakeHost({EtcdVersion: None, **which()})
    with pytest.raises(OperationError, match="etcd_tarball"):
        run(etcd.install, host=host)


@pytest.mark.parametrize("sudo", [False, True], ids=["as root", "with sudo"])
def test_install_from_a_tarball_checks_it_again_on_the_host(tmp_path, sudo):
    tarball = tmp_path / "etcd-v3.5.16-linux-amd64.tar.gz"
    tarball.write_bytes(b"not really a tarball")
    host = FakeHost({EtcdVersion: None})
    [command] = run(etcd.install, tarball=str(tarball), tarball_sha256="ABCDEF0123", host=host)
    host.current_op_global_arguments = {"_sudo": True} if sudo else {}
    call(command, host)
    # the SSH user's own fresh file (never pyinfra's fixed name, never copied onto itself by sudo)
    [remote] = host.temporaries
    assert host.uploads == {remote: b"not really a tarball"} and f"put {remote}" not in host.privileged
    unpack = next(text for text in host.commands if "sha256sum" in text)
    assert unpack.startswith(f"echo 'abcdef0123  {remote}' | sha256sum -c --quiet && tar -xzf {remote} -C /usr/local/bin")
    assert (
        f"--no-wildcards-match-slash '*/etcd*' && [ -x /usr/local/bin/etcd ] && [ -x /usr/local/bin/etcdctl ] && rm -f {remote}" in unpack
    )
    assert "useradd --system -g etcd" in unpack
    assert (unpack in host.privileged) == sudo and host.commands[-1] == f"rm -f {remote}"
    assert host.asked == [fact(EtcdVersion)]  # no package manager involved


def test_a_tarball_that_does_not_unpack_fails_and_its_copy_goes(tmp_path):
    tarball = tmp_path / "etcd-v3.5.16-linux-amd64.tar.gz"
    tarball.write_bytes(b"not really a tarball")
    host = FakeHost({EtcdVersion: None}, shell=lambda command: (False, "", "sha256sum: WARNING: 1 computed checksum did NOT match"))
    [command] = run(etcd.install, tarball=str(tarball), tarball_sha256="ABCDEF0123", host=host)
    with pytest.raises(OperationError, match="did NOT match"):
        call(command, host)
    assert host.commands[-1] == f"rm -f {host.temporaries[0]}"


@pytest.mark.parametrize("binaries", [("etcd", "etcdctl"), ("etcd", "etcdctl", "etcdutl")], ids=["3.4", "3.5"])
def test_a_release_tarball_gives_its_binaries_and_nothing_else(tmp_path, binaries):
    """etcd 3.4's release has no etcdutl; every release has a Documentation folder and READMEs."""
    top = tmp_path / "etcd-v3.4.23-linux-amd64"
    (top / "Documentation" / "dev-guide").mkdir(parents=True)
    for name in (*binaries, "README-etcdctl.md", "Documentation/dev-guide/etcd-api.md"):
        (top / name).write_text(name)
        (top / name).chmod(0o755)
    tarball, target = tmp_path / f"{top.name}.tar.gz", tmp_path / "bin"
    subprocess.run(["tar", "-czf", str(tarball), "-C", str(tmp_path), top.name], check=True)
    target.mkdir()
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    subprocess.run(["sh", "-c", extract_release(str(tarball), digest, str(target)).get_raw_value()], check=True)
    assert sorted(path.name for path in target.iterdir()) == sorted(binaries) and not tarball.exists()
    tarball.write_bytes(b"another file")
    assert (
        subprocess.run(["sh", "-c", extract_release(str(tarball), digest, str(target)).get_raw_value()], capture_output=True).returncode
        != 0
    )


# etcd.request_restart


def test_request_restart_records_the_running_pid():
    host = FakeHost({EtcdService: service(pid=4242)})
    assert shell(run(etcd.request_restart, reason="etcd.conf changed", host=host)) == [
        "echo 4242 > /run/etcd.restart-pending  # 'etcd.conf changed'"
    ]


def test_request_restart_is_a_noop_when_etcd_is_not_running():
    host = FakeHost({EtcdService: service(active="inactive", pid=0)})
    assert converged(host, run(etcd.request_restart, reason="the unit changed", host=host))


def test_request_restart_second_run_is_a_noop():
    host = FakeHost({EtcdService: service(pid=4242, restart_pending=4242)})
    assert converged(host, run(etcd.request_restart, reason="etcd.conf changed", host=host))


# etcd.running


@pytest.mark.parametrize(
    "enabled, active_state, expected",
    [
        ("disabled", "inactive", "SYSTEMCTL_SKIP_SYSV=1 systemctl enable --quiet etcd.service && systemctl start --no-block etcd.service"),
        ("", "", "SYSTEMCTL_SKIP_SYSV=1 systemctl enable --quiet etcd.service && systemctl start --no-block etcd.service"),
        # enabled, as systemd's cached state says (the package unit's, disabled without a reload at install):
        # enabled again as it starts, which reloads systemd's units for the unit file written since
        ("enabled", "failed", "SYSTEMCTL_SKIP_SYSV=1 systemctl enable --quiet etcd.service && systemctl start --no-block etcd.service"),
        ("disabled", "active", "SYSTEMCTL_SKIP_SYSV=1 systemctl enable --quiet etcd.service"),
    ],
)
def test_running_enables_and_starts_without_waiting(enabled, active_state, expected):
    host = FakeHost({EtcdService: service(active=active_state, enabled=enabled)})
    assert shell(run(etcd.running, host=host)) == [expected]


def test_running_starts_an_etcd_that_is_stopping():
    """A stopping etcd stops: the start queued behind it brings it back."""
    host = FakeHost({EtcdService: service(active="deactivating", enabled="enabled")})
    assert shell(run(etcd.running, host=host)) == [
        "SYSTEMCTL_SKIP_SYSV=1 systemctl enable --quiet etcd.service && systemctl start --no-block etcd.service"
    ]


@pytest.mark.parametrize("active_state", ["active", "activating", "reloading"])
def test_running_second_run_is_a_noop(active_state):
    host = FakeHost({EtcdService: service(active=active_state)})
    assert converged(host, run(etcd.running, host=host))


# etcd.wait_healthy (always acts: it waits)


@pytest.mark.parametrize("cluster_wide", [True, False])
def test_wait_healthy_polls_until_the_deadline(cluster_wide):
    host = FakeHost()
    [command] = shell(run(etcd.wait_healthy, endpoint=ENDPOINT, cluster_wide=cluster_wide, timeout=45, host=host))
    assert step(command) == "deadline=$(($(date +%s) + 45))"
    assert ("endpoint health --cluster" in command) is cluster_wide
    assert "journalctl -u etcd.service" in command  # a failure shows why
    assert ROOT_FROM_FILE in command
    assert host.asked == [] and host.noops == []


# restart.restart_if_pending: one member at a time, its new files written at its own turn


def cluster(answered_by: str | None = None):
    """The lab's healthy 3-member view (etcd-2 leads), as answered by etcd-1 or the named member."""
    view = EtcdCluster().process((DATA / "cluster_healthy.txt").read_text().splitlines())
    if answered_by:
        view = dataclasses.replace(view, answered_by=next(member.id for member in view.members if member.name == answered_by))
    return view


NEW_CONF = "name: etcd-1\nheartbeat-interval: 150\n"


def keeps_files(command: str):
    """A member's shell where every file to replace exists and its copy succeeds."""
    return True, "kept\n" if command.startswith("if [ -f") else "", ""


def restart_host(pid=4242, marker=4242, conf_sum="old", answered_by=None, shell=keeps_files) -> FakeHost:
    host = FakeHost(
        {
            EtcdService: service(pid=pid, restart_pending=marker),
            fact(EtcdCluster, endpoint=ENDPOINT): cluster(answered_by),
            fact(Sha256File, path=paths.CONF): conf_sum,
        },
        shell=shell,
    )
    return host


def restarted(host: FakeHost, files=None) -> list:
    return run(restart.restart_if_pending, endpoint=ENDPOINT, files=files or {}, timeout=30, host=host)


@pytest.mark.parametrize("pid, marker", [(0, 0), (4242, 0), (4242, 1000)], ids=["stopped", "no-marker", "marker-of-an-older-process"])
def test_restart_if_pending_noop(pid, marker):
    host = restart_host(pid, marker, conf_sum=hashlib.sha256(NEW_CONF.encode()).hexdigest())
    assert converged(host, restarted(host, {paths.CONF: NEW_CONF}))
    assert host.asked_for(EtcdCluster) == []


def test_the_new_conf_is_written_at_the_members_turn_between_health_checks():
    host = restart_host()
    call(restarted(host, {paths.CONF: NEW_CONF})[0], host)
    steps = [step(command) for command in host.commands]
    temporary = host.temporaries[0]
    assert steps == [
        "deadline=$(($(date +%s) + 30))",
        "if [ -f /etc/etcd/etcd.conf ]",
        'mktemp "${TMPDIR:-/tmp}/etcdkit.XXXXXXXXXX"',
        "(umask 077 && touch -- /etc/etcd/etcd.conf.etcdkit-new) && chmod go-rwx -- /etc/etcd/etcd.conf.etcdkit-new && "
        f"cat -- {temporary} > /etc/etcd/etcd.conf.etcdkit-new",
        "chown root:etcd /etc/etcd/etcd.conf.etcdkit-new && chmod 644 /etc/etcd/etcd.conf.etcdkit-new && mv -f "
        "/etc/etcd/etcd.conf.etcdkit-new /etc/etcd/etcd.conf",
        "systemctl restart etcd.service",
        "deadline=$(($(date +%s) + 30))",
        "rm -f /run/etcd.restart-pending /etc/etcd/etcd.conf.previous",
    ]
    assert "endpoint health --cluster" in host.commands[0] and "endpoint health --cluster" in host.commands[6]
    assert host.installed() == {"/etc/etcd/etcd.conf.etcdkit-new": NEW_CONF.encode()}
    assert not any("move-leader" in command for command in host.commands)  # etcd-1 answered; etcd-2 leads


def test_the_leader_hands_leadership_over_before_its_restart():
    host = restart_host(answered_by="etcd-2")
    call(restarted(host)[0], host)
    successor = cluster().by_peer_url("https://10.10.10.12:2380")  # etcd-3: healthy, the most caught up
    assert host.commands[1] == f"{etcdctl(ENDPOINT)} move-leader {successor.hex_id}"
    assert host.commands[2] == "systemctl restart etcd.service"


def test_a_stopped_member_only_gets_its_files():
    host = restart_host(pid=0, marker=0).set(Sha256File, "old", path=paths.UNIT)
    call(restarted(host, {paths.CONF: NEW_CONF, paths.UNIT: "[Unit]\n"})[0], host)
    assert not any("restart" in command or "health" in command for command in host.commands)
    assert host.commands[-1] == "systemctl daemon-reload"


def test_an_unhealthy_cluster_is_not_restarted():
    host = restart_host(shell=lambda command: (False, "", "member down") if "endpoint health" in command else (True, "", ""))
    with pytest.raises(OperationError, match="not restarted: the cluster is not healthy before this member's turn"):
        call(restarted(host, {paths.CONF: NEW_CONF})[0], host)
    assert host.uploads == {} and len(host.commands) == 1


def test_a_member_that_does_not_come_back_gets_its_previous_conf_and_no_other_member_restarts():
    checks = iter([True, False, True])  # healthy before; not after the new conf; healthy again with the old one

    def answer(command: str):
        if "endpoint health" in command:
            return next(checks), "", ""
        return keeps_files(command) if command.startswith("if [ -f") else (True, "-- journal --", "")

    host = restart_host(shell=answer)
    with pytest.raises(OperationError, match="did not come back healthy within 30 s .* put back and it serves again. No other member"):
        call(restarted(host, {paths.CONF: NEW_CONF})[0], host)
    assert "mv -f /etc/etcd/etcd.conf.previous /etc/etcd/etcd.conf" in host.commands
    assert host.commands.count("systemctl restart etcd.service") == 1  # the restart with the new conf
    assert "systemctl reset-failed etcd.service; systemctl restart etcd.service" in host.commands  # and with the old one
    # the next member's turn, in the same run: nothing is written, nothing restarts
    other = restart_host()
    other.run_state = host.run_state
    with pytest.raises(OperationError, match="not restarted: the turn of 10.10.10.10 failed earlier in this run"):
        call(restarted(other, {paths.CONF: NEW_CONF})[0], other)
    assert other.commands == ["rm -f /run/etcd.restart-pending"] and other.uploads == {}  # it keeps its configuration


def test_a_member_whose_files_cannot_be_written_is_not_restarted_and_no_other_member_is():
    def read_only(command: str):  # its /etc/etcd takes no new file (immutable, read-only, full)
        if "> /etc/etcd/" in command:
            return False, "", "cat: /etc/etcd/ca.crt.etcdkit-new: Read-only file system"
        return keeps_files(command)

    host = restart_host(shell=read_only).set(Sha256File, "old", path=paths.CA)
    with pytest.raises(
        OperationError,
        match="writing /etc/etcd/ca.crt.etcdkit-new failed: .*Read-only file system; it keeps its configuration and was not restarted",
    ):
        call(restarted(host, {paths.CA: "the old and the new CA"})[0], host)
    assert not any("systemctl restart" in command for command in host.commands)
    assert "mv -f /etc/etcd/ca.crt.previous /etc/etcd/ca.crt" in host.commands
    other = restart_host().set(Sha256File, "old", path=paths.CA)
    other.run_state = host.run_state
    with pytest.raises(OperationError, match="not restarted: the turn of 10.10.10.10 failed earlier in this run"):
        call(restarted(other, {paths.CA: "the old and the new CA"})[0], other)
    assert other.uploads == {}


def test_a_member_whose_files_cannot_be_kept_first_gets_nothing_written():
    host = restart_host(shell=lambda command: (False, "", "No space left on device") if "cp -p" in command else (True, "", ""))
    host.set(Sha256File, "old", path=paths.CA)
    with pytest.raises(OperationError, match="keeping /etc/etcd/ca.crt failed: No space left on device; it keeps its configuration"):
        call(restarted(host, {paths.CA: "the old and the new CA"})[0], host)
    assert host.uploads == {} and not any(c.startswith(("rm -f /etc/etcd/ca.crt", "systemctl restart")) for c in host.commands)


# maintenance: compaction, defragmentation (a turn of the rolling machinery), disarm


def member_status(revision: int = 2, size: int = 20480, in_use: int = 16384, down=()) -> ClusterView:
    """The lab's members (etcd-1 answers at ENDPOINT, etcd-2 leads) with etcd-1's revision and database sizes."""
    live = plans_data.view(1, 2, 3, leader=2, down=down)
    if 1 not in down:
        live = plans_data.with_status(live, ENDPOINT, revision=revision, db_size=size, db_size_in_use=in_use)
    return live


SLOW = ("--dial-timeout=2s", "--command-timeout=60s")


def test_compact_keeps_the_last_revisions_and_waits_for_the_physical_compaction():
    host = FakeHost(
        {fact(EtcdMembership, endpoint=ENDPOINT): member_status(5000), fact(EtcdCompacted, endpoint=ENDPOINT, revision=4000): False}
    )
    compaction, compacted = run(maintenance.compact, endpoint=ENDPOINT, keep=1000, timeout=60, host=host)
    assert compaction.get_raw_value() == f"{etcdctl(ENDPOINT, timeouts=SLOW)} compact 4000 --physical"
    # then every member of the run is defragmented, even one whose sizes do not show it yet: a
    # follower frees the compacted pages in the background
    member = defrag_host(member_status())
    member.run_state = host.run_state
    assert run(maintenance.defragment, endpoint=ENDPOINT, host=member) == []  # before the compaction ran: not fragmented
    call(compacted, host)
    assert len(run(maintenance.defragment, endpoint=ENDPOINT, host=member)) == 1


def test_compact_second_run_is_a_noop():
    host = FakeHost(
        {fact(EtcdMembership, endpoint=ENDPOINT): member_status(5000), fact(EtcdCompacted, endpoint=ENDPOINT, revision=4000): True}
    )
    assert converged(host, run(maintenance.compact, endpoint=ENDPOINT, keep=1000, timeout=60, host=host))
    assert host.noops == ["the history before revision 4000 (current 5000 minus 1000) is compacted already"]


def test_compact_with_less_history_than_kept_is_a_noop():
    host = FakeHost({fact(EtcdMembership, endpoint=ENDPOINT): member_status(1001)})
    assert converged(host, run(maintenance.compact, endpoint=ENDPOINT, keep=1000, timeout=60, host=host))
    assert host.asked_for(EtcdCompacted) == []


def test_compact_needs_an_answer():
    host = FakeHost({fact(EtcdMembership, endpoint=ENDPOINT): None})
    with pytest.raises(OperationError, match="does not answer: nothing was compacted"):
        run(maintenance.compact, endpoint=ENDPOINT, keep=1000, host=host)


def test_compacted_is_told_by_a_read_refused_below_the_revision():
    fact_ = EtcdCompacted()
    assert (
        fact_.command(endpoint=ENDPOINT, revision=4000).get_raw_value().endswith("get health --keys-only --rev=3999 2>&1 >/dev/null; true")
    )
    assert fact_.process(["{...}"]) is False
    assert fact_.process(["Error: etcdserver: mvcc: required revision has been compacted"]) is True


def defrag_host(live=None, answered_by=None, shell=None) -> FakeHost:
    live = live or member_status(size=100 << 20, in_use=10 << 20)
    return FakeHost(
        {fact(EtcdMembership, endpoint=ENDPOINT): live, fact(EtcdCluster, endpoint=ENDPOINT): cluster(answered_by)}, shell=shell
    )


def test_defragment_is_a_noop_unless_the_database_is_fragmented():
    host = defrag_host(member_status())
    assert converged(host, run(maintenance.defragment, endpoint=ENDPOINT, host=host))
    assert host.noops == ["database 20 kB, 16 kB in use: not fragmented"]


def test_defragment_at_the_members_turn_through_its_own_endpoint():
    host = defrag_host()
    [command] = run(maintenance.defragment, endpoint=ENDPOINT, timeout=30, host=host)
    call(command, host)
    assert host.commands == [f"{etcdctl(ENDPOINT, timeouts=('--dial-timeout=2s', '--command-timeout=600s'))} defrag"]
    assert "--cluster" not in host.commands[0]  # never every member at once


def test_the_leader_hands_leadership_over_before_its_defragmentation():
    host = defrag_host(answered_by="etcd-2")
    call(run(maintenance.defragment, endpoint=ENDPOINT, timeout=30, host=host)[0], host)
    assert host.commands[0].endswith("move-leader " + cluster().by_peer_url("https://10.10.10.12:2380").hex_id)
    assert host.commands[1].endswith(" defrag")


def test_no_defragmentation_unless_every_member_answers_and_none_after_a_failed_turn():
    host = defrag_host(member_status(down=[3], size=100 << 20, in_use=10 << 20))
    with pytest.raises(OperationError, match="not defragmented: the cluster does not answer within 0 s: member etcd-3 .* does not answer"):
        call(run(maintenance.defragment, endpoint=ENDPOINT, timeout=0, host=host)[0], host)
    assert host.commands == []
    other = defrag_host()
    other.run_state = host.run_state
    with pytest.raises(OperationError, match="not defragmented: the turn of 10.10.10.10 failed earlier in this run"):
        call(run(maintenance.defragment, endpoint=ENDPOINT, timeout=0, host=other)[0], other)
    assert other.commands == []


def test_a_failed_defragmentation_shows_the_journal():
    host = defrag_host(
        shell=lambda command: (False, "", "context deadline exceeded") if command.endswith(" defrag") else (True, "-- journal --", "")
    )
    with pytest.raises(OperationError, match="the defragmentation failed: context deadline exceeded. No other member was defragmented"):
        call(run(maintenance.defragment, endpoint=ENDPOINT, timeout=30, host=host)[0], host)
    assert host.commands[-1].startswith("journalctl -u etcd.service")


@pytest.mark.parametrize("alarms", [(), None])
def test_disarm_only_with_an_alarm(alarms):
    host = FakeHost({fact(EtcdAlarms, endpoint=ENDPOINT): alarms})
    if alarms is None:
        with pytest.raises(OperationError, match="the alarms cannot be read"):
            run(maintenance.disarm, endpoint=ENDPOINT, host=host)
    else:
        assert converged(host, run(maintenance.disarm, endpoint=ENDPOINT, host=host))


def test_disarm_a_nospace_alarm_never_a_corrupt_one():
    host = FakeHost({fact(EtcdAlarms, endpoint=ENDPOINT): (Alarm(1, "NOSPACE"),)})
    assert shell(run(maintenance.disarm, endpoint=ENDPOINT, host=host)) == [f"{etcdctl(ENDPOINT)} alarm disarm >/dev/null"]
    host = FakeHost({fact(EtcdAlarms, endpoint=ENDPOINT): (Alarm(1, "NOSPACE"), Alarm(2, "CORRUPT"))})
    with pytest.raises(OperationError, match="alarm CORRUPT is active: not disarmed"):
        run(maintenance.disarm, endpoint=ENDPOINT, host=host)


# upgrade.upgrade: a turn of the rolling machinery, the new version installed between the gate and the restart


def running_version(version: str) -> ClusterView:
    live = plans_data.view(1, 2, 3, leader=2)
    return plans_data.with_status(live, ENDPOINT, version=version)


def upgrade_host(*versions: str, installed="3.5.15", managers=("apt-get",), shell=None) -> FakeHost:
    """etcd-1 reports these server versions one read after the other (the last one stays)."""
    return FakeHost(
        {
            fact(EtcdMembership, endpoint=ENDPOINT): Changing(*map(running_version, versions)),
            fact(EtcdCluster, endpoint=ENDPOINT): cluster(),
            EtcdVersion: installed,
            **which(*managers),
        },
        shell=shell,
    )


def upgraded(host: FakeHost, **kwargs) -> list:
    return run(upgrade.upgrade, endpoint=ENDPOINT, version="3.5.16", timeout=30, host=host, **kwargs)


def test_upgrade_second_run_is_a_noop():
    host = upgrade_host("3.5.16")
    assert converged(host, upgraded(host))
    assert host.noops == ["etcd 3.5.16 runs already"]


def test_upgrade_installs_the_pinned_version_between_the_health_gate_and_the_restart():
    host = upgrade_host("3.5.15", "3.5.15", "3.5.16")
    call(upgraded(host)[0], host)
    steps = [step(command) for command in host.commands]
    assert steps[0] == "deadline=$(($(date +%s) + 30))" and "endpoint health --cluster" in host.commands[0]
    assert "apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef" in host.commands[1]
    assert "'etcd-server=3.5.16*' 'etcd-client=3.5.16*'" in host.commands[1]
    assert "policy-rc.d" in host.commands[1] and "systemctl disable" not in host.commands[1]  # the package restarts nothing
    assert steps[2:] == ["systemctl restart etcd.service", "deadline=$(($(date +%s) + 30))"]


def test_upgrade_with_dnf_pins_the_version():
    host = upgrade_host("3.5.15", "3.5.15", "3.5.16", managers=("dnf",))
    call(upgraded(host)[0], host)
    assert host.commands[1] == "dnf install -y etcd-3.5.16"


def test_an_installed_target_is_only_restarted():
    host = upgrade_host("3.5.15", "3.5.15", "3.5.16", installed="3.5.16")
    call(upgraded(host)[0], host)
    assert host.commands[1] == "systemctl restart etcd.service"


def test_upgrade_from_a_release_tarball(tmp_path):
    tarball = tmp_path / "etcd-v3.5.16-linux-amd64.tar.gz"
    tarball.write_bytes(b"not really a tarball")
    host = upgrade_host("3.5.15", "3.5.15", "3.5.16", managers=())
    call(upgraded(host, tarball=str(tarball), tarball_sha256="ABCDEF")[0], host)
    [remote] = host.temporaries  # the SSH user's own fresh file, deleted after
    assert host.uploads == {remote: b"not really a tarball"}
    unpack = next(text for text in host.commands if "sha256sum" in text)
    assert unpack.startswith(f"echo 'abcdef  {remote}' | sha256sum -c --quiet && tar -xzf {remote} -C /usr/local/bin")
    assert f"rm -f {remote}" in host.commands


def test_a_member_that_does_not_come_back_with_the_new_version_stops_the_upgrade_and_says_how_to_roll_it_back():
    host = upgrade_host("3.5.15")
    with pytest.raises(OperationError) as error:
        call(upgraded(host)[0], host)
    message = str(error.value)
    assert "10.10.10.10 does not serve again as etcd 3.5.16 within 30 s (it reports 3.5.15); no other member was upgraded" in message
    assert "To roll this member back: reinstall etcd 3.5.15 (apt-get install --allow-downgrades 'etcd-server=3.5.15*'" in message
    assert "then `systemctl restart etcd.service`" in message
    other = upgrade_host("3.5.15")
    other.run_state = host.run_state
    with pytest.raises(OperationError, match="not upgraded: the turn of 10.10.10.10 failed earlier in this run"):
        call(upgraded(other)[0], other)
    assert other.commands == []


def test_a_failed_install_restarts_nothing():
    host = upgrade_host(
        "3.5.15", shell=lambda command: (False, "", "E: Version '3.5.16*' not found") if "apt-get" in command else (True, "", "")
    )
    with pytest.raises(
        OperationError, match="installing etcd 3.5.16 on 10.10.10.10 failed, so etcd was not restarted and 3.5.15 still runs"
    ):
        call(upgraded(host)[0], host)
    assert "systemctl restart etcd.service" not in host.commands


def downgrading(version: str, target: str | None = "3.5.0") -> ClusterView:
    """etcd-1 reports this server version, and (3.6+) the downgrade enabled to target."""
    return plans_data.with_status(running_version(version), ENDPOINT, downgrade=target)


def downgrade_host(*views: ClusterView, installed="3.6.11", managers=("apt-get",), shell=None) -> FakeHost:
    return FakeHost(
        {
            fact(EtcdMembership, endpoint=ENDPOINT): Changing(*views),
            fact(EtcdCluster, endpoint=ENDPOINT): cluster(),
            EtcdVersion: installed,
            **which(*managers),
        },
        shell=shell,
    )


def downgraded(host: FakeHost) -> list:
    return run(upgrade.upgrade, endpoint=ENDPOINT, version="3.5.32", timeout=30, downgrade_to="3.5", host=host)


def test_a_downgrade_turn_installs_the_older_release_once_the_downgrade_is_enabled():
    host = downgrade_host(downgrading("3.6.11"), downgrading("3.6.11"), downgrading("3.6.11"), running_version("3.5.32"))
    call(downgraded(host)[0], host)
    assert "endpoint health --cluster" in host.commands[0]
    assert "--allow-downgrades 'etcd-server=3.5.32*' 'etcd-client=3.5.32*'" in host.commands[1]
    assert host.commands[2] == "systemctl restart etcd.service"


def test_a_downgrade_turn_with_dnf_downgrades_the_package():
    host = downgrade_host(*[downgrading("3.6.11")] * 3, running_version("3.5.32"), managers=("dnf",))
    call(downgraded(host)[0], host)
    assert host.commands[1] == "dnf downgrade -y etcd-3.5.32"


def test_no_downgrade_turn_unless_the_downgrade_is_enabled():
    host = downgrade_host(downgrading("3.6.11", target=None))
    with pytest.raises(
        OperationError, match=r"not downgraded: the cluster's downgrade to 3.5 is not enabled \(`etcdctl downgrade enable 3.5`"
    ):
        call(downgraded(host)[0], host)
    assert len(host.commands) == 1  # the health gate only


def test_a_downgrade_turn_that_does_not_come_back_says_how_to_put_the_newer_release_back():
    host = downgrade_host(downgrading("3.6.11"), managers=("dnf",))
    with pytest.raises(OperationError) as error:
        call(downgraded(host)[0], host)
    assert "no other member was downgraded" in str(error.value)
    assert "To roll this member back: reinstall etcd 3.6.11 (dnf install etcd-3.6.11)" in str(error.value)


def test_a_member_at_the_downgrades_release_is_a_noop():
    host = downgrade_host(running_version("3.5.32"))
    assert converged(host, downgraded(host))


def test_the_downgrade_is_validated_then_enabled_once():
    host = FakeHost({fact(EtcdMembership, endpoint=ENDPOINT): running_version("3.6.11")})
    [command] = shell(run(upgrade.downgrade_enabled, endpoint=ENDPOINT, target="3.5", host=host))
    assert command == f"{etcdctl(ENDPOINT)} downgrade validate 3.5 && {etcdctl(ENDPOINT)} downgrade enable 3.5"
    enabled = FakeHost({fact(EtcdMembership, endpoint=ENDPOINT): downgrading("3.6.11")})
    assert converged(enabled, run(upgrade.downgrade_enabled, endpoint=ENDPOINT, target="3.5", host=enabled))
    other = FakeHost()  # another member of the run: the executor enables it
    assert converged(other, run(upgrade.downgrade_enabled, endpoint=ENDPOINT, target="3.5", through=False, host=other))
    silent = FakeHost({fact(EtcdMembership, endpoint=ENDPOINT): None})
    with pytest.raises(OperationError, match="does not answer: the downgrade was not enabled"):
        run(upgrade.downgrade_enabled, endpoint=ENDPOINT, target="3.5", host=silent)


def test_no_upgrade_in_an_unhealthy_cluster():
    host = upgrade_host("3.5.15", shell=lambda command: (False, "", "member down") if "endpoint health" in command else (True, "", ""))
    with pytest.raises(OperationError, match="not upgraded: the cluster is not healthy before this member's turn: member down"):
        call(upgraded(host)[0], host)
    assert len(host.commands) == 1


# etcd.rbac


def auth(**on) -> AuthState:
    return AuthState(**on)


def test_rbac_second_run_is_a_noop():
    host = FakeHost({fact(EtcdAuth, endpoint=ENDPOINT): auth(root=True)})
    assert converged(host, run(etcd.rbac, endpoint=ENDPOINT, host=host))


@pytest.mark.parametrize(
    "state", [auth(), auth(anonymous=True), auth(anonymous=True, root=True)], ids=["no-answer", "auth-off", "auth-off-root-works"]
)
def test_rbac_enables_and_verifies_authentication(state):
    host = FakeHost({fact(EtcdAuth, endpoint=ENDPOINT): state})
    [command] = shell(run(etcd.rbac, endpoint=ENDPOINT, host=host))
    ctl = etcdctl(ENDPOINT)
    assert f"if ! {ctl} user get root >/dev/null 2>&1; then\n    {ctl} user add root --interactive=false <{paths.PASS}\n" in command
    assert f"\n{ctl} user grant-role root root >/dev/null\n{ctl} auth enable\n" in command and command.startswith("# ")
    assert "\nset -e\n" in command
    assert f"if {etcdctl(ENDPOINT, as_root=False)} get --limit=1 health" in command  # anonymous must now be refused
    assert "exit 1" in command
    assert ROOT_FROM_FILE in command


def test_rbac_refused_root_password_names_the_setting():
    host = FakeHost({fact(EtcdAuth, endpoint=ENDPOINT): auth(refused=True)})
    with pytest.raises(OperationError, match="etcd_root_password"):
        run(etcd.rbac, endpoint=ENDPOINT, host=host)


# etcd.wipe (always acts)


def test_wipe_stops_etcd_and_deletes_its_data():
    host = FakeHost()
    assert shell(run(etcd.wipe, data_dir="/data/etcd $(x)", host=host)) == [
        "SYSTEMCTL_SKIP_SYSV=1 systemctl disable --now --quiet etcd.service 2>/dev/null; rm -rf '/data/etcd $(x)/member' /run/etcd.restart-pending"
    ]
    assert host.asked == []


# etcd.purge


DATA_DIR = "/data/etcd"


def purge_host(active_state="inactive", enabled="disabled", files=(), dirs=(), version=None, managers=()) -> FakeHost:
    host = FakeHost({EtcdService: service(active=active_state, enabled=enabled), EtcdVersion: version, **which(*managers)})
    for path in (paths.UNIT, paths.ENV, paths.RESTART_PENDING, "/usr/local/bin/etcd"):
        host.set(File, {"user": "root", "group": "root", "mode": 644} if path in files else None, path=path)
    for path in (paths.CONF_DIR, DATA_DIR):
        host.set(Directory, {"user": "etcd", "group": "etcd", "mode": 700} if path in dirs else None, path=path)
    return host


def test_purge_removes_everything_of_a_tarball_install():
    host = purge_host(
        "active",
        "enabled",
        files=(paths.UNIT, paths.ENV, paths.RESTART_PENDING, "/usr/local/bin/etcd"),
        dirs=(paths.CONF_DIR, DATA_DIR),
        version="3.5.16",
    )
    assert shell(run(etcd.purge, data_dir=DATA_DIR, remove_data=True, remove_packages=True, host=host)) == [
        "SYSTEMCTL_SKIP_SYSV=1 systemctl disable --now --quiet etcd.service",
        "rm -rf /etc/etcd /etc/systemd/system/etcd.service /etc/profile.d/etcdctl.sh /run/etcd.restart-pending",
        "rm -rf /data/etcd/member && rmdir /data/etcd",  # never anything else of the data dir
        "systemctl daemon-reload",
        "rm -f /usr/local/bin/etcd /usr/local/bin/etcdctl /usr/local/bin/etcdutl",
    ]


@pytest.mark.parametrize(
    "managers, packages, expected",
    [
        (("apt-get",), None, "DEBIAN_FRONTEND=noninteractive apt-get purge -y -q etcd-server etcd-client"),
        (("apt-get",), ["etcd-server"], "DEBIAN_FRONTEND=noninteractive apt-get purge -y -q etcd-server"),
        (("dnf", "yum"), None, "dnf remove -y etcd"),
        (("yum",), None, "yum remove -y etcd"),
    ],
)
def test_purge_uninstalls_packages(managers, packages, expected):
    host = purge_host(version="3.5.16", managers=managers)
    commands = shell(run(etcd.purge, data_dir=DATA_DIR, remove_data=False, remove_packages=True, packages=packages, host=host))
    assert commands == [expected]


def test_purge_keeps_data_and_packages_unless_asked():
    host = purge_host("failed", "enabled", files=(paths.ENV,), dirs=(paths.CONF_DIR, DATA_DIR), version="3.5.16", managers=("apt-get",))
    commands = shell(run(etcd.purge, data_dir=DATA_DIR, remove_data=False, remove_packages=False, host=host))
    assert commands == ["SYSTEMCTL_SKIP_SYSV=1 systemctl disable --now --quiet etcd.service", "rm -rf /etc/etcd /etc/profile.d/etcdctl.sh"]
    assert host.asked_for(Directory) == [{"path": paths.CONF_DIR}]  # the data dir is not even looked at
    assert host.asked_for(EtcdVersion) == []


def test_purge_stops_an_etcd_that_is_still_stopping_before_its_data_goes():
    """A disabled etcd still stopping holds its data: disable --now waits for its end, before the rm."""
    host = purge_host("deactivating", "disabled", dirs=(DATA_DIR,))
    assert shell(run(etcd.purge, data_dir=DATA_DIR, remove_data=True, remove_packages=False, host=host)) == [
        "SYSTEMCTL_SKIP_SYSV=1 systemctl disable --now --quiet etcd.service",
        "rm -rf /data/etcd/member && rmdir /data/etcd",
    ]


def test_purge_second_run_is_a_noop():
    host = purge_host(active_state="inactive", enabled="", managers=("apt-get",))
    assert converged(host, run(etcd.purge, data_dir=DATA_DIR, remove_data=True, remove_packages=True, host=host))


# etcd.client_user


USER = {"endpoint": ENDPOINT, "user": "app", "prefix": "/pg/app/", "password_file": "/etc/etcd/users/app.pass"}


def user_host(**present) -> FakeHost:
    return FakeHost({fact(EtcdUser, **USER): UserState(**present)})


def test_client_user_second_run_is_a_noop():
    host = user_host(user=True, permission=True, role=True, login=True)
    assert converged(host, run(etcd.client_user, **USER, host=host))


def test_client_user_created_with_its_role_limited_to_the_prefix():
    host = user_host()
    create, password = shell(run(etcd.client_user, **USER, host=host))
    ctl = etcdctl(ENDPOINT)
    assert f"{ctl} user add app --interactive=false < /etc/etcd/users/app.pass" in create
    assert f"{ctl} role get app >/dev/null 2>&1 || {ctl} role add app" in create
    assert f"{ctl} role grant-permission app --prefix=true readwrite /pg/app/ && {ctl} user grant-role app app" in create
    assert password == f"{ctl} user passwd app --interactive=false < /etc/etcd/users/app.pass >/dev/null"


def test_client_user_password_set_again_when_it_no_longer_logs_in():
    host = user_host(user=True, permission=True, role=True)
    last = shell(run(etcd.client_user, **USER, host=host))[-1]
    assert last.endswith("user passwd app --interactive=false < /etc/etcd/users/app.pass >/dev/null")


def test_client_user_missing_permission_keeps_the_password():
    host = user_host(user=True, role=True, login=True)
    [command] = shell(run(etcd.client_user, **USER, host=host))
    assert "grant-permission app --prefix=true readwrite /pg/app/" in command and "passwd" not in command


# etcd.snapshot (always acts): saved, read back by etcd, downloaded, compared


SNAPSHOT = b"the snapshot's bytes"


def offline(version: str | None = "3.5.16", etcdutl: bool = True) -> dict:
    """The facts an offline command (snapshot restore or status) chooses its tool by."""
    return {EtcdVersion: version, fact(Which, command="etcdutl"): "/usr/bin/etcdutl" if etcdutl else None}


def snapshot_host(remote: str, status: str = '{"hash": 1, "revision": 9, "totalKey": 20, "totalSize": 20480}', saved: bool = True):
    digest = hashlib.sha256(SNAPSHOT).hexdigest()

    def answer(command: str):
        if "snapshot save" in command:
            return saved, "", "" if saved else "context deadline exceeded"
        if "snapshot status" in command:
            return True, status, ""
        if command.startswith("sha256sum"):
            return True, f"{digest}\n{len(SNAPSHOT)}", ""
        return True, "", ""

    return FakeHost(shell=answer, files={remote: SNAPSHOT})


# where the member's copy is saved: in the first folder mktemp makes (a fresh private one)
REMOTE_SNAPSHOT = "/tmp/etcdkit.dir1/snapshot.db"


def prepared_snapshot(dest: Path, **facts):
    """The snapshot operation's one callback, and the member's temporary file it uses."""
    [command] = run(etcd.snapshot, endpoint=ENDPOINT, dest=str(dest), host=FakeHost(offline(**facts)))
    return command, REMOTE_SNAPSHOT


def test_a_verified_snapshot_is_private_and_counts(tmp_path):
    dest = tmp_path / "backups" / "etcd-20250101T000000Z.db"
    command, remote = prepared_snapshot(dest)
    host = snapshot_host(remote)
    call(command, host)
    assert dest.read_bytes() == SNAPSHOT
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600 and stat.S_IMODE(dest.parent.stat().st_mode) == 0o700
    assert host.commands[0] == 'mktemp -d "${TMPDIR:-/tmp}/etcdkit.XXXXXXXXXX"'  # never a name another user can foresee
    assert host.commands[1] == f"(umask 077 && {etcdctl(ENDPOINT)} snapshot save {remote} >/dev/null)"
    assert host.commands[2] == f"etcdutl snapshot status {remote} -w json"  # chosen by the facts, no shell fallback
    assert host.commands[-1] == "rm -rf /tmp/etcdkit.dir1"
    with active(host, executing=True):
        assert etcd.snapshot_saved(str(dest))


@pytest.mark.parametrize(
    "facts, tool",
    [({"version": "3.4.23", "etcdutl": False}, "etcdctl"), ({"version": "3.6.11", "etcdutl": True}, "etcdutl")],
    ids=["3.4 without etcdutl", "3.6"],
)
def test_a_snapshot_is_read_back_by_the_hosts_offline_tool(tmp_path, facts, tool):
    dest = tmp_path / "etcd.db"
    command, remote = prepared_snapshot(dest, **facts)
    host = snapshot_host(remote)
    call(command, host)
    assert host.commands[2] == f"{tool} snapshot status {remote} -w json"


def test_a_snapshot_on_a_3_5_host_without_etcdutl_is_refused_before_it_is_taken(tmp_path):
    with pytest.raises(OperationError, match=r"etcd 3.6.11 on 10.10.10.10 has no etcdutl, which runs `snapshot status` from etcd 3.5 on"):
        prepared_snapshot(tmp_path / "etcd.db", version="3.6.11", etcdutl=False)


@pytest.mark.parametrize("trouble", ["save fails", "etcd cannot read it", "it holds no key"])
def test_a_snapshot_that_does_not_verify_fails_and_does_not_count(tmp_path, trouble):
    dest = tmp_path / "etcd.db"
    command, remote = prepared_snapshot(dest)
    host = {
        "save fails": snapshot_host(remote, saved=False),
        "etcd cannot read it": snapshot_host(remote, status="not json"),
        "it holds no key": snapshot_host(remote, status='{"totalKey": 0}'),
    }[trouble]
    with pytest.raises((OperationError, ValueError)):
        call(command, host)
    assert host.commands[-1] == "rm -rf /tmp/etcdkit.dir1"  # the member's copy goes in any case
    with active(host, executing=True):
        assert not etcd.snapshot_saved(str(dest))


def test_a_verified_snapshot_gets_its_sidecar(tmp_path):
    dest = tmp_path / "backups" / "etcd-20250101T000000Z.db"
    [command] = run(
        etcd.snapshot, endpoint=ENDPOINT, dest=str(dest), about={"cluster": "etcd", "cluster_id": "51"}, host=FakeHost(offline())
    )
    call(command, snapshot_host(REMOTE_SNAPSHOT))
    sidecar = dest.with_suffix(".json")
    assert json.loads(sidecar.read_text()) == {
        "cluster": "etcd",
        "cluster_id": "51",
        "revision": 9,
        "sha256": hashlib.sha256(SNAPSHOT).hexdigest(),
        "size": len(SNAPSHOT),
    }
    assert stat.S_IMODE(sidecar.stat().st_mode) == 0o600


def test_a_snapshot_that_does_not_verify_gets_no_sidecar(tmp_path):
    dest = tmp_path / "etcd-20250101T000000Z.db"
    [command] = run(etcd.snapshot, endpoint=ENDPOINT, dest=str(dest), about={"cluster": "etcd"}, host=FakeHost(offline()))
    with pytest.raises(OperationError):
        call(command, snapshot_host(REMOTE_SNAPSHOT, status='{"totalKey": 0}'))
    assert not dest.with_suffix(".json").exists()


class FullDisk(FakeHost):
    """A control node whose backups folder fills up: the download writes part of the file, then fails."""

    def get_file(self, remote: str, local: str, **arguments) -> bool:
        with open(local, "wb") as file:
            file.write(self.files[remote][:5])
        raise OSError(28, "No space left on device")


@pytest.mark.parametrize("trouble", ["disk full", "download fails", "it does not verify", "etcd cannot read it"])
def test_a_failed_snapshot_leaves_nothing_in_the_backups_folder(tmp_path, trouble):
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "etcd-20240101T000000Z.db").write_bytes(b"an older one")
    dest = folder / "etcd-20250101T000000Z.db"
    [command] = run(etcd.snapshot, endpoint=ENDPOINT, dest=str(dest), about={"cluster": "etcd"}, host=FakeHost(offline()))
    remote = REMOTE_SNAPSHOT
    host = {
        "disk full": FullDisk(shell=snapshot_host(remote).shell, files={remote: SNAPSHOT}),
        "download fails": FakeHost(shell=snapshot_host(remote).shell),
        "it does not verify": FakeHost(shell=snapshot_host(remote).shell, files={remote: SNAPSHOT[:-1]}),
        "etcd cannot read it": snapshot_host(remote, status="not json"),
    }[trouble]
    with pytest.raises((OperationError, ValueError)):
        call(command, host)
    assert os.listdir(folder) == ["etcd-20240101T000000Z.db"]
    assert host.commands[-1] == "rm -rf /tmp/etcdkit.dir1"
    with active(host, executing=True):
        assert not etcd.snapshot_saved(str(dest))


# etcd.restore: a member's data from a snapshot, with etcdutl (3.5+) or etcdctl (3.4)

MEMBER = Member(host_name="10.10.10.10", seq=1, cluster="etcd", address="10.10.10.10", port=2379, peer_port=2380)
INITIAL = "etcd-1=https://10.10.10.10:2380,etcd-2=https://10.10.10.11:2380"
RESTORE = dict(snapshot="backups/etcd-20250101T000000Z.db", data_dir="/data/etcd", member=MEMBER, initial_cluster=INITIAL)


@pytest.mark.parametrize(
    "version, etcdutl, tool",
    [("3.5.16", True, "etcdutl"), ("3.4.23", False, "etcdctl"), ("3.7.1", True, "etcdutl"), (None, False, "etcdutl")],
    ids=["etcd 3.5", "etcd 3.4", "etcd 3.7", "not installed yet"],
)
def test_restore_uploads_restores_beside_the_data_dir_and_cleans_up(tmp_path, version, etcdutl, tool):
    snapshot = tmp_path / "etcd-20250101T000000Z.db"
    snapshot.write_bytes(b"the snapshot")
    host = FakeHost(offline(version, etcdutl))
    commands = run(etcd.restore, token="etcd-restored-20250102T000000Z", **{**RESTORE, "snapshot": str(snapshot)}, host=host)
    assert [describe(c).split(" ")[0] for c in commands] == ["call", "#", "call"]
    call(commands[0], host)  # through the SSH user's own fresh file, into a copy made private first
    assert host.installed() == {"/data/etcd.restore.db": b"the snapshot"}
    assert host.commands[1].startswith(
        "(umask 077 && touch -- /data/etcd.restore.db) && chmod go-rwx -- /data/etcd.restore.db && cat -- /tmp/etcdkit.file1 > "
    )
    script = commands[1].get_raw_value()
    assert '\ncopy=/data/etcd.restore.db\ndata=/data/etcd\nmember="$data/member"\ntmp=\ntrap \'rm -rf "$tmp" "$copy"\' EXIT\n' in script
    assert 'if [ -e "$member" ]; then\n    echo "$member exists: ' in script
    assert "tmp=$(mktemp -d /data/.etcd-restore.XXXXXX)" in script
    assert (
        f'\n{tool} snapshot restore "$copy" --name etcd-1 --initial-cluster {INITIAL} '
        "--initial-cluster-token etcd-restored-20250102T000000Z --initial-advertise-peer-urls https://10.10.10.10:2380 "
        '--data-dir "$tmp/data"\nmv "$tmp/data/member" "$member"\nchown -R etcd:etcd "$member"\nchmod 700 "$data" "$member"\n'
    ) in script
    assert ("etcdctl snapshot restore" in script) is (tool == "etcdctl")


def test_restore_on_a_3_6_host_without_etcdutl_is_refused():
    with pytest.raises(OperationError, match="etcd 3.6.11 on 10.10.10.10 has no etcdutl, which runs `snapshot restore`"):
        run(etcd.restore, token="t", **RESTORE, host=FakeHost(offline("3.6.11", etcdutl=False)))


def test_restore_quotes_every_value():
    host = FakeHost(offline("3.4.23", etcdutl=False))
    commands = run(etcd.restore, **{**RESTORE, "data_dir": "/data/et cd"}, token="a'$(id)", host=host)
    script = commands[1].get_raw_value()
    assert "--initial-cluster-token 'a'\"'\"'$(id)'" in script
    assert "\ncopy='/data/et cd.restore.db'\ndata='/data/et cd'\n" in script and "mktemp -d /data/.etcd-restore." in script


def test_only_members_restored_in_this_run_count():
    first, second = FakeHost(name="10.10.10.10"), FakeHost(name="10.10.10.11")
    second.run_state = first.run_state  # one run
    for host in (first, second):
        host.set(Which, None, command="etcdutl").set(EtcdVersion, "3.4.23")
    [*_, mark] = run(etcd.restore, token="t", **RESTORE, host=first)
    with active(first, executing=True):
        assert not etcd.restored(["10.10.10.10", "10.10.10.11"])
    call(mark, first)
    with active(first, executing=True):
        assert etcd.restored(["10.10.10.10"]) and not etcd.restored(["10.10.10.10", "10.10.10.11"])
    [*_, mark] = run(etcd.restore, token="t", **RESTORE, host=second)
    call(mark, second)
    with active(first, executing=True):
        assert etcd.restored(["10.10.10.10", "10.10.10.11"])


def test_root_login_check_names_the_password_when_refused():
    [command] = shell(run(etcd.root_logs_in, endpoint=ENDPOINT, refused="set etcd_root_password to the snapshot's", host=FakeHost()))
    assert f"\nif ! out=$({etcdctl(ENDPOINT)} get --limit=1 health 2>&1 >/dev/null); then\n" in command
    assert "*'authentication failed'* | *'invalid auth'*) echo 'set etcd_root_password to the snapshot'\"'\"'s' >&2 ;;" in command
    assert command.endswith("    exit 1\nfi\n")


# membership.member_add, join, member_remove: loops over the member list as JSON


def listed(*entries) -> list[dict]:
    """Member list entries as etcdctl prints them: these started voters (seq) or entries (dict)."""
    return [
        m
        if isinstance(m, dict)
        else {
            "ID": 0xA0 + m,
            "name": f"etcd-{m}",
            "peerURLs": [f"https://10.10.10.{9 + m}:2380"],
            "clientURLs": [f"https://10.10.10.{9 + m}:2379"],
        }
        for m in entries
    ]


def members(*entries, leader: int | None = 1) -> ClusterView:
    """The EtcdMembership fact: these members (listed), leader `leader`."""
    entries_ = listed(*entries)
    status = [
        {"Endpoint": m["clientURLs"][0], "Status": {"header": {"member_id": m["ID"]}, "leader": 0xA0 + leader if leader else 0}}
        for m in entries_
        if m.get("clientURLs")
    ]
    listing = {"header": {"cluster_id": 1, "member_id": entries_[0]["ID"]}, "members": entries_}
    return ClusterView.parse(json.dumps(listing), json.dumps(status), "")


def added(new: dict, *entries) -> str:
    """etcd's answer to `member add -w json`: the new member, then the member list that has it."""
    return json.dumps({"header": {"cluster_id": 1, "member_id": 0xA1}, "member": new, "members": listed(*entries)})


NEW = {"ID": 0xA4, "peerURLs": ["https://10.10.10.13:2380"]}  # etcd-4 announced, not started
NEW_LEARNER = {**NEW, "name": "etcd-4", "clientURLs": ["https://10.10.10.13:2379"], "isLearner": True}
NEW_VOTER = {**NEW_LEARNER, "isLearner": False}
LEAVING = "https://10.10.10.12:2380"


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    monkeypatch.setattr(membership.etcdctl, "POLL_INTERVAL", 0)


def membership_host(*views, shell=None) -> FakeHost:
    return FakeHost({fact(EtcdMembership, endpoint=ENDPOINTS): Changing(*views)}, shell=shell)


def announced(host: FakeHost) -> dict:
    with active(host, executing=True):
        return run_context(host.run_state).announced


@pytest.mark.parametrize("learner", [True, False])
def test_member_add_announces_by_peer_url_and_keeps_the_entry_etcd_answers(learner):
    # etcd's answer is the confirmation, whatever etcdctl's client logs on stderr: no member list read after it
    host = membership_host(members(1, 2, 3), shell=lambda c: (True, added(NEW, 1, 2, NEW, 3), '{"level":"warn","msg":"retrying"}'))
    [command] = run(membership.member_add, member=JOINER, endpoints=ENDPOINTS, learner=learner, host=host)
    call(command, host)
    expected = f"{etcdctl(ENDPOINTS)} member add etcd-4 --peer-urls=https://10.10.10.13:2380 -w json" + (" --learner" if learner else "")
    assert host.commands == [expected]
    assert announced(host)["https://10.10.10.13:2380"].entry.id == 0xA4


def test_member_add_of_an_announced_member_is_a_noop_that_keeps_its_entry():
    host = membership_host(members(1, 2, 3, NEW))
    assert converged(host, run(membership.member_add, member=JOINER, endpoints=ENDPOINTS, learner=True, host=host))
    assert announced(host) == {}  # previewed: nothing kept
    host = membership_host(members(1, 2, 3, NEW))
    assert converged(host, run(membership.member_add, member=JOINER, endpoints=ENDPOINTS, learner=True, host=host, executing=True))
    assert announced(host)["https://10.10.10.13:2380"].entry.id == 0xA4


def test_member_add_waits_out_an_unhealthy_cluster_and_fails_on_anything_else():
    answers = iter([(False, "", "etcdserver: unhealthy cluster"), (True, added(NEW, 1, 2, 3, NEW), "")])
    host = membership_host(members(1, 2, 3), shell=lambda c: next(answers))
    call(run(membership.member_add, member=JOINER, endpoints=ENDPOINTS, learner=True, host=host)[0], host)
    assert len(host.commands) == 2
    refused = membership_host(members(1, 2, 3), shell=lambda c: (False, "", "etcdserver: peer URL exists"))
    with pytest.raises(OperationError, match="etcd refused to add etcd-4: etcdserver: peer URL exists"):
        call(run(membership.member_add, member=JOINER, endpoints=ENDPOINTS, learner=True, host=refused)[0], refused)


def test_a_refused_member_add_that_took_effect_is_not_made_again():
    # the add timed out on the client, but etcd applied it: the member list read after the refusal has it
    host = membership_host(members(1, 2, 3), members(1, 2, 3, NEW), shell=lambda c: (False, "", "context deadline exceeded"))
    call(run(membership.member_add, member=JOINER, endpoints=ENDPOINTS, learner=True, host=host)[0], host)
    assert len(host.commands) == 1
    assert announced(host)["https://10.10.10.13:2380"].entry.id == 0xA4


def test_member_add_fails_when_etcd_answers_without_the_member_or_no_member_answers():
    host = membership_host(members(1, 2, 3), shell=lambda c: (True, added(NEW, 1, 2, 3), ""))
    with pytest.raises(OperationError, match="etcd's answer to the member add of etcd-4 does not list it"):
        call(run(membership.member_add, member=JOINER, endpoints=ENDPOINTS, learner=True, host=host)[0], host)
    host = membership_host(members(1, 2, 3), None, shell=lambda c: (False, "", "context deadline exceeded"))
    with pytest.raises(OperationError, match="no member answers"):
        call(run(membership.member_add, member=JOINER, endpoints=ENDPOINTS, learner=True, host=host)[0], host)


def test_join_starts_and_promotes_through_the_leader_it_reads():
    host = membership_host(members(1, 2, 3, NEW_LEARNER), members(1, 2, 3, NEW_LEARNER, leader=2))
    [command] = run(membership.join, member=JOINER, endpoints=ENDPOINTS, timeout=120, host=host)
    call(command, host)
    assert host.commands == [
        "SYSTEMCTL_SKIP_SYSV=1 systemctl enable --quiet etcd.service && systemctl start --no-block etcd.service",
        f"{etcdctl('https://10.10.10.11:2379', timeouts=POLL_TIMEOUTS)} member promote a4",
        f"{etcdctl('https://10.10.10.13:2379', timeouts=POLL_TIMEOUTS)} endpoint health",
        f"{etcdctl(ENDPOINTS, timeouts=POLL_TIMEOUTS)} endpoint health --cluster",
    ]


NOT_READY = (False, "", "Error: etcdserver: can only promote a learner member which is in sync with leader")


def test_join_promotes_through_the_leader_its_member_add_saw_until_the_learner_caught_up():
    promotions = iter([NOT_READY, NOT_READY, (True, "", "")])
    # the member add's decision reads the member list (leader etcd-1); the join reads none: it tries the promotion
    host = membership_host(members(1, 2, 3, NEW_LEARNER), shell=lambda c: next(promotions) if "member promote" in c else (True, "", ""))
    assert converged(host, run(membership.member_add, member=JOINER, endpoints=ENDPOINTS, learner=True, host=host, executing=True))
    [command] = run(membership.join, member=JOINER, endpoints=ENDPOINTS, timeout=120, host=host)
    call(command, host)
    promote = f"{etcdctl('https://10.10.10.10:2379', timeouts=POLL_TIMEOUTS)} member promote a4"
    assert host.commands[1:4] == [promote, promote, promote]
    assert host.asked.count(fact(EtcdMembership, endpoint=ENDPOINTS)) == 1


def test_any_other_refusal_of_the_promotion_reads_the_member_list_for_the_leader_again():
    promotions = iter([(False, "", "context deadline exceeded"), (True, "", "")])
    views = (members(1, 2, 3, NEW_LEARNER), members(1, 2, 3, NEW_LEARNER, leader=3))  # leadership moved to etcd-3
    host = membership_host(*views, shell=lambda c: next(promotions) if "member promote" in c else (True, "", ""))
    assert converged(host, run(membership.member_add, member=JOINER, endpoints=ENDPOINTS, learner=True, host=host, executing=True))
    call(run(membership.join, member=JOINER, endpoints=ENDPOINTS, timeout=120, host=host)[0], host)
    assert [c for c in host.commands if "member promote" in c] == [
        f"{etcdctl(url, timeouts=POLL_TIMEOUTS)} member promote a4" for url in ("https://10.10.10.10:2379", "https://10.10.10.12:2379")
    ]


def test_a_voter_added_as_such_is_not_promoted_and_must_serve():
    host = membership_host(members(1, 2, 3, NEW_VOTER))
    call(run(membership.join, member=JOINER, endpoints=ENDPOINTS, timeout=120, host=host)[0], host)
    assert not any("member promote" in c for c in host.commands) and "endpoint health" in host.commands[1]


def test_a_join_that_never_serves_is_undone():
    def answer(command: str):
        return (False, "", "unit failed") if command.startswith("SYSTEMCTL_SKIP_SYSV=1 systemctl enable") else (True, "-- journal --", "")

    host = membership_host(members(1, 2, 3, NEW), shell=answer)
    with pytest.raises(
        OperationError, match="etcd-4 did not join: systemd could not start etcd: unit failed; its member entry was removed"
    ):
        call(run(membership.join, member=JOINER, endpoints=ENDPOINTS, timeout=120, host=host)[0], host)
    assert f"{etcdctl(ENDPOINTS)} member remove a4" in host.commands
    assert "SYSTEMCTL_SKIP_SYSV=1 systemctl disable --now --quiet etcd.service" in host.commands


def test_a_join_without_an_announced_member_fails_before_starting_anything():
    host = membership_host(members(1, 2, 3))
    with pytest.raises(OperationError, match="not in the member list: the member add did not happen"):
        call(run(membership.join, member=JOINER, endpoints=ENDPOINTS, timeout=120, host=host)[0], host)
    assert host.commands == []


def remove(host: FakeHost, leads: bool = False) -> list:
    return run(
        membership.member_remove,
        peer_url=LEAVING,
        endpoints=ENDPOINTS,
        leader_endpoint="https://10.10.10.12:2379" if leads else None,
        successor="a1" if leads else None,
        host=host,
    )


@pytest.mark.parametrize("leads", [True, False])
def test_member_remove_hands_leadership_over_and_confirms_the_removal(leads):
    host = membership_host(members(1, 2, 3), members(1, 2, 3), members(1, 2))
    [command] = remove(host, leads)
    with active(host, executing=True):
        assert not membership.removal_confirmed(LEAVING)
    call(command, host)
    assert host.commands[-1] == f"{etcdctl(ENDPOINTS)} member remove a3"
    assert (host.commands[0] == f"{etcdctl('https://10.10.10.12:2379')} move-leader a1") is leads
    with active(host, executing=True):
        assert membership.removal_confirmed(LEAVING)


def test_member_remove_fails_when_the_member_list_cannot_be_read():
    host = membership_host(members(1, 2, 3), None)
    [command] = remove(host)
    with pytest.raises(OperationError, match="no member answers"):
        call(command, host)


def test_member_remove_of_a_departed_member_is_a_noop():
    host = membership_host(members(1, 2))
    assert converged(host, remove(host))


# files.upload


DEST = paths.CONF


def upload_host(content: bytes | None = None, owner=("etcd", "etcd", 644), dest=DEST) -> FakeHost:
    """A host where dest holds content (None: no file) with that owner, group and mode."""
    current = None if content is None else dict(zip(("user", "group", "mode"), owner, strict=True))
    digest = None if content is None else hashlib.sha256(content).hexdigest()
    return FakeHost({fact(File, path=dest): current, fact(Sha256File, path=dest): digest})


@pytest.mark.parametrize("sudo", [False, True], ids=["as root", "with sudo"])
def test_upload_new_file_goes_through_a_private_temporary_file(sudo):
    host = upload_host()
    commands = run(upload, source="name: etcd-1\n", dest=DEST, user="etcd", group="etcd", mode="644", host=host)
    assert [describe(c) for c in commands] == ["call _install", f"chown etcd:etcd {DEST} && chmod 644 {DEST}"]
    host.current_op_global_arguments = {"_sudo": True} if sudo else {}
    assert uploaded(commands, host) == {DEST: "name: etcd-1\n"}
    # a fresh file of the SSH user's own (mktemp, not sudo), copied by root over a destination made private first
    [temporary] = host.temporaries
    assert host.commands == [
        'mktemp "${TMPDIR:-/tmp}/etcdkit.XXXXXXXXXX"',
        f"(umask 077 && touch -- {DEST}) && chmod go-rwx -- {DEST} && cat -- {temporary} > {DEST}; status=$?; rm -f {temporary}; exit $status",
    ]
    assert host.privileged == ([host.commands[1]] if sudo else [])
    assert temporary != FakeHost().get_temp_filename(DEST)  # pyinfra's name, which anyone can foresee


def test_an_upload_that_cannot_be_written_fails():
    host = upload_host()
    host.shell = lambda command: (False, "", "cat: write error: No space left on device")
    [write, _] = run(upload, source="name: etcd-1\n", dest=DEST, user="etcd", group="etcd", mode="644", host=host)
    with pytest.raises(OperationError, match=f"writing {DEST} failed: cat: write error: No space left on device"):
        call(write, host)


def test_upload_second_run_is_a_noop():
    host = upload_host(b"name: etcd-1\n")
    assert converged(host, run(upload, source="name: etcd-1\n", dest=DEST, user="etcd", group="etcd", mode="644", host=host))


def test_upload_same_content_fixes_owner_and_mode_only():
    host = upload_host(b"name: etcd-1\n", owner=("root", "root", 664))
    commands = run(upload, source="name: etcd-1\n", dest=DEST, user="etcd", group="etcd", mode="644", host=host)
    assert [describe(c) for c in commands] == [f"chown etcd:etcd {DEST} && chmod 644 {DEST}"]


def test_upload_changed_content_is_rewritten():
    host = upload_host(b"name: etcd-0\n")
    commands = run(upload, source="name: etcd-1\n", dest=DEST, user="etcd", group="etcd", mode="644", host=host)
    assert uploaded(commands, host) == {DEST: "name: etcd-1\n"}


def test_upload_reads_a_control_node_file_when_the_operation_runs(tmp_path):
    source = tmp_path / "etcd-1.key"
    key = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIFakeKeyMaterial0123456789\n-----END EC PRIVATE KEY-----\n"
    host = upload_host(dest=paths.KEY)
    with active(host, executing=True):
        generator = steps(upload, source=source, dest=paths.KEY, user="etcd", group="etcd", mode="600")
        source.write_text(key)  # written by the control-node operation, after the deploy was prepared
        commands = list(generator)
    assert uploaded(commands, host) == {paths.KEY: key}
    secret_only_in_uploads(commands, "MHcCAQEEIFakeKeyMaterial0123456789", host)


def test_upload_of_a_file_the_control_node_rewrites_is_shown_as_a_change(tmp_path):
    source = tmp_path / "etcd-1.crt"
    source.write_text("the certificate due for renewal\n")
    host = upload_host(b"the certificate due for renewal\n", owner=("root", "etcd", 644), dest=paths.CERT)
    control_node_rewrites(host.run_state, {source})
    prepared = run(upload, source=source, dest=paths.CERT, user="root", group="etcd", mode="644", host=host)
    assert shell(prepared) == [f": '{paths.CERT} gets a file the control node writes when the run executes'"]
    source.write_text("the renewed certificate\n")  # the control-node operation ran
    executed = run(upload, source=source, dest=paths.CERT, user="root", group="etcd", mode="644", host=host, executing=True)
    assert uploaded(executed, host) == {paths.CERT: "the renewed certificate\n"}


NOT_WRITTEN = [Path("/nonexistent/pki/etcd/etcd-1.key"), Secret(Path("/nonexistent/pki/etcd/root.password"))]


@pytest.mark.parametrize("source", NOT_WRITTEN, ids=["path", "generated-secret"])
def test_upload_of_a_source_not_written_yet(source):
    host = upload_host(dest=paths.KEY)
    prepared = run(upload, source=source, dest=paths.KEY, user="etcd", group="etcd", mode="600", host=host)
    assert shell(prepared) == [f": '{paths.KEY} gets a file the control node writes when the run executes'"]
    assert host.noops == []  # a change is announced, not hidden
    with pytest.raises(OperationError, match=f"was not written on the control node: nothing to upload to {paths.KEY}"):
        run(upload, source=source, dest=paths.KEY, user="etcd", group="etcd", mode="600", host=host, executing=True)


def test_upload_of_a_configured_password():
    password = "Corr3ct-H0rse-Battery"
    host = upload_host(dest=paths.PASS)
    source = Secret(Path("/nonexistent/root.password"), password)
    commands = run(upload, source=source, dest=paths.PASS, user="root", group="etcd", mode="640", host=host)
    secret_only_in_uploads(commands, password, host)
    assert password not in repr(host.asked) and password not in repr(source)  # facts' arguments are printed with -vvv


def test_upload_of_a_generated_password_is_read_from_its_file(tmp_path):
    kept = tmp_path / "root.password"
    kept.write_text("generated-0123456789abcdef\n")
    host = upload_host(b"generated-0123456789abcdef", owner=("root", "etcd", 640), dest=paths.PASS)
    assert converged(host, run(upload, source=Secret(kept), dest=paths.PASS, user="root", group="etcd", mode="640", host=host))
    changed = upload_host(b"an older password", owner=("root", "etcd", 640), dest=paths.PASS)
    secret_only_in_uploads(
        run(upload, source=Secret(kept), dest=paths.PASS, user="root", group="etcd", mode="640", host=changed),
        "generated-0123456789abcdef",
        changed,
    )


# yaml.yaml_keys


PATRONI = "/etc/patroni/patroni.yml"
TARGET = "/pg/conf/pg-test-1.yml"  # Pigsty links Patroni's config to its instance's file
SECRET_KEYS = ("etcd3.password",)
PIGSTY_PATRONI = """\
#==============================================================#
# File      :   patroni.yml (written by Pigsty)
#==============================================================#
---
scope: pg-test   # the PostgreSQL cluster
name: pg-test-1

etcd3:
  hosts: '10.10.10.10:2379'
  username: 'pg-test'
  password: 'pg-test'

postgresql:
  pg_hba:
    - host    all  all       0.0.0.0/0     scram-sha-256  # a long rule that must never be folded onto two lines
"""


def patroni_values(password) -> dict:
    return {"etcd3.hosts": ["10.10.10.10:2379", "10.10.10.11:2379"], "etcd3.username": "app", "etcd3.password": password}


def yaml_host(current, text: str | None = PIGSTY_PATRONI, found: dict | None = None) -> FakeHost:
    """A client host whose config PATRONI leads to TARGET, postgres' (the script reads it as
    postgres); text: what the script reads there (None: it cannot)."""

    def answer(command: str):
        if command.startswith(f"python3 -c {shlex.quote(CONFIG_FILE)} read "):
            return (True, json.dumps(text), "") if text is not None else (False, "", f"[Errno 13] Permission denied: '{TARGET}'")
        return True, "", ""

    located = ConfigLocation(target=TARGET, user="postgres", group="postgres", mode="640", writer="postgres", refused=None)
    return FakeHost(
        {
            fact(YamlKeys, path=PATRONI, keys=tuple(patroni_values(None)), secrets=SECRET_KEYS): current,
            fact(ConfigFile, path=PATRONI): dataclasses.replace(located, **(found or {})),
        },
        shell=answer,
    )


def test_yaml_keys_second_run_is_a_noop():
    host = yaml_host(hashed(patroni_values("pg-Secret-42"), SECRET_KEYS))
    values = patroni_values(Secret(Path("/nonexistent/app.password"), "pg-Secret-42"))
    commands = run(yaml_keys, path=PATRONI, values=values, secrets=SECRET_KEYS, host=host)
    assert converged(host, commands)


@pytest.mark.parametrize("sudo", [False, True], ids=["as root", "with sudo"])
def test_yaml_keys_edits_the_file_of_the_link_on_the_control_node_keeping_its_comments(sudo):
    old = {**patroni_values("pg-Secret-42"), "etcd3.hosts": ["10.10.10.10:2379"]}
    host = yaml_host(hashed(old, SECRET_KEYS))
    values = patroni_values(Secret(Path("/nonexistent/app.password"), "pg-Secret-42"))
    [command] = run(yaml_keys, path=PATRONI, values=values, secrets=SECRET_KEYS, host=host)
    assert isinstance(command, FunctionCommand)
    assert "pg-Secret-42" not in repr(command)  # what -vvv would print of it
    host.current_op_global_arguments = {"_sudo": True} if sudo else {}
    call(command, host)
    script = f"python3 -c {shlex.quote(CONFIG_FILE)}"
    [upload] = host.temporaries  # a fresh private file of the SSH user's own, never a name another user can foresee
    assert host.commands == [
        f"{script} read {PATRONI}",  # read and written by the script as the user it decides (postgres here)
        'mktemp "${TMPDIR:-/tmp}/etcdkit.XXXXXXXXXX"',
        f"{script} write {PATRONI} < {upload}; status=$?; rm -f {upload}; exit $status",
    ]
    assert host.privileged == ([host.commands[0], host.commands[2]] if sudo else [])
    assert host.uploads[upload].decode() == PIGSTY_PATRONI.replace(
        "  hosts: '10.10.10.10:2379'\n  username: 'pg-test'\n  password: 'pg-test'\n",
        "  hosts:\n    - 10.10.10.10:2379\n    - 10.10.10.11:2379\n  username: 'app'\n  password: 'pg-Secret-42'\n",
    )
    assert all("pg-Secret-42" not in command for command in host.commands)


def test_yaml_keys_a_file_that_cannot_be_read_fails():
    host = yaml_host(hashed(patroni_values("old"), SECRET_KEYS), text=None)
    [command] = run(yaml_keys, path=PATRONI, values=patroni_values("new"), secrets=SECRET_KEYS, host=host)
    with pytest.raises(OperationError, match=f"reading {PATRONI} failed: .Errno 13. Permission denied"):
        call(command, host)
    assert host.temporaries == []  # nothing written


def test_yaml_keys_refuses_a_file_of_root_reached_through_a_folder_another_user_can_change():
    refused = f"{PATRONI} leads to /etc/shadow, a file of root's, through /etc/patroni, which postgres can change: etcdkit ..."
    host = yaml_host(hashed(patroni_values("old"), SECRET_KEYS), found={"target": "/etc/shadow", "user": "root", "refused": refused})
    with pytest.raises(OperationError, match="a file of root's, through /etc/patroni, which postgres can change"):
        run(yaml_keys, path=PATRONI, values=patroni_values("new"), secrets=SECRET_KEYS, host=host)


def test_yaml_keys_missing_file_fails():
    host = yaml_host(None)
    with pytest.raises(OperationError, match=f"{PATRONI} does not exist"):
        run(yaml_keys, path=PATRONI, values=patroni_values("pw"), secrets=SECRET_KEYS, host=host)


def test_yaml_keys_password_not_generated_yet():
    host = yaml_host(hashed(patroni_values("old-password"), SECRET_KEYS))
    values = patroni_values(Secret(Path("/nonexistent/pki/etcd/app.password")))
    assert shell(run(yaml_keys, path=PATRONI, values=values, secrets=SECRET_KEYS, host=host)) == [
        f": '{PATRONI} gets passwords the control node generates when the run executes'"
    ]
    with pytest.raises(OperationError, match="was not written on the control node"):
        run(yaml_keys, path=PATRONI, values=values, secrets=SECRET_KEYS, host=host, executing=True)


# prometheus.targets


SD_DIR = "/etc/prometheus/targets/etcd"


def target(name: str) -> str:
    return f'- labels: {{cls: etcd, ins: {name}}}\n  targets: ["10.10.10.1{name[-1]}:2379"]\n'


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def targets_host(current: dict) -> FakeHost:
    return FakeHost({fact(TargetFiles, directory=SD_DIR, cluster="etcd"): current})


def test_targets_written_when_missing():
    files = {"etcd-2.yml": target("etcd-2"), "etcd-1.yml": target("etcd-1")}
    host = targets_host({})
    commands = run(prometheus.targets, directory=SD_DIR, cluster="etcd", files=files, host=host)
    assert [describe(c) for c in commands] == [
        f"upload {SD_DIR}/etcd-1.yml",
        f"chmod 644 {SD_DIR}/etcd-1.yml",
        f"upload {SD_DIR}/etcd-2.yml",
        f"chmod 644 {SD_DIR}/etcd-2.yml",
    ]
    assert body(commands[0]) == target("etcd-1")
    assert commands[0].remote_temp_filename == host.get_temp_filename(f"{SD_DIR}/etcd-1.yml")


def test_targets_second_run_is_a_noop():
    files = {"etcd-1.yml": target("etcd-1"), "etcd-2.yml": target("etcd-2")}
    host = targets_host({name: sha(text) for name, text in files.items()})
    assert converged(host, run(prometheus.targets, directory=SD_DIR, cluster="etcd", files=files, host=host))


def test_targets_of_changed_and_departed_members():
    files = {"etcd-1.yml": target("etcd-1"), "etcd-2.yml": target("etcd-2")}
    host = targets_host({"etcd-1.yml": sha(target("etcd-1")), "etcd-2.yml": sha("old"), "etcd-3.yml": sha(target("etcd-3"))})
    commands = run(prometheus.targets, directory=SD_DIR, cluster="etcd", files=files, host=host)
    assert [describe(c) for c in commands] == [
        f"upload {SD_DIR}/etcd-2.yml",
        f"chmod 644 {SD_DIR}/etcd-2.yml",
        f"rm -f {SD_DIR}/etcd-3.yml",
    ]


def test_targets_leave_another_cluster_alone(tmp_path):
    files = {"etcd-1.yml": target("etcd-1")}
    for name, text in {**files, "etcd-pg-1.yml": target("etcd-pg-1")}.items():
        (tmp_path / name).write_text(text)
    # the fact as the host would answer it: its own command, run on these files
    output = subprocess.run(
        ["sh", "-c", TargetFiles().command(directory=str(tmp_path), cluster="etcd").get_raw_value()],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    host = FakeHost({fact(TargetFiles, directory=str(tmp_path), cluster="etcd"): TargetFiles().process(output)})
    assert converged(host, run(prometheus.targets, directory=str(tmp_path), cluster="etcd", files=files, host=host))


def test_prometheus_setup_tells_an_earlier_etcdkit_rules_file_from_the_sites_own(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "prometheus.yml").write_text("scrape_configs:\n  - job_name: etcd-etcd\n")

    def read():
        command = PrometheusSetup().command(directory=str(tmp_path), cluster="etcd").get_raw_value()
        output = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True).stdout.splitlines()
        return PrometheusSetup().process(output)

    (tmp_path / "rules" / "etcd.yml").write_text("groups: []  # the site's own\n")
    assert (read().job_inline, read().old_rules) == (True, False)
    (tmp_path / "rules" / "etcd.yml").write_text((Path(__file__).resolve().parents[2] / "templates/prometheus/etcd-alerts.yml").read_text())
    assert read().old_rules is True
    output = ["version=prometheus, version 2.42.0+ds (branch: debian/sid, revision: 2.42.0+ds-5)"]
    assert PrometheusSetup().process(output) == PrometheusState(version=(2, 42), job_inline=False, old_rules=False)


# control.pki


def control_work(folder: Path) -> ControlWork:
    return ControlWork(
        CASource(folder),
        NOW,
        (CertRequest(folder / "etcd", "etcd-1", "10.10.10.10"),),
        (Secret(folder / "etcd" / "root.password"), Secret(folder / "etcd" / "app.password", "configured")),
    )


def test_pki_writes_nothing_when_prepared_and_everything_when_executed(tmp_path):
    work, host = control_work(tmp_path / "pki"), FakeHost()
    [command] = run(control.pki, work=work, host=host)
    assert isinstance(command, FunctionCommand) and command.function == work.apply and command.args == ()
    assert not (tmp_path / "pki").exists()  # preparing the run wrote nothing
    command.function(*command.args, **command.kwargs)
    second = FakeHost()
    assert converged(second, run(control.pki, work=work, host=second))
    assert host.asked == [] and second.asked == []  # nothing asked of the host


def test_pki_again_when_something_is_missing(tmp_path):
    work = control_work(tmp_path / "pki")
    work.apply()
    (tmp_path / "pki" / "etcd" / "root.password").unlink()
    [command] = run(control.pki, work=work, host=FakeHost())
    assert command.function == work.apply
    more = replace(work, certificates=work.certificates + (CertRequest(tmp_path / "pki" / "etcd", "etcd-2", "10.10.10.11"),))
    work.apply()
    assert [type(c) for c in run(control.pki, work=more, host=FakeHost())] == [FunctionCommand]


# services.take_config (always acts: the caller gates it on a change)


@pytest.mark.parametrize("action", ["reload", "restart"])
def test_take_config_only_touches_a_running_service(action):
    assert shell(run(services.take_config, service="patroni.service", action=action, host=FakeHost())) == [
        f"if systemctl is-active --quiet patroni.service; then systemctl {action} patroni.service; fi"
    ]


def test_take_config_quotes_the_unit():
    [command] = shell(run(services.take_config, service="my unit", action="reload", host=FakeHost()))
    assert "is-active --quiet 'my unit'; then systemctl reload 'my unit'" in command


# services.restart_patroni (a serial operation: the next host only once this one runs again)


def test_restart_patroni_waits_until_it_runs_again():
    [command] = shell(run(services.restart_patroni, service="patroni", api="http://10.10.10.41:8008/patroni", timeout=30, host=FakeHost()))
    assert "\nif ! systemctl is-active --quiet patroni; then\n    exit 0\nfi\nif systemctl restart patroni; then\n" in command
    assert "deadline=$(($(date +%s) + 30))" in command
    read = f"python3 -c {shlex.quote(READ_API)} http://10.10.10.41:8008/patroni 2>/dev/null"
    assert f'if {read} | grep -Eq \'"state": *"running"\'; then\n            exit 0' in command
    assert "echo 'Patroni does not run again 30 s after its restart: see journalctl -u patroni' >&2\nexit 1\n" in command


def test_restart_patroni_over_https_and_a_running_answer_matches():
    [command] = shell(run(services.restart_patroni, service="patroni", api="https://10.10.10.41:8008/patroni", host=FakeHost()))
    assert (
        "deadline=$(($(date +%s) + 300))" in command
        and f"python3 -c {shlex.quote(READ_API)} https://10.10.10.41:8008/patroni 2>/dev/null |" in command
    )
    answer = '{"state": "running", "postmaster_start_time": "2025-01-01", "role": "replica"}'
    assert subprocess.run(["sh", "-c", 'grep -Eq \'"state": *"running"\''], input=answer, text=True).returncode == 0


@pytest.mark.parametrize(
    "output, role",
    [
        ('{"state": "running", "role": "replica", "server_version": 160004}', "replica"),
        ('{"state": "running", "role": "primary"}', "primary"),
        ('{"state": "running", "role": "master"}', "master"),
        ("", None),  # it does not answer
        ("<html>502</html>", None),
    ],
)
def test_patroni_role_from_its_api(output, role):
    assert PatroniRole().process(output.splitlines()) == role
    assert (
        PatroniRole().command(url="http://10.10.10.41:8008/patroni").get_raw_value()
        == f"python3 -c {shlex.quote(READ_API)} http://10.10.10.41:8008/patroni 2>/dev/null || true"
    )


# the operations that always act say so; the others are expected to converge


@pytest.mark.parametrize(
    "operation, idempotent",
    [
        (etcd.install, True),
        (etcd.request_restart, True),
        (etcd.running, True),
        (restart.restart_if_pending, True),
        (etcd.rbac, True),
        (etcd.purge, True),
        (etcd.client_user, True),
        (upload, True),
        (yaml_keys, True),
        (prometheus.targets, True),
        (control.pki, True),
        (maintenance.compact, True),
        (maintenance.defragment, True),
        (maintenance.disarm, True),
        (upgrade.upgrade, True),
        (etcd.wait_healthy, False),
        (etcd.wipe, False),
        (etcd.root_password, False),
        (etcd.snapshot, False),
        (etcd.restore, False),
        (etcd.root_logs_in, False),
        (membership.member_add, False),
        (membership.join, False),
        (membership.member_remove, False),
        (services.take_config, False),
        (services.restart_patroni, False),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_idempotence_is_declared(operation, idempotent):
    assert operation._inner.is_idempotent is idempotent


# the fake itself: it must be able to fail


def test_fake_host_refuses_facts_it_was_not_given():
    host = FakeHost({fact(EtcdAuth, endpoint=ENDPOINT): auth(root=True)})
    with pytest.raises(MissingFact, match="EtcdAuth"):
        run(etcd.rbac, endpoint="https://10.10.10.11:2379", host=host)
    with pytest.raises(TypeError, match="takes no endpoints"):
        host.get_fact(EtcdAuth, endpoints=ENDPOINT)


# etcd.root_password: etcd first, then the control node


def rotation_host(new_logs_in: list[bool], old: tuple[bool, str] = (True, "")) -> FakeHost:
    logins = iter(new_logs_in)
    new_password_file = "/tmp/etcdkit.file1"  # the first file mktemp makes

    def answer(command: str):
        if new_password_file in command and "get --limit=1 health" in command:
            return next(logins), "", ""
        if "get --limit=1 health" in command:
            return old[0], "", old[1]
        return True, "", ""

    return FakeHost(shell=answer)


def rotate(host: FakeHost, secret: Secret) -> None:
    [command] = run(etcd.root_password, endpoint=ENDPOINT, new=secret, host=host)
    call(command, host)


def test_root_password_changes_in_etcd_then_on_the_control_node(tmp_path):
    secret = Secret(tmp_path / "root.password", "n3w-Passw0rd")
    host = rotation_host([False, True])
    rotate(host, secret)
    changes = [c for c in host.commands if "user passwd root" in c]
    [password_file] = host.temporaries
    assert len(changes) == 1 and changes[0].endswith(f"--interactive=false < {password_file} >/dev/null")
    assert secret.path.read_text() == "n3w-Passw0rd" and stat.S_IMODE(secret.path.stat().st_mode) == 0o600
    assert not any("n3w-Passw0rd" in command for command in host.commands)  # only in the uploaded file
    assert host.uploads == {password_file: b"n3w-Passw0rd"}
    assert host.commands[-1] == f"rm -f {password_file}"


def test_with_sudo_the_callbacks_run_as_root_but_the_password_file_is_the_ssh_users(tmp_path):
    secret = Secret(tmp_path / "root.password", "n3w-Passw0rd")
    host = rotation_host([False, True])
    host.current_op_global_arguments = {"_sudo": True, "_sudo_user": None}  # pyinfra --sudo
    rotate(host, secret)
    [password_file] = host.temporaries
    created, *rest, removed = host.commands
    # a fresh file the SSH user makes (mktemp: created exclusively, 0600), never pyinfra's fixed name for it
    assert created == 'mktemp "${TMPDIR:-/tmp}/etcdkit.XXXXXXXXXX"' and created not in host.privileged
    assert password_file != FakeHost().get_temp_filename("etcd-root-password")
    assert "put " + password_file not in host.privileged  # written by the SSH user into its own file
    assert rest and all(command in host.privileged for command in rest)  # etcdctl: as root
    assert removed == f"rm -f {password_file}"


def test_a_rotation_cut_short_is_finished_without_changing_etcd(tmp_path):
    secret = Secret(tmp_path / "root.password", "n3w-Passw0rd")
    host = rotation_host([True])
    rotate(host, secret)
    assert not any("user passwd" in c for c in host.commands) and secret.path.read_text() == "n3w-Passw0rd"


@pytest.mark.parametrize(
    "error, message",
    [
        ("etcdserver: authentication failed, invalid user ID or password", "neither the one in /etc/etcd/etcd.pass nor the new one"),
        ("context deadline exceeded", "does not answer, so root's password cannot change"),
    ],
    ids=["wrong current password", "member down"],
)
def test_a_wrong_current_password_is_told_apart_from_a_member_down(tmp_path, error, message):
    secret = Secret(tmp_path / "root.password", "n3w-Passw0rd")
    host = rotation_host([False], old=(False, error))
    with pytest.raises(OperationError, match=message):
        rotate(host, secret)
    assert not secret.path.exists() and host.commands[-1].startswith("rm -f ")


# etcd.force_new_cluster, gates.passed, EtcdMetrics and EtcdDatabase (the recover SOP)


def test_force_new_cluster_never_writes_the_flag_where_it_would_stay():
    member = Member("10.10.10.11", 2, "etcd", "10.10.10.11", 2379, 2380)
    host = FakeHost(name="10.10.10.11")
    commands = run(etcd.force_new_cluster, member=member, etcd_binary="/usr/bin/etcd", timeout=60, host=host)
    force, wait = shell(commands)
    assert describe(commands[-1]) == "call _mark_forced"
    assert "\nconf=/etc/etcd/etcd.conf\nforced=/run/etcd-force-new-cluster.conf\n" in force
    assert "\ndrop_in=/run/systemd/system/etcd.service.d/force-new-cluster.conf\n" in force
    assert 'cleanup() {\n    rm -f "$drop_in" "$forced"\n    systemctl daemon-reload\n}\ntrap cleanup EXIT\n' in force
    # a copy of etcd.conf in /run with the flag, the unit pointed at it by a drop-in in /run, for one restart
    assert '{ cat "$conf" && echo \'force-new-cluster: true\'; } >"$forced"' in force
    assert "ExecStart=/usr/bin/etcd --config-file=/run/etcd-force-new-cluster.conf" in force
    assert force.endswith("systemctl daemon-reload\nsystemctl restart etcd.service\ntrap - EXIT\ncleanup\nsystemctl restart etcd.service\n")
    assert "> /etc/" not in force and ">> /etc/" not in force and "/etc/systemd" not in force
    assert step(wait) == "deadline=$(($(date +%s) + 60))" and "https://10.10.10.11:2379" in wait
    assert not etcd.forced("10.10.10.11")


def test_only_a_member_forced_in_this_run_counts():
    host = FakeHost(name="10.10.10.11")
    member = Member("10.10.10.11", 2, "etcd", "10.10.10.11", 2379, 2380)
    mark = run(etcd.force_new_cluster, member=member, etcd_binary="/usr/bin/etcd", timeout=60, host=host)[-1]
    with active(host, executing=True):
        assert not etcd.forced("10.10.10.11")
    call(mark, host)
    with active(host, executing=True):
        assert etcd.forced("10.10.10.11") and not etcd.forced("10.10.10.10")


METRICS = [
    "etcd_debugging_mvcc_current_revision 1187",
    "etcd_server_has_leader 0",
    'etcd_server_id{server_id="2a985924cb35343d"} 1',
    "etcd_server_proposals_applied_total 2410",
    "etcd_server_proposals_committed_total 2411",
]


def test_metrics_of_members_asked_side_by_side():
    fact_ = EtcdMetrics()
    output = [
        "endpoint https://10.10.10.10:2379",
        *METRICS,
        "endpoint https://10.10.10.11:2379",
        "endpoint https://10.10.10.12:2379",
        *METRICS[1:],
    ]
    # an endpoint that does not answer is left out; one without the revision is there without it
    assert fact_.process(output) == {
        "https://10.10.10.10:2379": MemberMetrics(
            member_id=0x2A985924CB35343D,
            leader=0,
            applied_index=2410,
            raft_index=2411,
            revision=1187,
        ),
        "https://10.10.10.12:2379": MemberMetrics(
            member_id=0x2A985924CB35343D,
            leader=0,
            applied_index=2410,
            raft_index=2411,
            revision=None,
        ),
    }
    assert fact_.process(["endpoint https://10.10.10.10:2379", *METRICS[2:]]) == {}  # not a member's metrics
    command = fact_.command(endpoints=("https://10.10.10.10:2379", "https://10.10.10.11:2379")).get_raw_value()
    assert command.count("openssl s_client -quiet -connect") == 2 and command.count('; } >"$out/') == 2 and "\nwait\n" in command
    assert "-connect 10.10.10.11:2379 -CAfile /etc/etcd/ca.crt -cert /etc/etcd/server.crt -key /etc/etcd/server.key" in command
    assert "timeout 3 openssl" in command and "trap 'rm -rf \"$out\"' EXIT" in command


def test_the_metrics_command_keeps_a_members_lines_of_each_endpoint(tmp_path):
    """The command run by the shell, with a fake openssl: 10.10.10.10 serves its metrics (among
    others), 10.10.10.11 does not answer."""
    tools = tmp_path / "bin"
    tools.mkdir()
    served = "\\n".join(["# HELP etcd_server_has_leader x", "go_goroutines 12", *METRICS, "etcd_server_has_leader_x 5"])
    fake = (
        "#!/bin/sh\ncat >/dev/null\n"
        f"case \"$4\" in 10.10.10.10:2379) printf 'HTTP/1.0 200 OK\\r\\n\\r\\n{served}\\n' ;; *) exit 1 ;; esac\n"
    )
    (tools / "openssl").write_text(fake)
    (tools / "openssl").chmod(0o755)
    fact_ = EtcdMetrics()
    command = fact_.command(endpoints=("https://10.10.10.10:2379", "https://10.10.10.11:2379")).get_raw_value()
    result = subprocess.run(["sh", "-c", command], env={"PATH": f"{tools}:/usr/bin:/bin"}, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["endpoint https://10.10.10.10:2379", *METRICS, "", "endpoint https://10.10.10.11:2379", ""]
    assert list(fact_.process(result.stdout.splitlines())) == ["https://10.10.10.10:2379"]


def database_tools(
    tmp_path: Path, status: str = '{"hash":1,"revision":1187,"totalKey":310,"totalSize":20480}', fails: bool = False
) -> dict:
    """A PATH with a fake etcdutl that prints `status` for a file that exists (or fails), and the
    environment to run database_status with."""
    tools = tmp_path / "bin"
    tools.mkdir()
    script = tools / "etcdutl"
    body = "echo 'no such db' >&2; exit 1" if fails else f'[ -f "$3" ] && [ "$1 $2" = "snapshot status" ] && echo \'{status}\''
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return {"PATH": f"{tools}:/usr/bin:/bin"}


def read_offline(tmp_path: Path, env: dict, tool: str = "etcdutl"):
    data_dir = tmp_path / "data" / "etcd"
    result = subprocess.run(
        ["sh", "-c", EtcdDatabase().command(data_dir=str(data_dir), tool=tool).get_raw_value()],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return EtcdDatabase().process(result.stdout.splitlines()) if result.stdout.strip() else None


def member_db(tmp_path: Path) -> Path:
    db = tmp_path / "data" / "etcd" / "member" / "snap" / "db"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"bbolt" * 1000)
    return db


def test_a_database_is_read_from_a_copy_that_is_deleted_and_the_live_file_is_untouched(tmp_path):
    db = member_db(tmp_path)
    before = (db.read_bytes(), db.stat().st_mtime_ns)
    assert read_offline(tmp_path, database_tools(tmp_path)) == DatabaseStatus(revision=1187, keys=310, size=20480)
    assert (db.read_bytes(), db.stat().st_mtime_ns) == before
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["etcd"]  # the copy's folder is gone


def test_without_a_database_nothing_is_read(tmp_path):
    (tmp_path / "data" / "etcd").mkdir(parents=True)
    assert read_offline(tmp_path, database_tools(tmp_path)) is None


def test_a_database_that_does_not_read_is_an_error_never_a_reading(tmp_path):
    member_db(tmp_path)
    assert read_offline(tmp_path, database_tools(tmp_path, fails=True)) == DatabaseStatus(error="its database does not read: no such db")
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["etcd"]


def test_a_database_that_changes_while_it_is_copied_is_an_error(tmp_path):
    db = member_db(tmp_path)
    env = database_tools(tmp_path)
    cp = tmp_path / "bin" / "cp"  # a cp during which etcd writes the file
    cp.write_text(f'#!/bin/sh\n/bin/cp "$@" && sleep 0.01 && echo more >> {db}\n')
    cp.chmod(0o755)
    assert read_offline(tmp_path, env) == DatabaseStatus(error="its database changed while it was copied")


def test_no_copy_without_room_for_it(tmp_path, monkeypatch):
    from etcdkit.remote import recovery

    member_db(tmp_path)
    monkeypatch.setattr(recovery, "COPY_MARGIN", 1 << 62)
    found = read_offline(tmp_path, database_tools(tmp_path))
    assert found.error.startswith(f"no room in {tmp_path / 'data'} for a copy of its database (5000 bytes, ")
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["etcd"]


def test_etcd_34_reads_the_copy_with_etcdctl(tmp_path):
    member_db(tmp_path)
    env = database_tools(tmp_path)
    (tmp_path / "bin" / "etcdutl").rename(tmp_path / "bin" / "etcdctl")
    assert read_offline(tmp_path, env, tool="etcdctl").revision == 1187
    assert (
        EtcdDatabase()
        .command(data_dir="/data/etcd", tool="etcdctl")
        .get_raw_value()
        .count('ETCDCTL_API=3 etcdctl snapshot status "$tmp/db" -w json')
        == 1
    )
    assert EtcdDatabase().process(["status=not json"]) == DatabaseStatus(error="unexpected snapshot status: not json")


def test_a_gate_stops_the_host_only_when_the_step_it_waits_for_failed_in_this_run():
    asked = []
    check = lambda: asked.append("checked") or False  # noqa: E731
    host = FakeHost()
    assert converged(host, run(gates.passed, check=check, failure="x", host=host)) and asked == []  # before the run: nothing happened yet
    host = FakeHost()
    assert converged(host, run(gates.passed, check=lambda: True, failure="x", host=host, executing=True))
    host = FakeHost()
    stop = run(gates.passed, check=check, failure="etcd-2 did not become a one-member cluster", host=host, executing=True)
    assert asked == ["checked"] and [describe(c) for c in stop] == ["call _stop"]
    with pytest.raises(OperationError, match="^etcd-2 did not become a one-member cluster$"):
        call(stop[0], host)


# etcd.admin_etcdctl


@pytest.mark.parametrize("installed, version", [("3.5.16", None), ("3.5.30", "3.5.30"), ("3.5.30", "3.5.16")])
def test_an_admin_hosts_etcdctl_of_etcd_version_or_newer_is_kept(installed, version):
    host = FakeHost({EtcdctlVersion: installed})
    assert converged(host, run(etcd.admin_etcdctl, version=version, host=host))


@pytest.mark.parametrize(
    "packages, expected",
    [(None, "'etcd-client=3.5.30*'"), (["etcd-server", "etcd-client"], "'etcd-client=3.5.30*'"), (["etcd"], "'etcd=3.5.30*'")],
    ids=["distribution", "debian", "one package (pigsty)"],
)
def test_an_older_or_missing_etcdctl_becomes_the_client_of_etcd_packages_at_etcd_version(packages, expected):
    """etcdctl before 3.5.29 lists the members for --cluster without a login, which 3.5.28 on refuses."""
    for installed in ("3.5.16", None):
        host = FakeHost({EtcdctlVersion: installed, **which("apt-get")})
        [command] = shell(run(etcd.admin_etcdctl, packages=packages, version="3.5.30", host=host))
        assert f"--force-confold {expected}\n}}\n" in command and "etcd-server" not in command.split("apt-get install")[-1]
        assert "systemctl" not in command and "useradd" not in command  # not a member: no unit, no etcd user


def test_a_missing_etcdctl_without_etcd_version_is_the_distributions():
    host = FakeHost({EtcdctlVersion: None, **which("dnf")})
    assert shell(run(etcd.admin_etcdctl, host=host)) == ["dnf install -y etcd"]


def test_patronis_api_is_read_with_python3_and_nothing_is_said_when_it_does_not_answer():
    """The program of PatroniRole and of the restart's wait, run for real against a stand-in API."""
    import http.server
    import threading

    class Api(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"state": "running", "role": "primary"}')

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.handle_request, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/patroni"
    answered = subprocess.run(["sh", "-c", PatroniRole().command(url=url).get_raw_value()], capture_output=True, text=True, timeout=30)
    assert PatroniRole().process(answered.stdout.splitlines()) == "primary"
    server.server_close()
    silent = subprocess.run(["sh", "-c", PatroniRole().command(url=url).get_raw_value()], capture_output=True, text=True, timeout=30)
    assert (silent.returncode, silent.stdout, silent.stderr) == (0, "", "")
