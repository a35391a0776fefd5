"""Every shell script of templates/scripts/ has a sample that make lint checks with shellcheck, and
each runs here as etcdkit renders it, against stand-in etcdctl, etcdutl, systemctl and the other
programs it calls (tests/unit/scripts.py): what it calls, in which order, and what it leaves."""

import grp
import hashlib
import os
import pwd
import shutil
import subprocess
from pathlib import Path

import pytest
from etcdkit.facts.etcd import EtcdAuth, EtcdCluster, EtcdClusterAuth, EtcdHost, EtcdUser, HostFiles

from etcdkit.model.auth import AuthState, UserState
from etcdkit.model.host import FileStat
from etcdkit.remote import auth, etcdctl, files, host, packages, recovery, services, snapshots
from etcdkit.remote.services import READ_API
from tests.unit.scripts import ENDPOINT, INITIAL, MEMBER, SAMPLES, SCRIPTS, run

DATA = Path(__file__).parent / "data"
ETCD_TOOLS = ("etcdctl", "etcdutl", "systemctl", "journalctl")


def test_every_shell_script_has_a_sample_for_shellcheck():
    assert set(SAMPLES) == {path.name for path in SCRIPTS.glob("*.sh.j2")}
    for name, sample in SAMPLES.items():
        assert "{{" not in sample() and "{%" not in sample(), name


# restore


def restore_in(tmp_path, tool_status: int = 0):
    data_dir, copy = tmp_path / "data" / "etcd", tmp_path / "data" / "etcd.restore.db"
    data_dir.mkdir(parents=True, exist_ok=True)
    copy.write_text("snapshot")
    command = snapshots.restore(str(copy), str(data_dir), MEMBER, INITIAL, "etcd-t", "etcdutl")
    # etcdutl makes the member folder in its --data-dir, the last argument
    answers = {"etcdutl": [("etcdutl snapshot restore *", tool_status, 'for a; do d=$a; done; mkdir -p "$d/member/wal"')]}
    return run(command, tmp_path, ("etcdutl", "chown"), answers), data_dir, copy


def test_restore_moves_the_restored_member_into_the_data_dir_and_deletes_the_copy(tmp_path):
    ran, data_dir, copy = restore_in(tmp_path)
    assert ran.status == 0, ran.stderr
    assert (data_dir / "member" / "wal").is_dir() and not copy.exists()
    assert sorted(path.name for path in data_dir.parent.iterdir()) == ["etcd"]  # no temporary folder left
    assert ran.calls[0] == f"chown etcd:etcd {copy}"
    restore = ran.calls[1]
    assert restore.startswith(f"etcdutl snapshot restore {copy} --name etcd-1 --initial-cluster {INITIAL} --initial-cluster-token etcd-t ")
    assert f"--data-dir {data_dir.parent}/.etcd-restore." in restore
    assert ran.calls[2] == f"chown -R etcd:etcd {data_dir}/member"
    assert oct(data_dir.stat().st_mode & 0o777) == "0o700"


def test_restore_into_a_data_dir_with_member_data_is_refused_and_changes_nothing(tmp_path):
    (tmp_path / "data" / "etcd" / "member").mkdir(parents=True)
    ran, data_dir, copy = restore_in(tmp_path)
    assert ran.status == 1 and "member exists: a snapshot is restored only into a data dir without member data" in ran.stderr
    assert ran.calls == [] and not copy.exists() and list((data_dir / "member").iterdir()) == []


def test_a_failed_restore_leaves_no_member_nor_temporary_folder(tmp_path):
    ran, data_dir, copy = restore_in(tmp_path, tool_status=1)
    assert ran.status == 1 and not (data_dir / "member").exists() and not copy.exists()
    assert sorted(path.name for path in data_dir.parent.iterdir()) == ["etcd"]


# force-new-cluster


