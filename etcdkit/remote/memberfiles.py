"""The files of a member rendered from templates/: etcd.conf, the systemd unit and the etcdctl
environment. Certificates, keys and passwords come from the control node (etcdkit.control)."""

from etcdkit.model import paths
from etcdkit.model.backups import grep_pattern
from etcdkit.model.inventory import Member
from etcdkit.model.settings import Settings
from etcdkit.remote.etcdctl import etcdctl, timeouts
from etcdkit.remote.render import render

TARBALL_BINARY, PACKAGE_BINARY = "/usr/local/bin/etcd", "/usr/bin/etcd"
# A snapshot streams the whole database: etcdctl's usual 5 s for a command is far too short for it.
SNAPSHOT_TIMEOUTS = timeouts("5s", "30m")
# Started by their timers, the members take their scheduled snapshots in turns, by etcd_seq: member 1 at
# once, member 2 two minutes later, and so on, over BACKUP_TURNS turns (then again from the first).
BACKUP_TURN_SECONDS = 120
BACKUP_TURNS = 15


def etcd_conf(
    member: Member, settings: Settings, initial_cluster: str, token: str, initial_state: str, peer_name: str, bcrypt_cost: int | None = None
) -> str:
    return render(
        "etcd.conf.j2",
        member=member,
        peer_name=peer_name,
        data_dir=settings.etcd_data,
        initial_cluster=initial_cluster,
        token=token,
        initial_state=initial_state,
        heartbeat_interval=settings.etcd_heartbeat_interval,
        election_timeout=settings.etcd_election_timeout,
        quota_backend_bytes=settings.etcd_quota_backend_bytes,
        compaction_retention=settings.etcd_compaction_retention,
        bcrypt_cost=bcrypt_cost,
    )


def etcd_binary(tarball: bool) -> str:
    return TARBALL_BINARY if tarball else PACKAGE_BINARY


def etcd_unit(member: Member, tarball: bool) -> str:
    return render("etcd.service.j2", member=member, etcd_binary=etcd_binary(tarball))


def etcdctl_env(cluster: str, endpoints: str, ca: str, cert: str, key: str, password_file: str) -> str:
    """/etc/profile.d/etcdctl.sh: etcdctl as root against the members, for whoever logs in as root."""
    return render("etcdctl.sh.j2", cluster=cluster, endpoints=endpoints, ca=ca, cert=cert, key=key, password_file=password_file)


def backup_files(member: Member, settings: Settings) -> dict[str, str]:
    """The scheduled backup of a member (etcd_backup_schedule): its script, service and timer."""
    script = render(
        "scripts/etcd-backup.sh.j2",
        member=member,
        backup_dir=settings.etcd_backup_dir_remote,
        metric_dir=settings.etcd_backup_metric_dir,
        metric_file=paths.BACKUP_METRIC,
        keep=int(settings.etcd_backup_keep),
        pattern=grep_pattern(member.cluster),
        etcdctl=etcdctl(member.client_url, timeouts=SNAPSHOT_TIMEOUTS).get_raw_value(),
        turn=(member.seq - 1) % BACKUP_TURNS * BACKUP_TURN_SECONDS,
    )
    return {
        paths.BACKUP_SCRIPT: script,
        paths.BACKUP_SERVICE: render("etcd-backup.service.j2", member=member),
        paths.BACKUP_TIMER: render("etcd-backup.timer.j2", member=member, schedule=settings.etcd_backup_schedule),
    }
