"""The scheduled backups of a member (etcd_backup_schedule) taken off its host: when the schedule is
unset, and when the member leaves (remove, destroy). Its snapshots stay where they are."""

from pyinfra import host
from pyinfra.api import operation

from etcdkit.facts.etcd import HostFiles
from etcdkit.model import paths
from etcdkit.operations import known
from etcdkit.remote import files, services
from etcdkit.remote.shell import joined


@operation()
def removed(metric_dir: str):
    """
    Stop and disable etcd-backup.timer and delete its units, its script and the metric file it
    wrote (a member that takes no backups reports none, so EtcdBackupTooOld does not fire for it).
    A host without them is a no-op.

    + metric_dir: the node exporter's textfile folder (etcd_backup_metric_dir)
    """
    candidates = (paths.BACKUP_TIMER, paths.BACKUP_SERVICE, paths.BACKUP_SCRIPT, f"{metric_dir}/{paths.BACKUP_METRIC}")
    if known.lacks(*candidates):
        host.noop("no scheduled backups on this member")
        return
    found = host.get_fact(HostFiles, paths=candidates).files
    present = [path for path in candidates if (stat := found.get(path)) is not None and not stat.of_kind("directory")]
    if not present:
        host.noop("no scheduled backups on this member")
        return
    commands = [files.remove(*present)]
    if paths.BACKUP_TIMER in present:
        commands.insert(0, services.timer_off(paths.BACKUP_TIMER_UNIT))
    if paths.BACKUP_TIMER in present or paths.BACKUP_SERVICE in present:
        commands.append(services.daemon_reload())
    yield joined(commands)