def forced(tmp_path, conf_text="name: etcd-1\n", restart_status=0):
    conf, forced_conf, drop_in = (
        tmp_path / "etcd.conf",
        tmp_path / "run" / "forced.conf",
        tmp_path / "run" / "etcd.service.d" / "force.conf",
    )
    forced_conf.parent.mkdir()
    conf.write_text(conf_text)
    command = recovery.force_new_cluster(MEMBER, "/usr/bin/etcd", str(conf), str(forced_conf), str(drop_in))
    # each restart notes whether the drop-in points etcd at the copy with the flag
    seen = f'if [ -f {drop_in} ] && grep -q "^force-new-cluster: true" {forced_conf}; then echo forced; else echo plain; fi >>{tmp_path}/restarts'
    ran = run(command, tmp_path, ("systemctl",), {"systemctl": [("systemctl restart *", restart_status, seen)]})
    return ran, forced_conf, drop_in, tmp_path / "restarts"


def test_force_new_cluster_starts_once_with_the_flag_then_as_the_unit_says_and_leaves_no_flag(tmp_path):
    ran, forced_conf, drop_in, restarts = forced(tmp_path)
    assert ran.status == 0, ran.stderr
    assert ran.calls == [
        "systemctl daemon-reload",
        "systemctl restart etcd.service",
        "systemctl daemon-reload",
        "systemctl restart etcd.service",
    ]
    assert restarts.read_text() == "forced\nplain\n"
    assert not forced_conf.exists() and not drop_in.exists()


def test_a_failed_forced_start_still_deletes_the_flag_and_starts_nothing_more(tmp_path):
    ran, forced_conf, drop_in, restarts = forced(tmp_path, restart_status=1)
    assert ran.status != 0
    assert ran.calls == ["systemctl daemon-reload", "systemctl restart etcd.service", "systemctl daemon-reload"]
    assert not forced_conf.exists() and not drop_in.exists()


def test_an_etcd_conf_that_sets_the_flag_itself_is_refused(tmp_path):
    ran, *_ = forced(tmp_path, conf_text="name: etcd-1\nforce-new-cluster: true\n")
    assert ran.status == 1 and "sets force-new-cluster: remove that line first" in ran.stderr
    assert ran.calls == ["systemctl daemon-reload"]  # only the cleanup's


# the apt install under policy-rc.d


def apt(tmp_path, fresh=True, etcd_user=True, first_install=0, unit=0):
    policy = tmp_path / "policy-rc.d"
    command = packages.apt_install(["etcd-server", "etcd-client"], "3.5.16", fresh, False, etcd_user, policy=str(policy))
    # each install notes what the policy says of a start; only the first one fails (first_install)
    noted = f'{policy}; echo "policy $?" >>{tmp_path}/policy; if [ -f once ]; then exit 0; fi; touch once'
    answers = {
        "apt-get": [("apt-get install *", first_install, noted), ("apt-get update *", 0, "")],
        "systemctl": [("systemctl cat *", unit, "")],
        "getent": [("getent *", 2, "")],
    }
    ran = run(command, tmp_path, ("apt-get", "systemctl", "getent", "groupadd", "useradd"), answers)
    return ran, policy


def test_apt_installs_pinned_with_no_service_starting_and_disables_the_packages_unit(tmp_path):
    ran, policy = apt(tmp_path)
    assert ran.status == 0, ran.stderr
    install = (
        "apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "
        "etcd-server=3.5.16* etcd-client=3.5.16*"
    )
    assert ran.calls == [
        install,
        "systemctl cat etcd.service",
        "SYSTEMCTL_SKIP_SYSV=1 systemctl disable --no-reload --quiet etcd.service",
        "getent group etcd",
        "groupadd --system etcd",
        "getent passwd etcd",
        "useradd --system -g etcd -d /var/lib/etcd -s /usr/sbin/nologin etcd",
    ]
    assert (tmp_path / "policy").read_text() == "policy 101\n"  # every start refused while it ran
    assert not policy.exists()


def test_apt_tries_again_after_an_update_and_a_package_without_a_unit_is_left_alone(tmp_path):
    ran, policy = apt(tmp_path, first_install=100, unit=1, etcd_user=False)
    assert ran.status == 0, ran.stderr
    assert [call.split(" ")[1] for call in ran.calls] == ["install", "update", "install", "cat"]
    assert not policy.exists()


