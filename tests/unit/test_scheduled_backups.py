"""Scheduled backups on the members (etcd_backup_schedule): the rendered script, service and timer,
the script run for real against a fake etcdctl, and the operations that converge or take them off."""

import hashlib
import os
import re
import stat
import subprocess
from io import StringIO

import pytest
from pyinfra.facts.files import Directory, File, Sha1File
from pyinfra.facts.systemd import SystemdEnabled, SystemdStatus
from pyinfra.operations import files, systemd

from etcdkit.model import backups, paths
from etcdkit.model.inventory import Member
from etcdkit.operations import scheduled_backups
from etcdkit.plans.gather import HostState
from etcdkit.plans.memberfiles import Membership, member_files
from etcdkit.remote.memberfiles import backup_files
from tests.unit.fake_host import FakeHost, run, shell
from tests.unit.plans_data import make_settings

MEMBER = Member("10.10.10.11", 2, "etcd", "10.10.10.11", 2379, 2380)
SCHEDULE = "*-*-* 02:30:00"


def rendered(tmp_path, **overrides) -> dict[str, str]:
    settings = make_settings(tmp_path, etcd_backup_schedule=SCHEDULE, **overrides)
    return backup_files(MEMBER, settings)


def test_no_schedule_no_backup_files(tmp_path):
    host = HostState(MEMBER, make_settings(tmp_path), {})
    membership = Membership("etcd-2=https://10.10.10.11:2380", "https://10.10.10.11:2379")
    assert set(member_files(host, membership, "etcd-1234", "new")) == {paths.CONF, paths.UNIT, paths.ENV}
    host.settings["etcd_backup_schedule"] = SCHEDULE
    assert {paths.BACKUP_SCRIPT, paths.BACKUP_SERVICE, paths.BACKUP_TIMER} <= set(member_files(host, membership, "etcd-1234", "new"))


def test_the_timer_runs_the_service_on_the_schedule(tmp_path):
    files_ = rendered(tmp_path)
    timer, service = files_[paths.BACKUP_TIMER], files_[paths.BACKUP_SERVICE]
    assert f"\nOnCalendar={SCHEDULE}\n" in timer and "\nPersistent=true\n" in timer and "\nWantedBy=timers.target" in timer
    assert f"\nExecStart={paths.BACKUP_SCRIPT}\n" in service and "\nType=oneshot\n" in service
    assert os.path.basename(paths.BACKUP_TIMER) == paths.BACKUP_TIMER_UNIT


def test_the_script_quotes_every_value(tmp_path):
    script = rendered(tmp_path, etcd_backup_dir_remote="/srv/etcd backups $(reboot)", etcd_backup_metric_dir="/var/lib/x;y")[
        paths.BACKUP_SCRIPT
    ]
    assert "\ndir='/srv/etcd backups $(reboot)'\n" in script
    assert "\nmetrics='/var/lib/x;y'\n" in script
    assert "grep -E '^etcd-[0-9]{8}T[0-9]{6}Z[.]db$'" in script
    # through the member's own endpoint, as root with the password of etcd.pass (never on the command line)
    assert 'ETCDCTL_USER="root:$(cat /etc/etcd/etcd.pass)" etcdctl --endpoints=https://10.10.10.11:2379 ' in script


@pytest.mark.parametrize("cluster", ["etcd", "etcd.prod", "pg-meta"])
def test_the_scripts_retention_pattern_is_the_control_nodes(cluster):
    names = [
        f"{cluster}-20250101T000000Z.db",
        f"{cluster}-20250101T000000Z.json",
        f"{cluster}-20250101T000000Z.db.keep",
        f"{cluster}-staging-20250101T000000Z.db",
        f"{cluster}x20250101T000000Z.db",
        f"x{cluster}-20250101T000000Z.db",
        f".{cluster}-20250101T000000Z.db.partial",
        "README",
    ]
    grep = subprocess.run(["grep", "-E", backups.grep_pattern(cluster)], input="\n".join(names) + "\n", capture_output=True, text=True)
    assert grep.stdout.split() == backups.snapshots_of(names, cluster)


