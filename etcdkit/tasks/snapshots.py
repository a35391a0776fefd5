"""Task groups of the backup and restore SOPs: the control node's older snapshots, and a member
restored from a snapshot."""

from pathlib import Path

from pyinfra.api import deploy
from pyinfra.operations import python

from etcdkit.model.backups import sidecar_path
from etcdkit.operations import etcd
from etcdkit.plans.memberfiles import ClusterSecrets, MemberPlan
from etcdkit.tasks.member import install_member


def delete_snapshots(snapshots: list[Path], _if=None) -> None:
    """Delete snapshots from the control node, each with its sidecar (retention, after a verified backup)."""
    if snapshots:
        python.call(
            name=f"Delete {len(snapshots)} older snapshot{'s' if len(snapshots) > 1 else ''} from {snapshots[0].parent}",
            function=lambda: [path.unlink(missing_ok=True) for snapshot in snapshots for path in (snapshot, sidecar_path(snapshot))],
            _if=_if,
        )


@deploy("etcd restore")
def restore_member(plan: MemberPlan, secrets: ClusterSecrets, snapshot: Path, initial_cluster: str, token: str) -> None:
    """A member as create installs it, its data restored from the snapshot (not started)."""
    install_member(plan, secrets)
    etcd.restore(
        name=f"Restore {plan.member.name}'s data from {snapshot.name}",
        snapshot=str(snapshot),
        data_dir=plan.settings.etcd_data,
        member=plan.member,
        initial_cluster=initial_cluster,
        token=token,
    )