def test_apt_never_replaces_the_operators_policy(tmp_path):
    (tmp_path / "policy-rc.d").write_text("#!/bin/sh\nexit 0\n")
    ran, policy = apt(tmp_path)
    assert ran.status == 1 and "exists: not replacing it" in ran.stderr and ran.calls == []
    assert policy.read_text() == "#!/bin/sh\nexit 0\n"


# waiting for health


def test_wait_healthy_returns_once_etcd_serves_and_fails_with_the_journal_after_the_timeout(tmp_path):
    healthy = run(etcdctl.wait_healthy(ENDPOINT, True, 30), tmp_path, ETCD_TOOLS)
    assert healthy.status == 0 and len(healthy.calls) == 2
    assert healthy.calls[0] == "systemctl is-active etcd.service"
    assert healthy.calls[1].startswith("as root: etcdctl --endpoints=https://10.10.10.10:2379 ")
    assert healthy.calls[1].endswith("--dial-timeout=1s --command-timeout=1s endpoint health --cluster")
    answers = {"etcdctl": [("*endpoint health*", 1, "echo unhealthy >&2")], "journalctl": [("*", 0, "echo the journal")]}
    failed = run(etcdctl.wait_healthy(ENDPOINT, False, 0), tmp_path, ETCD_TOOLS, answers)
    assert failed.status == 1
    assert failed.stderr.startswith(f"etcd at {ENDPOINT} is not healthy after 0 s; its journal:\nthe journal\n")
    assert [call.split(" --")[0] for call in failed.calls] == [  # no time left to wait for the unit
        "as root: etcdctl",
        "journalctl -u etcd.service -n 30",
        "as root: etcdctl",
    ]


def test_wait_healthy_asks_etcd_only_once_its_unit_no_longer_starts(tmp_path):
    # systemd says `inactive` (the start is queued), `activating` (etcd has not told it that it serves), then `active`
    states = "inactive activating active"
    answers = {
        "systemctl": [("*is-active*", 0, f'n=$(cat starts 2>/dev/null || echo 1); echo $((n + 1)) >starts; echo {states} | cut -d" " -f$n')]
    }
    ran = run(etcdctl.wait_healthy(ENDPOINT, False, 30), tmp_path, (*ETCD_TOOLS, "sleep"), answers)
    assert ran.status == 0, ran.stderr
    assert [call.split(" --")[0] for call in ran.calls] == [
        *["systemctl is-active etcd.service", "sleep 0.05"] * 2,
        "systemctl is-active etcd.service",
        "as root: etcdctl",
    ]


def test_restart_patroni_waits_until_its_api_says_running(tmp_path):
    command = services.restart_patroni("patroni", "https://10.10.10.41:8008/patroni", 30)
    answers = {
        "python3": [("*", 0, 'if [ -f done ]; then echo \'{"state": "running"}\'; else touch done; echo \'{"state": "starting"}\'; fi')]
    }
    ran = run(command, tmp_path, ("systemctl", "python3", "sleep"), answers)
    assert ran.status == 0, ran.stderr
    assert ran.calls[:2] == ["systemctl is-active --quiet patroni", "systemctl restart patroni"]
    assert ran.calls[2:] == ["sleep 0.1", f"python3 -c {READ_API} https://10.10.10.41:8008/patroni"] * 2
    stopped = run(command, tmp_path, ("systemctl",), {"systemctl": [("*is-active*", 3, "")]})
    assert stopped.status == 0 and stopped.calls == ["systemctl is-active --quiet patroni"]  # a stopped Patroni stays stopped


# authentication


