"""Scheduled backups on the members (etcd_backup_schedule): the rendered script, service and timer,
the script run for real against a fake etcdctl, and the operations that converge or take them off."""

import hashlib
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
from dataclasses import replace
from io import StringIO
from pathlib import Path

import pytest
from etcdkit.facts.etcd import HostFiles
from pyinfra.facts.files import Directory, File, Sha1File
from pyinfra.facts.systemd import SystemdEnabled, SystemdStatus
from pyinfra.operations import files, systemd

from etcdkit.model import backups, paths
from etcdkit.model.host import EtcdHostState, FileStat
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
    host = HostState(MEMBER, make_settings(tmp_path), None)
    membership = Membership("etcd-2=https://10.10.10.11:2380", "https://10.10.10.11:2379")
    assert set(member_files(host, membership, "etcd-1234", "new")) == {paths.CONF, paths.UNIT, paths.ENV}
    host.settings = replace(host.settings, etcd_backup_schedule=SCHEDULE)
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
    assert 'ETCDCTL_USER=root:"$(cat /etc/etcd/etcd.pass)" etcdctl --endpoints=https://10.10.10.11:2379 ' in script


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
# STATUS, and the tool that answered is written to $TOOLS; `endpoint status` says the member's
# database takes DB_SIZE bytes.
case "$*" in
    *"snapshot save "*) for last; do :; done; echo "$*" > "$last.args"; mv "$last.args" "$last" ;;
    *"snapshot status"*) basename "$0" >> "$TOOLS"; echo "$STATUS" ;;
    *"endpoint status"*) printf '[{"Endpoint":"https://10.10.10.11:2379","Status":{"version":"3.5.16","dbSize":%s,"leader":1}}]\n' "$DB_SIZE" ;;
    *) exit 2 ;;
