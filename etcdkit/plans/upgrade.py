"""The upgrade SOP's decisions: whether the cluster may move to etcd_version now, and which
members take a turn in which order, made once per run before anything changes.

Refused before any change: etcd_version unset or invalid, a member that does not serve, no
leader, a learner or unstarted member pending, a target older than a running server (no
downgrade), or one that skips a minor version of the cluster version (3.4 -> 3.6 goes through
3.5). The cluster version is the lowest major.minor of the members' server versions of
`endpoint status -w json` (etcdkit/model/versions.py): what etcd sets it to, read with etcdctl
alone. Members that run etcd_version already take no turn, so a second run changes nothing.
"""

from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path

from pyinfra.api.exceptions import DeployError

from etcdkit.model import paths
from etcdkit.model.cluster import ClusterView
from etcdkit.model.inventory import ClusterSpec
from etcdkit.model.versions import cluster_version, upgrade_problem
from etcdkit.plans import checks
from etcdkit.plans.gather import HostState, once_per_run
from etcdkit.plans.turns import members_in_run, order_note, read_run, turn_order
from etcdkit.remote.memberfiles import etcd_unit


@dataclass(frozen=True)
class UpgradeFacts:
    spec: ClusterSpec
    hosts: dict[str, HostState]  # the inventory's members; those left out of the run are not contacted
    view: ClusterView | None


@dataclass
class UpgradePlan:
    version: str  # etcd_version
    members: dict[str, HostState]  # the members that take a turn, by host name
    turns: list[str]  # followers by etcd_seq (pyinfra keeps no order among them), the leader last
    leader_host: str | None  # upgraded last, in an operation of its own (None: at the target already, or not in the run)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _install_method_problems(hosts, tarball: bool) -> list[str]:
    """A member upgrades the way it was installed: its unit runs the packages' /usr/bin/etcd or the
    tarball's /usr/local/bin/etcd, and the upgrade replaces that binary, never the unit."""
    problems = []
    for host in hosts:
        held = host.state.get("sha256", {}).get(paths.UNIT) if host.reachable else None
        if held is not None and held != sha256(etcd_unit(host.member, tarball).encode()).hexdigest():
            installed, asked = ("packages", "a tarball") if tarball else ("a tarball", "packages")
            problems.append(
                f"{host.member.host_name} runs etcd from {installed}, not {asked}: upgrade it the way it was installed "
                f"({'unset etcd_tarball' if tarball else 'set etcd_tarball and etcd_tarball_sha256 to the release of etcd_version'})"
            )
    return problems


def upgrade_plan(state, inventory) -> UpgradePlan:
    return once_per_run(state, "upgrade", lambda: decide(gather(state, inventory)))


def gather(state, inventory) -> UpgradeFacts:
    return UpgradeFacts(*read_run(state, inventory))


def decide(facts: UpgradeFacts) -> UpgradePlan:
    spec, view = facts.spec, facts.view
    problems = checks.answers(view, spec.cluster)
    if problems:
        raise DeployError(f"cannot upgrade: {problems[0]}; nothing was changed")
    settings = facts.hosts[spec.members[0].host_name].settings
    target = settings["etcd_version"]
    if not target:
        raise DeployError("cannot upgrade: set the version to run, etcd_version (e.g. --data etcd_version=3.5.16); nothing was changed")
    problems = checks.healthy(view) + checks.nothing_pending(view)
    running = {member.name: view.status_of(member).get("version") for member in view.started}
    problem = upgrade_problem(target, [v for v in running.values() if v], cluster_version(list(running.values())))
    if problem:
        problems.append(problem)
    tarball = settings["etcd_tarball"]
    if tarball and f"-v{target}-" not in Path(tarball).name:
        problems.append(f"etcd_tarball {tarball} is not the release of etcd_version {target} (etcd-v{target}-linux-ARCH.tar.gz)")
    problems += _install_method_problems(facts.hosts.values(), bool(tarball))
    if problems:
        raise DeployError("cannot upgrade, nothing was changed:\n" + "\n".join(f"  - {p}" for p in problems))
    checks.tarballs(facts.hosts.values())
    members, warnings = members_in_run(view, spec, facts.hosts, "upgraded")
    behind = {name: host for name, host in members.items() if running.get(host.member.name) != target}
    if not behind:
        return UpgradePlan(target, {}, [], None, warnings, [f"every member of the run runs etcd {target}: nothing to upgrade"])
    turns, leader_host = turn_order(view, behind)
    notes = [f"{behind[name].member.name}: etcd {running.get(behind[name].member.name)} -> {target}" for name in turns]
    notes.append(order_note("upgrade", behind, turns, leader_host))
    return UpgradePlan(target, behind, turns, leader_host, warnings, notes)