FAKE_ETCDCTL = """#!/bin/sh
# etcdctl and etcdutl as the script uses them: `snapshot save FILE` writes FILE; `snapshot status` answers
# STATUS, and the tool that answered is written to $TOOLS.
case "$*" in
    *"snapshot save "*) for last; do :; done; echo "$*" > "$last.args"; mv "$last.args" "$last" ;;
    *"snapshot status"*) basename "$0" >> "$TOOLS"; echo "$STATUS" ;;
    *) exit 2 ;;
esac
"""


def run_script(
    tmp_path, status='{"hash":1,"revision":9,"totalKey":3,"totalSize":20480}', keep=3, existing=(), tools=("etcdctl", "etcdutl")
):
    """The rendered script run here, with etcdctl and etcdutl faked (only those of tools on its PATH,
    with the system's folders): (its result, backup dir, metric dir)."""
    backup_dir, metric_dir, bin_dir = tmp_path / "var" / "backups" / "etcd", tmp_path / "textfile", tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        (bin_dir / tool).write_text(FAKE_ETCDCTL)
        (bin_dir / tool).chmod(0o755)
    backup_dir.mkdir(parents=True)
    for name in existing:
        (backup_dir / name).write_text("old")
    script = tmp_path / "backup.sh"
    script.write_text(
        rendered(tmp_path, etcd_backup_dir_remote=str(backup_dir), etcd_backup_metric_dir=str(metric_dir), etcd_backup_keep=keep)[
            paths.BACKUP_SCRIPT
        ]
    )
    environment = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin", "STATUS": status, "TOOLS": str(tmp_path / "tools")}
    result = subprocess.run(["sh", str(script)], capture_output=True, text=True, env=environment)
    return result, backup_dir, metric_dir


@pytest.mark.skipif(os.geteuid() != 0, reason="the script makes its folder root's (chown)")
def test_the_script_saves_a_private_verified_snapshot_keeps_the_newest_and_reports_it(tmp_path):
    older = [f"etcd-2025010{day}T000000Z.db" for day in (1, 2, 3)]
    others = ["etcd-staging-20200101T000000Z.db", "notes.txt"]
    result, backup_dir, metric_dir = run_script(tmp_path, keep=3, existing=older + others)
    assert result.returncode == 0, result.stderr
    snapshots = backups.snapshots_of(os.listdir(backup_dir), "etcd")
    assert snapshots[:2] == older[1:] and len(snapshots) == 3  # the oldest went, the new one is the newest
    assert set(os.listdir(backup_dir)) == {*snapshots, *others}  # nothing else touched, no partial file left
    new = backup_dir / snapshots[-1]
    assert "snapshot save" in new.read_text() and "--endpoints=https://10.10.10.11:2379" in new.read_text()
    assert stat.S_IMODE(new.stat().st_mode) == 0o600 and stat.S_IMODE(backup_dir.stat().st_mode) == 0o700
    metric = (metric_dir / paths.BACKUP_METRIC).read_text()
    assert re.search(r'^etcd_backup_last_success_timestamp_seconds\{cls="etcd"\} \d{10}$', metric, re.M)
    assert stat.S_IMODE((metric_dir / paths.BACKUP_METRIC).stat().st_mode) == 0o644  # the node exporter reads it
    assert os.listdir(metric_dir) == [paths.BACKUP_METRIC]


@pytest.mark.skipif(os.geteuid() != 0, reason="the script makes its folder root's (chown)")
@pytest.mark.parametrize("tools, reader", [(("etcdctl", "etcdutl"), "etcdutl"), (("etcdctl",), "etcdctl")], ids=["etcd 3.5+", "etcd 3.4"])
def test_the_script_reads_the_snapshot_back_with_etcdutl_and_etcdctl_only_without_it(tmp_path, tools, reader):
    result, _, _ = run_script(tmp_path, tools=tools)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "tools").read_text().split() == [reader]


