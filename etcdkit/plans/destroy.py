"""The destroy SOP's decisions, made once per run before anything changes on any host.

Refused with etcd_safeguard (unless etcd_purge), when a host holds an etcd that is not this
cluster's, and, unless etcd_backup is false, when members hold data but none answers to take the
snapshot from. A destroyed cluster (nothing left on any host) is a no-op.
"""

from dataclasses import dataclass, field
from pathlib import Path

from etcdkit.control.pki import issued_files
from etcdkit.control.store import cluster_folder
from etcdkit.model import backups
from etcdkit.model.cluster import ClusterView
from etcdkit.model.host import Ownership
from etcdkit.model.inventory import ClusterSpec
from etcdkit.model.refusals import Refusal
from etcdkit.model.run import run_context
from etcdkit.plans.gather import HostState, live_token, read_hosts, read_view
from etcdkit.plans.monitoring import MonitoringPlan, Monitors, monitoring_plan, read_monitors


@dataclass(frozen=True)
class DestroyFacts:
    spec: ClusterSpec
    hosts: dict[str, HostState]
    view: ClusterView | None
    monitors: Monitors
    now: str  # UTC time of the run, names the snapshot
    certificates: list[Path]  # the members' certificates and keys in the PKI folder


@dataclass
class DestroyPlan:
    spec: ClusterSpec
    hosts: dict[str, HostState]
    snapshot_host: str | None  # the healthy member the snapshot is taken on
    snapshot_path: Path | None  # where it goes on the control node
    snapshot_about: dict | None  # what its sidecar says of the cluster
    member_certificates: list[Path]  # the members' certificates and keys in the PKI folder
    monitoring: MonitoringPlan | None  # the monitoring hosts of the run, whose targets go
    warnings: list[str] = field(default_factory=list)


def destroy_plan(state, inventory) -> DestroyPlan:
    return run_context(state).once("destroy", lambda: decide(gather(state, inventory)))


def gather(state, inventory) -> DestroyFacts:
    spec, hosts = read_hosts(inventory, state)
    first = hosts[spec.members[0].host_name].settings
    view = read_view(inventory, [h for h in hosts.values() if h.ours])
    certificates = issued_files(cluster_folder(first, spec.cluster), [m.name for m in spec.members])
    return DestroyFacts(spec, hosts, view, read_monitors(inventory), backups.utc_now(), certificates)


def decide(facts: DestroyFacts) -> DestroyPlan:
    spec, hosts = facts.spec, facts.hosts
    first = hosts[spec.members[0].host_name].settings
    guarded = [name for name, host in hosts.items() if host.settings.etcd_safeguard and not host.settings.etcd_purge]
    if guarded:
        raise Refusal(
            "destroy.safeguard",
            f"etcd_safeguard is on: refusing to destroy cluster `{spec.cluster}` (it is set for {', '.join(guarded)})",
            fix="Override with --data etcd_safeguard=false (or --data etcd_purge=true)",
        )
    left_out = [name for name, host in hosts.items() if not host.in_run]
    if left_out:
        raise Refusal(
            "destroy.left_out",
            f"destroy takes the whole cluster `{spec.cluster}`, but the run leaves out {', '.join(left_out)}",
            fix="Run it without --limit; one member leaves with the remove SOP (bin/etcd-rm IP)",
        )
    owners = {name: host.ownership() for name, host in hosts.items()}
    problems = [f"{name}: {reason}" for name, (kind, reason) in owners.items() if kind in (Ownership.FOREIGN, Ownership.UNREACHABLE)]
    token = live_token(hosts.values(), facts.view)
    for name, host in hosts.items():
        if owners[name][0] is Ownership.OURS:
            problem = host.stranger(facts.view, token) or (host.data_problem() if host.settings.etcd_rm_data else None)
            if problem:
                problems.append(f"{name}: {problem}")
    if problems:
        raise Refusal(
            "destroy.foreign",
            problems,
            f"cannot destroy cluster `{spec.cluster}`",
            "A foreign instance is not this cluster's to delete; an unreachable host cannot be cleaned.",
        )
    ours = [host for name, host in hosts.items() if owners[name][0] is Ownership.OURS]
    has_data = any(host.data for host in ours)
    snapshot_host = snapshot_path = snapshot_about = None
    warnings = list(facts.monitors.warnings)
    if first.etcd_backup and has_data:
        view = facts.view
        healthy = [h for h in sorted(ours, key=lambda h: h.member.seq) if view and view.serves(h.member.peer_url)]
        if not healthy or view is None:
            raise Refusal(
                "destroy.no_snapshot",
                f"no member of `{spec.cluster}` answers, so no snapshot can be saved before the data is deleted",
                fix="Start its members, or set etcd_backup=false to destroy it without a snapshot",
            )
        snapshot_host = healthy[0].member.host_name
        snapshot_path = backups.snapshot_path(first.etcd_backup_dir, spec.cluster, facts.now)
        snapshot_about = backups.about(spec.cluster, view, healthy[0].member.client_url, facts.now)
    elif has_data:
        warnings.append(f"etcd_backup=false: cluster `{spec.cluster}` is destroyed without a snapshot")
    monitoring = monitoring_plan(facts.monitors, spec.cluster, [], None)
    return DestroyPlan(spec, hosts, snapshot_host, snapshot_path, snapshot_about, facts.certificates, monitoring, warnings)
