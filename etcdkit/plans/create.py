"""The create SOP's decisions, made once per run from the inventory and every member's state,
before anything changes on any host.

A host is *bare* (nothing of etcd running, no data), *ours* (its etcd.conf is this member's, of this
cluster and data dir) or *foreign* (a live instance or data that this inventory did not create).
- No member has data or a running etcd: bootstrap a new cluster, all members together.
- Members of this cluster exist: converge. Files are brought up to date; a change a running etcd
  must be restarted for restarts members one at a time, each gated on cluster health; stopped
  members are started. A bare host in the inventory is a new member for the join SOP.
- Anything foreign, a host whose data the live cluster no longer knows, or a cluster that does not
  answer: stop and say why and what to do, unless etcd_clean (with etcd_safeguard off) asks to wipe
  every instance and bootstrap anew.
"""

import secrets
from dataclasses import dataclass, field

from etcdkit.control.passwords import WELL_KNOWN
from etcdkit.control.store import ControlWork
from etcdkit.model import params
from etcdkit.model.cluster import ClusterView
from etcdkit.model.host import Ownership
from etcdkit.model.inventory import ClusterSpec, Member
from etcdkit.model.refusals import Refusal
from etcdkit.model.run import run_context
from etcdkit.model.settings import Settings
from etcdkit.plans import checks
from etcdkit.plans.gather import ControlState, HostState, live_token, read_control, read_hosts, read_view
from etcdkit.plans.memberfiles import (
    ClusterSecrets,
    MemberPlan,
    Membership,
    cluster_token,
    conf_warnings,
    member_files,
    restart_reason,
)
from etcdkit.plans.monitoring import MonitoringPlan, Monitors, Target, monitoring_plan, read_monitors
from etcdkit.plans.takeover import package_notes, unit_notes


@dataclass(frozen=True)
class CreateFacts:
    """What create reads before it decides (plain data)."""

    spec: ClusterSpec
    hosts: dict[str, HostState]
    view: ClusterView | None  # the live cluster, when a member of it runs and answers
    control: ControlState  # what the control node holds: CA, root password
    monitors: Monitors
    new_token: str  # the initial-cluster-token of a bootstrap
    clean_from_command_line: bool = False  # etcd_clean=true given with --data, not by the inventory


@dataclass
class CreatePlan:
    spec: ClusterSpec
    bootstrap: bool
    rebuild: bool
    seed: Member  # the member RBAC is enabled through
    members: dict[str, MemberPlan]
    view: ClusterView | None
    monitoring: MonitoringPlan | None
    secrets: ClusterSecrets
    control: ControlWork
    warnings: list[str] = field(default_factory=list)
    rotate_root_on: Member | None = None  # the member through which root's password changes first


def create_plan(state, inventory) -> CreatePlan:
    """The plan of this run, made on first use and shared by every host's deploy."""
    return run_context(state).once("create", lambda: decide(gather(state, inventory)))


def gather(state, inventory) -> CreateFacts:
    spec, hosts = read_hosts(inventory, state, auth=True)  # the RBAC step's authentication state too
    running_ours = [h for h in hosts.values() if h.ours and h.running]
    view = read_view(inventory, running_ours) if running_ours else None
    first = hosts[spec.members[0].host_name].settings
    clean = params.coerce(params.BY_NAME["etcd_clean"], inventory.get_override_data().get("etcd_clean"))
    return CreateFacts(
        spec,
        hosts,
        view,
        read_control(first, spec.cluster),
        read_monitors(inventory),
        f"{spec.cluster}-{secrets.token_hex(4)}",
        bool(clean),
    )