@pytest.mark.skipif(os.geteuid() != 0, reason="the script makes its folder root's (chown)")
@pytest.mark.parametrize("status", ['{"hash":0,"revision":1,"totalKey":0,"totalSize":0}', "not json"], ids=["no keys", "unreadable"])
def test_a_snapshot_that_does_not_verify_is_not_kept_nor_reported(tmp_path, status):
    older = [f"etcd-2025010{day}T000000Z.db" for day in (1, 2, 3)]
    result, backup_dir, metric_dir = run_script(tmp_path, status=status, keep=1, existing=older)
    assert result.returncode != 0 and "does not verify" in result.stderr
    assert sorted(os.listdir(backup_dir)) == older  # retention waits for a verified snapshot
    assert not metric_dir.exists()


# converged: a second create changes nothing of the scheduled backups


def test_a_converged_member_keeps_its_timer_files_and_unit_as_they_are(tmp_path):
    host = FakeHost()
    for folder, owner, mode in (("/etc/etcd", "etcd", 750), ("/etc/systemd/system", "root", 755), ("/var/backups/etcd", "root", 700)):
        host.set(Directory, {"user": "root", "group": owner, "mode": mode}, path=folder)
    assert run(files.directory, path="/var/backups/etcd", user="root", group="root", mode="700", host=host) == []
    for path, content in rendered(tmp_path).items():
        user, group, mode = paths.OWNERS[path]
        host.set(File, {"user": user, "group": group, "mode": int(mode)}, path=path)
        host.set(Sha1File, hashlib.sha1(content.encode()).hexdigest(), path=path)  # what files.put compares
        assert run(files.put, src=StringIO(content), dest=path, user=user, group=group, mode=mode, host=host) == []
    unit = paths.BACKUP_TIMER_UNIT
    for fact_cls in (SystemdStatus, SystemdEnabled):
        host.set(fact_cls, {unit: True}, user_mode=False, machine=None, user_name=None, services=[unit])
    assert run(systemd.service, service=unit, running=True, enabled=True, host=host) == []


# scheduled_backups.removed


def removal_host(*present: str) -> FakeHost:
    host = FakeHost()
    for path in (paths.BACKUP_TIMER, paths.BACKUP_SERVICE, paths.BACKUP_SCRIPT, f"/var/lib/node exporter/{paths.BACKUP_METRIC}"):
        host.set(File, {"user": "root", "group": "root", "mode": 644} if path in present else None, path=path)
    return host


def test_unset_schedule_takes_the_timer_off_with_its_metric():
    host = removal_host(paths.BACKUP_TIMER, paths.BACKUP_SERVICE, paths.BACKUP_SCRIPT, f"/var/lib/node exporter/{paths.BACKUP_METRIC}")
    assert shell(run(scheduled_backups.removed, metric_dir="/var/lib/node exporter", host=host)) == [
        "{ systemctl disable --now --quiet etcd-backup.timer 2>/dev/null || true; } && "
        "rm -f /etc/systemd/system/etcd-backup.timer /etc/systemd/system/etcd-backup.service /etc/etcd/backup.sh "
        "'/var/lib/node exporter/etcd_backup.prom' && systemctl daemon-reload"
    ]


def test_a_left_over_metric_alone_is_deleted():
    host = removal_host(f"/var/lib/node exporter/{paths.BACKUP_METRIC}")
    assert shell(run(scheduled_backups.removed, metric_dir="/var/lib/node exporter", host=host)) == [
        "rm -f '/var/lib/node exporter/etcd_backup.prom'"
    ]


def test_no_scheduled_backups_is_a_noop():
    host = removal_host()
    assert run(scheduled_backups.removed, metric_dir="/var/lib/node exporter", host=host) == []
    assert host.noops == ["no scheduled backups on this member"]
