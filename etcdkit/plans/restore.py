"""The restore SOP's decisions, made once per run before anything changes on any host.

A snapshot (etcd_restore) becomes a new cluster on every member of the inventory, with the files
create gives them and an initial-cluster-token of its own (a new cluster ID). Refused before any
change unless the snapshot matches its sidecar and is this cluster's (or the one etcd_restore_from
names), every member's host answers, no etcd runs or listens on any of them, none has the
etcd.conf of another member or data dir, no data dir holds member data, and the control node has a
root password:
restore never overwrites a cluster or its data (destroy it first), and the users, root included,
come from the snapshot.
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from etcdkit.control.store import ControlWork
from etcdkit.model import backups, paths
from etcdkit.model.inventory import ClusterSpec
from etcdkit.model.refusals import Problem, Refusal
from etcdkit.model.run import run_context
from etcdkit.plans.gather import ControlState, HostState, read_control, read_hosts
from etcdkit.plans.memberfiles import ClusterSecrets, MemberPlan, Membership, member_files
from etcdkit.plans.monitoring import MonitoringPlan, Monitors, Target, monitoring_plan, read_monitors


@dataclass(frozen=True)
class SnapshotFile:
    """The snapshot on the control node as restore reads it."""

    path: Path
    sha256: str | None  # None: no such file
    size: int | None
    sidecar: dict | None  # None: no sidecar, or not JSON


@dataclass(frozen=True)
class RestoreFacts:
    spec: ClusterSpec
    hosts: dict[str, HostState]
    snapshot: SnapshotFile | None  # None: etcd_restore is not set
    control: ControlState
    monitors: Monitors
    now: str  # UTC time of the run, names the new initial-cluster-token


@dataclass
class RestorePlan:
    spec: ClusterSpec
    snapshot: Path
    token: str  # the new cluster's initial-cluster-token
    initial_cluster: str
    members: dict[str, MemberPlan]
    secrets: ClusterSecrets
    control: ControlWork
    control_host: str  # the host whose run writes the control node's PKI folder
    check_host: str  # the member through which root's login is checked
    root_refused: str  # what to do when the snapshot's root password is not the control node's
    monitoring: MonitoringPlan | None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def restore_plan(state, inventory) -> RestorePlan:
    return run_context(state).once("restore", lambda: decide(gather(state, inventory)))


def read_snapshot(name: str | None) -> SnapshotFile | None:
    if not name:
        return None
    path = Path(name).expanduser().resolve()
    if not path.is_file():
        return SnapshotFile(path, None, None, None)
    try:
        sidecar = json.loads(backups.sidecar_path(path).read_text())
    except (OSError, ValueError):
        sidecar = None
    return SnapshotFile(path, hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size, sidecar)


def gather(state, inventory) -> RestoreFacts:
    spec, hosts = read_hosts(inventory, state)
    first = hosts[spec.members[0].host_name].settings
    return RestoreFacts(
        spec, hosts, read_snapshot(first.etcd_restore), read_control(first, spec.cluster), read_monitors(inventory), backups.utc_now()
    )


def decide(facts: RestoreFacts) -> RestorePlan:
    spec, hosts = facts.spec, facts.hosts
    first = hosts[spec.members[0].host_name].settings
    snapshot = _check_snapshot(facts.snapshot)
    problems = []
    source = (snapshot.sidecar or {}).get("cluster")  # _check_snapshot refused a snapshot without one
    if source != spec.cluster and (source is None or source != first.etcd_restore_from):
        problems.append(
            Problem(
                "restore.other_cluster",
                f"{snapshot.path.name} is a snapshot of cluster `{source}`, not of `{spec.cluster}` (its sidecar says so): restoring it "
                f"would give `{spec.cluster}` another cluster's data. If that is what you want, name its cluster for this run: "
                f"--data etcd_restore_from={source}"
                if source
                else f"{backups.sidecar_path(snapshot.path).name} names no cluster: the snapshot's cluster cannot be checked",
            )
        )
    left_out = [name for name, host in hosts.items() if not host.in_run]
    if left_out:
        problems.append(
            Problem(
                "restore.left_out", f"restore takes the whole cluster, but the run leaves out {', '.join(left_out)}: run it without --limit"
            )
        )
    for name, host in hosts.items():
        problem = _host_problem(host)
        if problem:
            problems.append(Problem("restore.host", f"{name}: {problem}"))
    if facts.control.root_sha is None:
        problems.append(
            Problem(
                "restore.no_root",
                f"the control node has no root password for `{spec.cluster}` ({first.etcd_pki_dir}/{spec.cluster}/root.password): "
                "set etcd_root_password to the root password the cluster had when the snapshot was taken",
            )
        )
    if problems:
        raise Refusal("restore.refused", problems, f"cannot restore cluster `{spec.cluster}` from {snapshot.path}")
    warnings = list(facts.monitors.warnings)
    if source != spec.cluster:
        warnings.append(f"{snapshot.path.name} is a snapshot of cluster `{source}`: restoring it as `{spec.cluster}` (etcd_restore_from)")
    token = f"{spec.cluster}-restored-{facts.now}"
    membership = Membership.of_inventory(spec)
    members = {}
    for name, host in hosts.items():
        members[name] = MemberPlan.of(host)
        members[name].files = member_files(host, membership, token, "new")
    cluster_secrets = ClusterSecrets.of(first, spec.cluster)
    monitoring = monitoring_plan(facts.monitors, spec.cluster, [Target(m.name, m.address, m.port) for m in spec.members], cluster_secrets)
    certificates = [cluster_secrets.member_certificate(m) for m in spec.members]
    if monitoring and monitoring.certificate:
        certificates.append(monitoring.certificate)
    seed = spec.members[0].host_name
    return RestorePlan(
        spec,
        snapshot.path,
        token,
        membership.initial_cluster,
        members,
        cluster_secrets,
        cluster_secrets.work(certificates, facts.control.now),
        seed,
        seed,
        f"root's password in the restored cluster `{spec.cluster}` is not the control node's ({first.etcd_pki_dir}/{spec.cluster}/"
        "root.password, or etcd_root_password): the snapshot keeps the root password the cluster had when it was taken. Run "
        "deploys/create.py with --data etcd_root_password_file=<a 0600 file holding that password>, which keeps it on the control node",
        monitoring,
        warnings,
        ["Patroni and vip-manager reconnect by themselves; deploys/reload.py (run by bin/etcd-restore) refreshes their configs"],
    )


def _check_snapshot(snapshot: SnapshotFile | None) -> SnapshotFile:
    """The snapshot exists and is the file its sidecar describes, or the run stops."""
    if snapshot is None:
        raise Refusal(
            "restore.unnamed", "name the snapshot to restore: --data etcd_restore=backups/<cluster>-<time>.db (bin/etcd-restore FILE)"
        )
    sidecar = backups.sidecar_path(snapshot.path)
    if snapshot.sha256 is None:
        raise Refusal("restore.missing", f"the snapshot {snapshot.path} does not exist on the control node")
    if snapshot.sidecar is None:
        raise Refusal(
            "restore.no_sidecar", f"{sidecar} is missing or not JSON: without it the snapshot {snapshot.path.name} cannot be checked"
        )
    expected = (snapshot.sidecar.get("sha256"), snapshot.sidecar.get("size"))
    if expected != (snapshot.sha256, snapshot.size):
        raise Refusal(
            "restore.damaged",
            f"the snapshot {snapshot.path} is not the file its sidecar describes (SHA-256 {snapshot.sha256}, {snapshot.size} bytes; "
            f"{sidecar.name} says {expected[0]}, {expected[1]} bytes)",
            "it is damaged or another file",
        )
    return snapshot


def _host_problem(host: HostState) -> str | None:
    """Why the member cannot be restored on this host now (None: it can)."""
    data_dir = host.settings.etcd_data
    if host.state is None:
        return "cannot be reached over SSH: every member is restored together, bring it back first"
    if host.running or host.own:
        return "etcd runs there: restore builds a new cluster and never replaces a running one; destroy it first with deploys/destroy.py"
    if host.state.listeners:
        return f"another process listens on port {host.member.port} or {host.member.peer_port}: stop it first"
    conf = (host.conf_value("name"), host.conf_value("data-dir"))
    if host.conf_text and conf != (host.member.name, data_dir):
        return (
            f"its stopped etcd is configured as member {conf[0]} with data in {conf[1]} ({paths.CONF}), not as "
            f"{host.member.name} with data in {data_dir}: restore would overwrite another etcd's configuration. If that etcd "
            f"is gone for good, move its file away (`mv {paths.CONF} {paths.CONF}.old` on {host.member.host_name}), else fix the inventory"
        )
    if "member" in host.data:
        return (
            f"the data dir {data_dir} holds member data, which restore never overwrites: if it is this cluster's, deploys/destroy.py "
            f"deletes it (with --data etcd_backup=false when no member runs), else move {data_dir}/member away"
        )
    return None