def test_enable_auth_adds_root_enables_and_checks_that_anonymous_requests_are_refused(tmp_path):
    answers = {"etcdctl": [("as root:* user get root", 1, ""), ("etcdctl * get --limit=1 health", 1, "")]}
    (tmp_path / "pass").write_text("secret")
    ran = run(auth.enable(ENDPOINT, str(tmp_path / "pass")), tmp_path, ("etcdctl",), answers)
    assert ran.status == 0, ran.stderr
    steps = [" ".join(call.split(" ")[:2]) + " " + call.split("--command-timeout=5s ")[1] for call in ran.calls]
    assert steps == [
        "as root: user get root",
        "as root: user add root --interactive=false",
        "as root: user grant-role root root",
        "as root: auth enable",
        "etcdctl --endpoints=https://10.10.10.10:2379 get --limit=1 health",  # anonymous: must be refused
        "as root: get --limit=1 health",
    ]
    still_open = run(auth.enable(ENDPOINT, str(tmp_path / "pass")), tmp_path, ("etcdctl",))
    assert still_open.status == 1 and "auth enable did not take effect" in still_open.stderr


def test_auth_state_tells_anonymous_root_and_a_refused_password(tmp_path):
    fact = EtcdAuth()
    open_ = run(auth.state(ENDPOINT), tmp_path, ("etcdctl",))
    assert fact.process(open_.stdout.splitlines()) == AuthState(anonymous=True, root=True, refused=False)
    refused = [("etcdctl *", 1, ""), ("as root:*", 1, "echo 'Error: etcdserver: authentication failed, invalid user ID or password' >&2")]
    closed = run(auth.state(ENDPOINT), tmp_path, ("etcdctl",), {"etcdctl": refused})
    assert fact.process(closed.stdout.splitlines()) == AuthState(anonymous=False, root=False, refused=True)


def test_root_logs_in_or_fails_with_the_message_for_a_refused_password(tmp_path):
    assert run(auth.root_logs_in(ENDPOINT, "set the password"), tmp_path, ("etcdctl",)).status == 0
    refused = {"etcdctl": [("*", 1, "echo 'Error: etcdserver: authentication failed' >&2")]}
    ran = run(auth.root_logs_in(ENDPOINT, "set the password"), tmp_path, ("etcdctl",), refused)
    assert ran.status == 1 and ran.stderr == "set the password\n"
    down = run(
        auth.root_logs_in(ENDPOINT, "set the password"),
        tmp_path,
        ("etcdctl",),
        {"etcdctl": [("*", 1, "echo 'context deadline exceeded' >&2")]},
    )
    assert down.status == 1 and down.stderr.endswith("\ncontext deadline exceeded\n") and "set the password" not in down.stderr


def test_user_state_reads_the_user_its_role_on_the_prefix_and_its_login(tmp_path):
    role = "Role pg.test\\nKV Read:\\n\\t[/pg/a b/, /pg/a b0) (prefix /pg/a b/)\\nKV Write:\\n\\t[/pg/a b/, /pg/a b0) (prefix /pg/a b/)"
    answers = {
        "etcdctl": [
            ("as root:* role get pg.test", 0, f"printf '{role}\\n'"),
            ("as root:* user get pg.test", 0, "printf 'User: pg.test\\nRoles: pg.test\\n'"),
            ("as pg.test:* get /pg/a b/ --prefix --limit=1", 0, ""),
        ]
    }
    (tmp_path / "pass").write_text("secret")
    command = auth.user_state(ENDPOINT, "pg.test", "/pg/a b/", str(tmp_path / "pass"))
    ran = run(command, tmp_path, ("etcdctl",), answers)
    assert EtcdUser().process(ran.stdout.splitlines()) == UserState(user=True, permission=True, role=True, login=True)
    others = {"etcdctl": [("as root:* user get pg.test", 0, "printf 'User: pg.test\\nRoles: pgXtest\\n'")]}
    (tmp_path / "pass").unlink()
    ran = run(command, tmp_path, ("etcdctl",), others)
    assert EtcdUser().process(ran.stdout.splitlines()) == UserState(user=True, permission=False, role=False, login=False)


# the facts' readers


