"""The destroy SOP's decisions, made once per run before anything changes on any host.

Refused with etcd_safeguard (unless etcd_purge), when a host holds an etcd that is not this
cluster's, and, unless etcd_backup is false, when members hold data but none answers to take the
snapshot from. A destroyed cluster (nothing left on any host) is a no-op.
"""

import time
from dataclasses import dataclass
from pathlib import Path

from pyinfra import logger
from pyinfra.api.exceptions import DeployError

from etcdkit.discovery import HostState, live_view, once_per_run, survey
from etcdkit.inventory import ClusterSpec
from etcdkit.monitoring import MonitoringPlan, monitoring_plan
from etcdkit.pki import issued_files


@dataclass
class DestroyPlan:
    spec: ClusterSpec
    hosts: dict[str, HostState]
    snapshot_host: str | None  # the healthy member the snapshot is taken on
    snapshot_path: Path | None  # where it goes on the control node
    member_certificates: list[Path]  # the members' certificates and keys in the PKI folder
    monitoring: MonitoringPlan | None  # the monitoring hosts of the run, whose targets go


def destroy_plan(state, inventory) -> DestroyPlan:
    return once_per_run(state, "destroy", lambda: _make_plan(inventory))


def _make_plan(inventory) -> DestroyPlan:
    spec, hosts = survey(inventory)
    first = hosts[spec.members[0].host_name].settings
    if first["etcd_safeguard"] and not first["etcd_purge"]:
        raise DeployError(
            f"etcd_safeguard is on: refusing to destroy cluster `{spec.cluster}`; nothing was changed. "
            "Override with --data etcd_safeguard=false (or --data etcd_purge=true)"
        )
    owners = {name: host.ownership() for name, host in hosts.items()}
    problems = [f"{name}: {reason}" for name, (kind, reason) in owners.items() if kind in ("foreign", "unreachable")]
    if problems:
        raise DeployError(
            f"cannot destroy cluster `{spec.cluster}`; nothing was changed:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
            + "\nA foreign instance is not this cluster's to delete; an unreachable host cannot be cleaned."
        )
    ours = [host for name, host in hosts.items() if owners[name][0] == "ours"]
    has_data = any(host.state["data"] for host in ours)
    snapshot_host = snapshot_path = None
    if first["etcd_backup"] and has_data:
        view = live_view(inventory, ours)
        healthy = [h for h in sorted(ours, key=lambda h: h.member.seq) if view and _serves(view, h)]
        if not healthy:
            raise DeployError(
                f"no member of `{spec.cluster}` answers, so no snapshot can be saved before the data is deleted; "
                "nothing was changed. Start its members, or set etcd_backup=false to destroy it without a snapshot"
            )
        snapshot_host = healthy[0].member.host_name
        folder = Path(first["etcd_backup_dir"]).expanduser()
        snapshot_path = folder.resolve() / f"{spec.cluster}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.db"
    elif has_data:
        logger.warning(f"etcd_backup=false: cluster `{spec.cluster}` is destroyed without a snapshot")
    certificates = issued_files(first, spec.cluster, [m.name for m in spec.members])
    return DestroyPlan(spec, hosts, snapshot_host, snapshot_path, certificates, monitoring_plan(inventory, spec.cluster, [], None))


def _serves(view, host: HostState) -> bool:
    member = view.by_peer_url(host.member.peer_url)
    return member is not None and view.is_healthy(member)
