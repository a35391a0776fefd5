"""The shell scripts of templates/scripts/, rendered by etcdkit/remote's own functions with sample
values (SAMPLES: one per script, which `make lint` checks with shellcheck), and run here against
stand-in programs on PATH (tests/unit/stand_ins/program, see there).

    python -m tests.unit.scripts FOLDER    writes each sample as FOLDER/<script>.sh (make lint)
"""

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from etcdkit.model import paths
from etcdkit.model.inventory import Member
from etcdkit.remote import auth, etcdctl, files, host, packages, recovery, services, snapshots
from etcdkit.remote.memberfiles import backup_files
from tests.unit.plans_data import make_settings

SCRIPTS = Path(__file__).resolve().parents[2] / "templates" / "scripts"
STAND_IN = Path(__file__).parent / "stand_ins" / "program"
ENDPOINT = "https://10.10.10.10:2379"
MEMBER = Member(host_name="10.10.10.10", seq=1, cluster="etcd", address="10.10.10.10", port=2379, peer_port=2380)
INITIAL = "etcd-1=https://10.10.10.10:2380,etcd-2=https://10.10.10.11:2380"


def _backup_script() -> str:
    return backup_files(MEMBER, make_settings(Path("/nonexistent"), etcd_backup_schedule="*-*-* 02:30:00"))[paths.BACKUP_SCRIPT]


# script -> its text, rendered as etcdkit renders it (the values that change its shape included)
SAMPLES: dict[str, Callable[[], str]] = {
    "apt-install.sh.j2": lambda: packages.apt_install(["etcd-server", "etcd-client"], "3.5.16", True, True, True).get_raw_value(),
    "auth-state.sh.j2": lambda: auth.state(ENDPOINT).get_raw_value(),
    "database-status.sh.j2": lambda: recovery.database_status("/var/lib/etcd", "etcdctl").get_raw_value(),
    "enable-auth.sh.j2": lambda: auth.enable(ENDPOINT).get_raw_value(),
    "etcd-backup.sh.j2": _backup_script,
    "etcd-host.sh.j2": lambda: host.etcd_host("/var/lib/etcd", (2379, 2380)).get_raw_value(),
    "file-states.sh.j2": lambda: files.states(("/etc/etcd", "/etc/etcd/etcd.conf")).get_raw_value(),
    "force-new-cluster.sh.j2": lambda: recovery.force_new_cluster(MEMBER, "/usr/bin/etcd").get_raw_value(),
    "restart-patroni.sh.j2": lambda: services.restart_patroni("patroni", "https://10.10.10.10:8008/patroni", 300).get_raw_value(),
    "restore.sh.j2": lambda: snapshots.restore(
        "/var/lib/etcd.restore.db", "/var/lib/etcd", MEMBER, INITIAL, "etcd-t", "etcdutl"
    ).get_raw_value(),
    "root-logs-in.sh.j2": lambda: auth.root_logs_in(ENDPOINT, "set etcd_root_password_file").get_raw_value(),
    "side-by-side.sh.j2": lambda: etcdctl.cluster_view(ENDPOINT, auth=True).get_raw_value(),
    "user-state.sh.j2": lambda: auth.user_state(ENDPOINT, "pg-test", "/pg/pg-test/", "/etc/etcd/users/pg-test.pass").get_raw_value(),
    "wait-healthy.sh.j2": lambda: etcdctl.wait_healthy(ENDPOINT, True, 30).get_raw_value(),
}


@dataclass
class Ran:
    status: int
    stdout: str
    stderr: str
    calls: list[str]  # the stand-ins' calls, in order: `[as USER] NAME ARGUMENTS`


def run(command, tmp_path: Path, programs: tuple[str, ...], answers: dict[str, list[tuple[str, int, str]]] | None = None) -> Ran:
    """The command (a StringCommand or its text) run by sh here, with each of programs a stand-in on
    PATH before the system's folders, answering per answers: name -> [(pattern, status, snippet)]."""
    text = command if isinstance(command, str) else command.get_raw_value()
    folder = tmp_path / "stand-ins"
    folder.mkdir(exist_ok=True)
    for name in programs:
        if not (folder / name).exists():
            (folder / name).symlink_to(STAND_IN)
    answer_dir = tmp_path / "answers"
    answer_dir.mkdir(exist_ok=True)
    for old in answer_dir.iterdir():
        old.unlink()
    for name, lines in (answers or {}).items():
        (answer_dir / name).write_text("".join(f"{pattern}\t{status}\t{snippet}\n" for pattern, status, snippet in lines))
    calls = tmp_path / "calls"
    calls.write_text("")
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("ETCDCTL")},
        "PATH": f"{folder}:/usr/bin:/bin",
        "CALLS": str(calls),
        "ANSWERS": str(answer_dir),
    }
    done = subprocess.run(["sh", "-c", text], env=environment, capture_output=True, text=True, timeout=30, cwd=tmp_path)
    return Ran(done.returncode, done.stdout, done.stderr, calls.read_text().splitlines())


if __name__ == "__main__":
    target = Path(sys.argv[1])
    for name, sample in SAMPLES.items():
        (target / name.removesuffix(".j2")).write_text(sample())
