"""The backup SOP's decisions, made once per run before anything is saved.

A snapshot is taken through a healthy voting member of the run, a follower when one is healthy (a
snapshot streams the whole database: the leader is spared that load), and saved on the control
node with its sidecar. Refused when no member answers or the cluster has no leader: a snapshot of
a cluster without quorum may miss committed writes. Once the new snapshot is verified, the older
verified snapshots of this cluster (those with their sidecar) beyond the newest etcd_backup_keep are
deleted; a file named as a snapshot without a sidecar is neither counted nor deleted.
"""

from dataclasses import dataclass, field
from pathlib import Path

from etcdkit.model import backups
from etcdkit.model.cluster import ClusterView
from etcdkit.model.inventory import ClusterSpec
from etcdkit.model.refusals import Refusal
from etcdkit.model.run import run_context
from etcdkit.plans import checks
from etcdkit.plans.gather import HostState, live_token, read_hosts, read_view


@dataclass(frozen=True)
class BackupFacts:
    spec: ClusterSpec
    hosts: dict[str, HostState]
    view: ClusterView | None
    now: str  # UTC time of the run, names the snapshot
    existing: tuple[str, ...]  # names of the files in etcd_backup_dir (none: no folder yet)


@dataclass
class BackupPlan:
    spec: ClusterSpec
    snapshot_host: str  # the member the snapshot is taken through
    endpoint: str
    path: Path  # where it goes on the control node
    about: dict  # what its sidecar says of the cluster
    expired: list[Path]  # older snapshots deleted once it is verified (their sidecars with them)
    warnings: list[str] = field(default_factory=list)


def backup_plan(state, inventory) -> BackupPlan:
    return run_context(state).once("backup", lambda: decide(gather(state, inventory)))


def gather(state, inventory) -> BackupFacts:
    spec, hosts = read_hosts(inventory, state)
    view = read_view(inventory, [h for h in hosts.values() if h.ours])
    folder = Path(hosts[spec.members[0].host_name].settings.etcd_backup_dir).expanduser()
    existing = tuple(sorted(path.name for path in folder.iterdir())) if folder.is_dir() else ()
    return BackupFacts(spec, hosts, view, backups.utc_now(), existing)


def decide(facts: BackupFacts) -> BackupPlan:
    spec = facts.spec
    first = facts.hosts[spec.members[0].host_name].settings
    view = checks.answering(facts.view, spec.cluster, "backup.down", "cannot back up")
    leader = view.leader()
    if leader is None:
        raise Refusal(
            "backup.no_leader",
            f"cannot back up: cluster `{spec.cluster}` has no leader",
            "a snapshot could miss committed writes",
            "Bring its members back until it has quorum (bin/etcd-status shows which are down)",
        )
    token = live_token(facts.hosts.values(), view)
    candidates = []
    for host in sorted(facts.hosts.values(), key=lambda h: h.member.seq):
        entry = view.by_peer_url(host.member.peer_url)
        if host.in_run and host.ours and not host.stranger(view, token) and entry and not entry.is_learner and view.is_healthy(entry):
            candidates.append((entry.id == leader.id, host))
    if not candidates:
        raise Refusal(
            "backup.no_voter",
            f"cannot back up: no member of `{spec.cluster}` in the run is a healthy voting member",
            fix="Run it over the whole inventory, or bring a member back",
        )
    through_leader, host = min(candidates, key=lambda candidate: candidate[0])  # a follower first, in etcd_seq order
    path = backups.snapshot_path(first.etcd_backup_dir, spec.cluster, facts.now)
    if path.name in facts.existing:
        raise Refusal("backup.exists", f"{path} exists already (a backup in this same second?)", fix="Run it again")
    expired = backups.expired(list(facts.existing), spec.cluster, first.etcd_backup_keep)
    about = backups.about(spec.cluster, view, host.member.client_url, facts.now)
    warnings = []
    unverified = backups.unverified(list(facts.existing), spec.cluster)
    if unverified:
        warnings.append(
            f"{', '.join(unverified)} in {path.parent} {'has' if len(unverified) == 1 else 'have'} no sidecar: never verified, "
            "so retention neither counts nor deletes them; delete them once you know you do not need them"
        )
    if through_leader and len(view.voters) > 1:
        warnings.append(f"no follower of `{spec.cluster}` in the run is healthy: the snapshot is taken through the leader {leader.name}")
    return BackupPlan(spec, host.member.host_name, host.member.client_url, path, about, [path.parent / name for name in expired], warnings)
