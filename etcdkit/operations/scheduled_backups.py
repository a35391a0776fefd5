"""The scheduled backups of a member (etcd_backup_schedule) taken off its host: when the schedule is
unset, and when the member leaves (remove, destroy). Its snapshots stay where they are."""

import shlex

from pyinfra import host
from pyinfra.api import operation
from pyinfra.facts.files import File

from etcdkit.model import paths


@operation()
def removed(metric_dir: str):
    """
    Stop and disable etcd-backup.timer and delete its units, its script and the metric file it
    wrote (a member that takes no backups reports none, so EtcdBackupTooOld does not fire for it).
    A host without them is a no-op.

    + metric_dir: the node exporter's textfile folder (etcd_backup_metric_dir)
    """
    metric = f"{metric_dir}/{paths.BACKUP_METRIC}"
    present = [path for path in (paths.BACKUP_TIMER, paths.BACKUP_SERVICE, paths.BACKUP_SCRIPT, metric) if host.get_fact(File, path=path)]
    if not present:
        host.noop("no scheduled backups on this member")
        return
    commands = [f"rm -f {' '.join(shlex.quote(path) for path in present)}"]
    if paths.BACKUP_TIMER in present:
        commands.insert(0, f"{{ systemctl disable --now --quiet {paths.BACKUP_TIMER_UNIT} 2>/dev/null || true; }}")
    if paths.BACKUP_TIMER in present or paths.BACKUP_SERVICE in present:
        commands.append("systemctl daemon-reload")
    yield " && ".join(commands)