def test_the_cluster_view_asks_side_by_side_and_each_answer_lands_in_its_section(tmp_path):
    sections = dict(zip(("members", "status", "health"), (DATA / "cluster_healthy.txt").read_text().split("\n")[1::3], strict=False))
    answers = {
        "etcdctl": [
            ("*member list -w json", 0, f"echo '{sections['members']}'"),
            ("*endpoint status --cluster -w json", 0, f"echo '{sections['status']}'"),
            ("*endpoint health --cluster -w json", 1, "echo 'unhealthy' >&2"),  # its error is left out
        ]
    }
    ran = run(etcdctl.cluster_view(ENDPOINT), tmp_path, ("etcdctl",), answers)
    assert ran.status == 0 and len(ran.calls) == 3
    view = EtcdCluster().process(ran.stdout.splitlines())
    assert len(view.members) == 3 and view.leader() is not None and view.health == {}


@pytest.mark.parametrize(
    "password, anonymous, expected",
    [
        ("root-secret\n", 1, AuthState(anonymous=False, root=True)),  # authentication on, root logs in
        ("root-secret\n", 0, AuthState(anonymous=True, root=True)),  # authentication off
        ("", 1, AuthState()),  # no password: the member list, asked without one, says nothing of root
    ],
    ids=["on", "off", "no password"],
)
def test_the_cluster_view_with_auth_tells_what_the_auth_fact_would_without_a_login_of_its_own(tmp_path, password, anonymous, expected):
    sections = dict(zip(("members", "status", "health"), (DATA / "cluster_healthy.txt").read_text().split("\n")[1::3], strict=False))
    (tmp_path / "etcd.pass").write_text(password)
    answers = {
        "etcdctl": [
            ("as root:* member list -w json", 0, f"echo '{sections['members']}'"),
            ("as root:* endpoint status --cluster -w json", 0, f"echo '{sections['status']}'"),
            ("as root:* endpoint health --cluster -w json", 0, f"echo '{sections['health']}'"),
            ("etcdctl * get --limit=1 health", anonymous, "echo 'Error: etcdserver: user name is empty' >&2" if anonymous else ""),
        ]
    }
    command = etcdctl.cluster_view(ENDPOINT, auth=True, password_file=str(tmp_path / "etcd.pass"))
    ran = run(command, tmp_path, ("etcdctl",), answers)
    assert ran.status == 0 and len(ran.calls) == 4  # the member list, status, health, and one request without credentials
    assert not [call for call in ran.calls if call.startswith("as root:") and " get " in call]  # no login of its own
    view, auth_state = EtcdClusterAuth().process(ran.stdout.splitlines())
    assert view == EtcdCluster().process(ran.stdout.splitlines()) and len(view.members) == 3
    assert auth_state == expected
    down = {"etcdctl": [("*", 1, "echo 'context deadline exceeded' >&2")]}
    assert EtcdClusterAuth().process(run(command, tmp_path, ("etcdctl",), down).stdout.splitlines()) == (None, None)