def decide(facts: CreateFacts) -> CreatePlan:
    spec, hosts = facts.spec, facts.hosts
    first = hosts[spec.members[0].host_name].settings
    warnings = [f"inventory: {warning}" for warning in spec.warnings] + facts.monitors.warnings
    checks.tarballs(hosts.values())

    owners = {name: host.ownership() for name, host in hosts.items()}
    unreachable = [name for name, (kind, _) in owners.items() if kind is Ownership.UNREACHABLE]
    if unreachable:
        raise Refusal(
            "create.unreachable",
            f"{', '.join(unreachable)} cannot be reached over SSH",
            fix=f"Bring {'it' if len(unreachable) == 1 else 'them'} back, or remove a dead member with the remove SOP (bin/etcd-rm IP)",
        )
    foreign = {name: reason for name, (kind, reason) in owners.items() if kind is Ownership.FOREIGN}
    token = live_token(hosts.values(), facts.view)
    for name, (kind, _) in owners.items():
        stranger = hosts[name].stranger(facts.view, token) if kind is Ownership.OURS else None
        if stranger:
            foreign[name] = stranger
    ours = [name for name, (kind, _) in owners.items() if kind is Ownership.OURS and name not in foreign]
    has_instances = bool(foreign) or any(hosts[name].data or hosts[name].running for name in ours)
    if foreign:
        raise Refusal(
            "create.foreign",
            [f"{name}: {reason}" for name, reason in foreign.items()],
            f"these hosts hold etcd instances or data that do not belong to this inventory's cluster `{spec.cluster}`",
            "They are not this cluster's to stop or delete: if their data can go, stop and remove them by hand.",
        )
    if first.etcd_clean and has_instances:
        _check_clean(facts, hosts)
        warnings.append("etcd_clean: wiping every etcd instance and its data, then bootstrapping a new cluster")
        return _finish(facts, first, bootstrap=True, rebuild=True, view=None, warnings=warnings)
    if not has_instances:
        return _finish(facts, first, bootstrap=True, rebuild=False, view=None, warnings=warnings)

    view = facts.view
    if view is None:
        bare = [name for name in hosts if name not in ours]
        if bare:
            raise Refusal(
                "create.down_with_new_hosts",
                f"members of cluster `{spec.cluster}` have data but no member answers, and "
                f"{', '.join(bare)} {'is' if len(bare) == 1 else 'are'} not members yet",
                fix="Bring the cluster back first (`systemctl start etcd` on its members), then add new hosts with the join SOP",
            )
        warnings.append(f"no member of cluster `{spec.cluster}` answers: starting its stopped members")
        return _finish(facts, first, bootstrap=False, rebuild=False, view=None, warnings=warnings)
    problems = []
    for name, host in hosts.items():
        if view.by_peer_url(host.member.peer_url) is None:
            if name in ours and host.data:
                problems.append(
                    f"{name} has data of cluster `{spec.cluster}` but the live cluster has no member with peer URL "
                    f"{host.member.peer_url} (it was removed): add it again with the join SOP, which wipes its stale data"
                )
            else:
                problems.append(
                    f"{name} is not a member of the running cluster `{spec.cluster}`: add it with the join SOP "
                    f"(bin/etcd-add {host.member.address}, or deploys/join.py --limit {host.member.address})"
                )
    if problems:
        raise Refusal("create.not_converged", problems, "cannot converge the running cluster")
    for member in view.members:
        if not any(url == host.member.peer_url for host in hosts.values() for url in member.peer_urls):
            warnings.append(
                f"member {member.describe()} is not in the inventory: remove it with the remove SOP, or add it to the inventory"
            )
    return _finish(facts, first, bootstrap=False, rebuild=False, view=view, warnings=warnings)


def version_warnings(hosts) -> list[str]:
    """Members whose installed etcd is not etcd_version: create never upgrades (nor downgrades) one."""
    return [
        f"{host.member.host_name} has etcd {host.version}, not etcd_version {host.settings.etcd_version}: create does not "
        "change it; upgrade with deploys/upgrade.py (one member at a time)"
        for host in hosts
        if host.settings.etcd_version and host.version not in (None, host.settings.etcd_version)
    ]