esac
"""
# sleep as the script uses it: the seconds it waited, written down, and no wait
FAKE_SLEEP = '#!/bin/sh\necho "$1" >> "$SLEPT"\n'


def run_script(
    tmp_path,
    status='{"hash":1,"revision":9,"totalKey":3,"totalSize":20480}',
    keep=3,
    existing=(),
    tools=("etcdctl", "etcdutl"),
    db_size=20480,
    environment=None,
    metric_owner=None,
    metric_mode=0o755,
    metric_dir=None,
):
    """The rendered script run here, with etcdctl and etcdutl faked (only those of tools on its PATH,
    with the system's folders) and sleep too: (its result, backup dir, metric dir). The backup
    folder is root's, 0700, as create makes it; the metric folder is metric_owner's (None: root's)
    with metric_mode."""
    backup_dir, bin_dir = tmp_path / "var" / "backups" / "etcd", tmp_path / "bin"
    metric_dir = metric_dir or tmp_path / "textfile"
    bin_dir.mkdir()
    for tool, text in (*((tool, FAKE_ETCDCTL) for tool in tools), ("sleep", FAKE_SLEEP)):
        (bin_dir / tool).write_text(text)
        (bin_dir / tool).chmod(0o755)
    backup_dir.mkdir(parents=True)
    backup_dir.chmod(0o700)
    for name in existing:
        (backup_dir / name).write_text("old")
    if metric_owner or metric_mode != 0o755:
        metric_dir.mkdir()
        metric_dir.chmod(metric_mode)
        if metric_owner:
            account = pwd.getpwnam(metric_owner)
            os.chown(metric_dir, account.pw_uid, account.pw_gid)
    script = tmp_path / "backup.sh"
    script.write_text(
        rendered(tmp_path, etcd_backup_dir_remote=str(backup_dir), etcd_backup_metric_dir=str(metric_dir), etcd_backup_keep=keep)[
            paths.BACKUP_SCRIPT
        ]
    )
    environment = {
        **{key: value for key, value in os.environ.items() if key != "TRIGGER_UNIT"},
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "STATUS": status,
        "TOOLS": str(tmp_path / "tools"),
        "DB_SIZE": str(db_size),
        "SLEPT": str(tmp_path / "slept"),
        **(environment or {}),
    }
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


@pytest.mark.skipif(os.geteuid() != 0, reason="the script checks that its folder is root's")
def test_no_snapshot_without_room_for_it(tmp_path):
    older = [f"etcd-2025010{day}T000000Z.db" for day in (1, 2, 3)]
    result, backup_dir, metric_dir = run_script(tmp_path, keep=1, existing=older, db_size=1 << 60)
    assert result.returncode == 1
    assert re.search(
        rf"etcd-backup: {backup_dir} has \d+ bytes free, fewer than the \d+ a snapshot of this member's \d+-byte database needs",
        result.stderr,
    )
    assert sorted(os.listdir(backup_dir)) == older and not metric_dir.exists()  # nothing written, nothing deleted


@pytest.mark.skipif(os.geteuid() != 0, reason="the script checks that its folder is root's")
@pytest.mark.parametrize("trouble", ["a link", "mode 0755", "another user's"])
def test_a_backup_folder_that_is_not_roots_alone_is_refused_never_chmodded(tmp_path, trouble):
    backup_dir = tmp_path / "var" / "backups" / "etcd"
    backup_dir.parent.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o755)
    if trouble == "a link":
        backup_dir.symlink_to(elsewhere)
    else:
        backup_dir.mkdir(mode=0o755)
        if trouble == "another user's":
            backup_dir.chmod(0o700)
            os.chown(backup_dir, pwd.getpwnam("nobody").pw_uid, -1)
    script = tmp_path / "backup.sh"
    script.write_text(
        rendered(tmp_path, etcd_backup_dir_remote=str(backup_dir), etcd_backup_metric_dir=str(tmp_path / "m"))[paths.BACKUP_SCRIPT]
    )
    before = {path: (path.lstat().st_uid, path.lstat().st_mode) for path in (backup_dir, elsewhere)}
    result = subprocess.run(["sh", str(script)], capture_output=True, text=True)
    assert result.returncode == 1
    assert (
        f"etcd-backup: {backup_dir} is not a folder of root's with mode 0700: fix it with: chown root:root {backup_dir} && chmod 700 {backup_dir}"
        in result.stderr
    )
    assert {path: (path.lstat().st_uid, path.lstat().st_mode) for path in (backup_dir, elsewhere)} == before
    assert os.listdir(elsewhere) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="hands the metric folder to another user")
def test_the_metric_is_written_as_the_owner_of_its_folder(tmp_path):
    walkable = Path(tempfile.mkdtemp(prefix="etcdkit-metric-"))  # a folder its owner can walk to, as /var/lib
    walkable.chmod(0o755)
    try:
        result, _, metric_dir = run_script(tmp_path, metric_owner="nobody", metric_dir=walkable / "textfile")
        assert result.returncode == 0, result.stderr
        metric = metric_dir / paths.BACKUP_METRIC
        assert metric.stat().st_uid == pwd.getpwnam("nobody").pw_uid and stat.S_IMODE(metric.stat().st_mode) == 0o644
        assert os.listdir(metric_dir) == [paths.BACKUP_METRIC]
    finally:
        shutil.rmtree(walkable)


@pytest.mark.skipif(os.geteuid() != 0, reason="the script checks that its folder is root's")
def test_no_metric_is_written_by_root_in_a_folder_others_can_change(tmp_path):
    result, backup_dir, metric_dir = run_script(tmp_path, metric_mode=0o777)
    assert result.returncode == 1
    assert (
        f"etcd-backup: {metric_dir} is writable by users other than root: the metric is not written there (chmod go-w {metric_dir})"
        in result.stderr
    )
    assert os.listdir(metric_dir) == [] and len(backups.snapshots_of(os.listdir(backup_dir), "etcd")) == 1  # the snapshot is kept


@pytest.mark.parametrize("seq, waits", [(1, 0), (2, 120), (3, 240), (15, 1680), (16, 0), (0, 1680)])
def test_the_members_take_their_scheduled_snapshots_two_minutes_apart_by_etcd_seq(tmp_path, seq, waits):
    member = Member(f"10.10.10.{seq}", seq, "etcd", f"10.10.10.{seq}", 2379, 2380)
    files_ = backup_files(member, make_settings(tmp_path, etcd_backup_schedule=SCHEDULE))
    assert f'\nif [ -n "${{TRIGGER_UNIT:-}}" ]; then sleep {waits}; fi\n' in files_[paths.BACKUP_SCRIPT]
    assert "RandomizedDelaySec" not in files_[paths.BACKUP_TIMER]  # no random spread on top of the turns


@pytest.mark.skipif(os.geteuid() != 0, reason="the script checks that its folder is root's")
def test_started_by_its_timer_a_member_waits_its_turn(tmp_path):
    result, backup_dir, _ = run_script(tmp_path, environment={"TRIGGER_UNIT": "etcd-backup.timer"})  # what systemd sets
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "slept").read_text() == "120\n"  # etcd-2's turn
    assert len(backups.snapshots_of(os.listdir(backup_dir), "etcd")) == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="the script checks that its folder is root's")
def test_started_by_hand_it_takes_the_snapshot_at_once(tmp_path):
    result, _, _ = run_script(tmp_path)
    assert result.returncode == 0 and not (tmp_path / "slept").exists()


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_the_rendered_script_is_shellcheck_clean(tmp_path):
    script = tmp_path / "backup.sh"
    script.write_text(rendered(tmp_path)[paths.BACKUP_SCRIPT])
    # SC2010: the retention's `ls | grep`, which only ever sees names it wrote
    checked = subprocess.run(["shellcheck", "-s", "sh", "--exclude=SC2010", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout


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
    """A host holding these of the scheduled backups' files (one HostFiles fact for all of them)."""
    asked = (paths.BACKUP_TIMER, paths.BACKUP_SERVICE, paths.BACKUP_SCRIPT, f"/var/lib/node exporter/{paths.BACKUP_METRIC}")
    files = {path: FileStat("root", "root", 644, "regular file") if path in present else None for path in asked}
    return FakeHost().set(HostFiles, EtcdHostState(files=files), paths=asked)


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