def test_the_host_reader_reports_a_running_member_and_its_conf(tmp_path):
    data, conf = tmp_path / "etcd", tmp_path / "etcd.conf"
    (data / "member").mkdir(parents=True)
    (data / ".lock").write_text("")
    conf.write_text("name: etcd-1\ndata-dir: /var/lib/etcd")  # its last line has no newline
    answers = {
        "etcd": [("*", 0, "echo 'etcd Version: 3.5.16'")],
        "systemctl": [
            (
                "*show*",
                0,
                "printf 'MainPID=4242\\nActiveState=active\\nUnitFileState=enabled\\nFragmentPath=/lib/systemd/system/etcd.service\\n'",
            ),
        ],
        "ss": [("*", 0, "printf 'LISTEN 0 4096 10.10.10.10:2379 0.0.0.0:*\\nLISTEN 0 4096 10.10.10.10:2380 0.0.0.0:*\\n'")],
        "etcdctl": [("*endpoint status -w json", 0, 'echo \'[{"Endpoint":"https://127.0.0.1:2379"}]\'')],
    }
    missing, odd = tmp_path / "missing", tmp_path / "a:b c"
    odd.write_text("")
    odd.chmod(0o640)
    cert, ca = tmp_path / "server.crt", tmp_path / "ca.crt"  # no CA: a line for none of it
    cert.write_text("-----BEGIN CERTIFICATE-----\nMIIB a\n-----END CERTIFICATE-----")  # its last line has no newline
    command = host.etcd_host(str(data), (2379, 2380), conf=str(conf), also=(str(missing), str(odd)), pems=(str(cert), str(ca)))
    ran = run(command, tmp_path, ("etcd", "systemctl", "ss", "etcdctl", "dpkg-query", "rpm", "apt-get"), answers)
    assert ran.status == 0, ran.stderr
    found = EtcdHost().process(ran.stdout.splitlines())
    assert (found.version, found.active, found.enabled, found.pid) == ("3.5.16", "active", "enabled", 4242)
    assert found.package_manager == "apt-get" and found.unit == "/lib/systemd/system/etcd.service"
    assert sorted(found.data) == [".lock", "member"] and found.conf == conf.read_text() + "\n"
    assert found.listeners == 0 and not [
        call for call in ran.calls if call.split(": ")[-1].startswith("ss ")
    ]  # ports matter only while etcd does not run
    assert "as root: etcdctl --endpoints=https://127.0.0.1:2379 " in "\n".join(ran.calls)
    me = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    assert found.files[str(data)] == FileStat(*me, int(oct(data.stat().st_mode & 0o7777)[2:]), "directory")
    assert found.files[str(odd)] == FileStat(*me, 640, "regular empty file")  # a name with a colon and a space
    assert found.files[str(missing)] is None and found.lacks(str(missing))
    assert found.pems == {str(cert): "-----BEGIN CERTIFICATE-----\nMIIB a\n-----END CERTIFICATE-----\n"}


def running_binary(tmp_path: Path, replaced_by: str | None = None) -> tuple[subprocess.Popen, dict]:
    """A process running the host's `etcd` (a copy of sleep on the stand-ins' PATH), the file then
    replaced (an upgrade on disk) by a script that prints replaced_by's version, if given; the
    answers of a host where it is the running member, whose status says 3.5.30."""
    folder = tmp_path / "stand-ins"
    folder.mkdir(exist_ok=True)
    shutil.copy("/bin/sleep", folder / "etcd")
    process = subprocess.Popen([folder / "etcd", "30"])
    if replaced_by:
        new = folder / "etcd.new"
        new.write_text(f"#!/bin/sh\necho 'etcd Version: {replaced_by}'\n")
        new.chmod(0o755)
        new.rename(folder / "etcd")
    show = f"printf 'MainPID={process.pid}\\nActiveState=active\\nUnitFileState=enabled\\n'"
    status = '[{"Endpoint":"https://127.0.0.1:2379","Status":{"header":{"cluster_id":1,"member_id":2},"version":"3.5.30"}}]'
    return process, {"systemctl": [("*show*", 0, show)], "etcdctl": [("*endpoint status -w json", 0, f"echo '{status}'")]}


@pytest.mark.parametrize("own", [True, False], ids=["its etcd asked", "its etcd not asked"])
@pytest.mark.parametrize("replaced_by", [None, "3.5.31"], ids=["the binary it runs", "replaced since it started"])
def test_the_host_reader_takes_the_version_its_running_etcd_reports_only_for_the_binary_it_runs(tmp_path, replaced_by, own):
    conf = tmp_path / "etcd.conf"
    conf.write_text("name: etcd-1\n")
    process, answers = running_binary(tmp_path, replaced_by)
    try:
        command = host.etcd_host(str(tmp_path / "etcd"), (2379, 2380), conf=str(conf), own=own)
        ran = run(command, tmp_path, ("systemctl", "ss", "etcdctl", "dpkg-query", "rpm", "apt-get"), answers)
    finally:
        process.kill()
        process.wait()
    assert ran.status == 0, ran.stderr
    found = EtcdHost().process(ran.stdout.splitlines())
    assert found.runs_binary is (replaced_by is None)
    assert ("binary_runs=yes" in ran.stdout.splitlines()) is (replaced_by is None)
    if own:
        assert found.own is not None and found.own.version == "3.5.30"
        # the running etcd's own when it runs the file (no `etcd --version` process), else the file's own
        assert found.version == (replaced_by or "3.5.30")
    else:
        # no etcdctl process, no login: the run takes what the etcd is, and its version, from the cluster view
        assert found.own is None and not [call for call in ran.calls if "etcdctl" in call]
        assert found.version == replaced_by


