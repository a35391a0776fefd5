"""The downgrade SOP's decisions: whether the cluster may go back one minor version to etcd_version
now, and which members take a turn in which order, made once per run before anything changes.

etcd downgrades a cluster from 3.6 on, one minor version back: `etcdctl downgrade validate`, then
`enable`, which sets the cluster version to the target at once, then each member's binary replaced
by the older one, followers first and the leader last (the upgrade's turns, etcdkit/tasks/upgrade.py).
etcd ends the downgrade by itself once every member runs the target.

Refused before any change: etcd_version unset or invalid, a member that does not serve, no leader, a
learner or unstarted member pending, a cluster below 3.6 (etcd has no downgrade there: the message
says to restore a snapshot taken before the upgrade), a target that is not one minor version back
or is under the release etcd asks for while both minor versions run (3.5.32), a downgrade to
another version enabled already, members of both minor versions without an enabled downgrade, or
a tarball of another release. An interrupted downgrade (enabled, some members at the target) is
resumed without enabling it again; once every member runs etcd_version, a run changes nothing.
"""

from dataclasses import dataclass, field

from etcdkit.model.cluster import ClusterView
from etcdkit.model.inventory import ClusterSpec
from etcdkit.model.refusals import Problem, Refusal
from etcdkit.model.run import run_context
from etcdkit.model.versions import Version, downgrade_problem, downgrade_target
from etcdkit.plans import checks
from etcdkit.plans.gather import HostState
from etcdkit.plans.turns import members_in_run, order_note, read_run, turn_order
from etcdkit.plans.upgrade import install_method_problems, tarball_problems


@dataclass(frozen=True)
class DowngradeFacts:
    spec: ClusterSpec
    hosts: dict[str, HostState]  # the inventory's members; those left out of the run are not contacted
    view: ClusterView | None


@dataclass
class DowngradePlan:
    version: str  # etcd_version: the release the members get
    target: str  # its minor version, the downgrade's target ("3.5")
    enable: bool  # validate and enable the downgrade first (False: it is enabled already)
    executor: str | None  # the host through whose member the downgrade is validated and enabled
    members: dict[str, HostState]  # the members that take a turn, by host name
    turns: list[str]  # followers by etcd_seq (pyinfra keeps no order among them), the leader last
    leader_host: str | None  # downgraded last (None: at the target already, or not in the run)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def downgrade_plan(state, inventory) -> DowngradePlan:
    return run_context(state).once("downgrade", lambda: decide(gather(state, inventory)))


def gather(state, inventory) -> DowngradeFacts:
    return DowngradeFacts(*read_run(state, inventory))


def decide(facts: DowngradeFacts) -> DowngradePlan:
    spec = facts.spec
    view = checks.answering(facts.view, spec.cluster, "downgrade.down", "cannot downgrade")
    settings = facts.hosts[spec.members[0].host_name].settings
    version = settings.etcd_version
    if not version:
        raise Refusal(
            "downgrade.no_version", "cannot downgrade: set the release to go back to, etcd_version (e.g. --data etcd_version=3.5.32)"
        )
    running = view.versions()
    enabled = downgrade_target(view.status.values())
    problem, wanted = downgrade_problem(version, running, enabled), Version.parse(version)
    if problem or wanted is None:  # the version rules first (a version that does not parse too): below 3.6, nothing else matters
        raise Refusal("downgrade.rules", [str(problem)], "cannot downgrade")
    problems: list[str | Problem] = [*checks.healthy(view), *checks.nothing_pending(view)]
    problems += tarball_problems(settings, version)
    problems += install_method_problems(facts.hosts.values(), bool(settings.etcd_tarball))
    if problems:
        raise Refusal("downgrade.refused", problems, "cannot downgrade")
    checks.tarballs(facts.hosts.values())
    target = wanted.minor_version
    members, warnings = members_in_run(view, spec, facts.hosts, "downgraded")
    behind = {name: host for name, host in members.items() if running.get(host.member.name) != version}
    if not behind:
        done = f"every member of the run runs etcd {version}: nothing to downgrade"
        after = f"; etcd ends the downgrade to {target} by itself once every member runs it" if enabled else ""
        return DowngradePlan(version, target, False, None, {}, [], None, warnings, [done + after])
    turns, leader_host = turn_order(view, behind)
    enable = enabled is None
    executor = min(behind, key=lambda name: behind[name].member.seq) if enable else None
    notes = [
        f"downgrade to {target}: etcdctl downgrade validate {target}, then enable {target}, through {behind[executor].member.name}"
        if executor
        else f"the downgrade to {target} is enabled already: the members left take their turn"
    ]
    notes += [f"{behind[name].member.name}: etcd {running.get(behind[name].member.name)} -> {version}" for name in turns]
    notes.append(order_note("downgrade", behind, turns, leader_host))
    return DowngradePlan(version, target, enable, executor, behind, turns, leader_host, warnings, notes)