def _check_clean(facts: CreateFacts, hosts: dict[str, HostState]) -> None:
    """etcd_clean wipes a live cluster only when asked for this run, for the whole cluster, with
    no safeguard on any host, and only data dirs that hold nothing but etcd's member/."""
    problems = []
    if not facts.clean_from_command_line:
        problems.append(
            "etcd_clean is set in the inventory or YAML config: it wipes a live cluster only when given for one run "
            "on the command line (--data etcd_clean=true). Remove it from the inventory; deploys/destroy.py deletes a cluster"
        )
    guarded = [name for name, host in hosts.items() if host.settings.etcd_safeguard]
    if guarded:
        problems.append(
            f"etcd_clean asks to wipe live etcd instances, but etcd_safeguard is on ({', '.join(guarded)}): "
            "set etcd_safeguard=false to rebuild the cluster (its data is lost)"
        )
    left_out = [name for name, host in hosts.items() if not host.in_run]
    if left_out:
        problems.append(f"etcd_clean rebuilds the whole cluster, but the run leaves out {', '.join(left_out)}: run it without --limit")
    problems += [f"{name}: {problem}" for name, host in hosts.items() for problem in [host.data_problem()] if problem]
    if problems:
        raise Refusal("create.clean", problems, "cannot rebuild the cluster (etcd_clean)")


def _finish(
    facts: CreateFacts, first: Settings, bootstrap: bool, rebuild: bool, view: ClusterView | None, warnings: list[str]
) -> CreatePlan:
    spec, hosts = facts.spec, facts.hosts
    running = [h for h in hosts.values() if h.running]
    rotate_root = False if rebuild else checks.control_node_matches(facts.control, running, spec.cluster, first, may_rotate=True)
    cluster_secrets = ClusterSecrets.of(first, spec.cluster)
    # A token of its own per bootstrap: a rebuilt cluster gets a new cluster ID.
    token = facts.new_token if bootstrap else (cluster_token(hosts.values()) or spec.cluster)
    membership = Membership.of_inventory(spec) if view is None else Membership.of_live_cluster(view, spec)
    members = {}
    for name, host in hosts.items():
        member_plan = MemberPlan.of(host)
        current_state = None if rebuild else host.conf_value("initial-cluster-state")
        member_plan.files = member_files(host, membership, token, "new" if bootstrap else (current_state or "existing"))
        if host.running and not rebuild:
            member_plan.restart_reason = restart_reason(host, member_plan.files)
        members[name] = member_plan
    if view is not None:
        checks.restart_allowed(members.values(), view)
        checks.quota_fits(members.values(), view)
    warnings += conf_warnings(members.values()) + unit_notes(members.values())
    warnings += version_warnings(hosts.values()) + package_notes(hosts.values())
    if cluster_secrets.root.value in WELL_KNOWN:
        warnings.append("etcd_root_password is Pigsty's well-known default: set a strong one")
    # RBAC is enabled (or checked) through the first member that serves now, else the first member:
    # a bootstrap whose first member failed gets its RBAC through another one on the next run
    serving = [h.member for h in members.values() if view is not None and view.serves(h.member.peer_url)]
    seed = min(serving or [member_plan.member for member_plan in members.values()], key=lambda member: member.seq)
    monitoring = monitoring_plan(facts.monitors, spec.cluster, [Target(m.name, m.address, m.port) for m in spec.members], cluster_secrets)
    certificates = [cluster_secrets.member_certificate(m) for m in spec.members]
    if monitoring and monitoring.certificate:
        certificates.append(monitoring.certificate)
    plan = CreatePlan(
        spec,
        bootstrap,
        rebuild,
        seed,
        members,
        view,
        monitoring,
        cluster_secrets,
        cluster_secrets.work(certificates, facts.control.now, rotating_root=rotate_root),
        warnings,
    )
    if rotate_root:
        plan.rotate_root_on = min(running, key=lambda h: h.member.seq).member
        warnings.append(f"the root password changes: etcd first, through {plan.rotate_root_on.name}, then every member's etcd.pass")
    return plan