def test_the_host_reader_finds_the_package_of_the_binary_in_dpkgs_lists_else_asks_dpkg(tmp_path):
    folder = tmp_path / "stand-ins"
    folder.mkdir()
    shutil.copy("/bin/true", folder / "etcd")
    info = tmp_path / "info"
    info.mkdir()
    (info / "etcd-client.list").write_text("/.\n/usr/bin/etcdctl\n")
    (info / "etcd-server:amd64.list").write_text(f"/.\n/usr\n{folder / 'etcd'}\n")
    command = host.etcd_host(str(tmp_path / "data"), (2379, 2380), conf=str(tmp_path / "etcd.conf"), dpkg_info=str(info))
    ran = run(command, tmp_path, ("systemctl", "ss", "etcdctl", "dpkg-query", "rpm", "apt-get"), {})
    assert ran.status == 0, ran.stderr
    assert EtcdHost().process(ran.stdout.splitlines()).package == "etcd-server"
    assert not [call for call in ran.calls if call.split(": ")[-1].startswith("dpkg-query")]  # the lists said it
    (info / "etcd-server:amd64.list").unlink()
    answers = {"dpkg-query": [("*", 0, f"echo 'etcd: {folder / 'etcd'}'")]}
    ran = run(command, tmp_path, ("systemctl", "ss", "etcdctl", "dpkg-query", "rpm", "apt-get"), answers)
    assert EtcdHost().process(ran.stdout.splitlines()).package == "etcd"  # another package: dpkg says which


def test_the_file_reader_reports_each_path_its_kind_and_the_files_checksums(tmp_path):
    folder, conf, link, missing = tmp_path / "etc etcd", tmp_path / "etcd.conf", tmp_path / "link", tmp_path / "missing"
    folder.mkdir(mode=0o750)
    folder.chmod(0o750)
    conf.write_text("name: etcd-1\n")
    conf.chmod(0o644)
    link.symlink_to(conf)
    ran = run(files.states(tuple(str(path) for path in (folder, conf, link, missing))), tmp_path, ())
    assert ran.status == 0, ran.stderr
    found = HostFiles().process(ran.stdout.splitlines())
    me = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    assert found.files == {
        str(folder): FileStat(*me, 750, "directory"),
        str(conf): FileStat(*me, 644, "regular file"),
        str(link): FileStat(*me, 777, "symbolic link"),
        str(missing): None,
    }
    digest = hashlib.sha256(b"name: etcd-1\n").hexdigest()
    assert found.sha256 == {str(conf): digest, str(link): digest}  # a link is no file put_all writes: its kind says so


def test_the_host_reader_counts_the_listeners_on_the_ports_of_a_stopped_member(tmp_path):
    answers = {
        "systemctl": [("*show*", 0, "printf 'MainPID=0\\nActiveState=inactive\\nUnitFileState=enabled\\n'")],
        "ss": [("*", 0, "printf 'LISTEN 0 4096 10.10.10.10:2379 0.0.0.0:*\\nLISTEN 0 4096 10.10.10.10:22 0.0.0.0:*\\n'")],
    }
    command = host.etcd_host(str(tmp_path / "etcd"), (2379, 2380), conf=str(tmp_path / "etcd.conf"))
    ran = run(command, tmp_path, ("etcd", "systemctl", "ss", "etcdctl", "dpkg-query", "rpm", "apt-get"), answers)
    found = EtcdHost().process(ran.stdout.splitlines())
    assert (found.active, found.listeners) == ("inactive", 1)
    assert [call for call in ran.calls if call.split(": ")[-1].startswith("ss ")] == ["ss -ltnH"]
