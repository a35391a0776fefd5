"""The join SOP's decisions, made once per run from the inventory, every member's state and the live
member list, before anything changes.

The joining host is the host of the run (`--limit`) that is not yet a started voting member; one per
run, so that memberships change one at a time (bin/etcd-add runs one join after another). A join
begun before (an unstarted entry or a started learner with the host's peer URL) is resumed.

The new member gets the etcd its cluster runs (the members' server versions of `endpoint status`;
the newest while an upgrade is unfinished), unless etcd_version or etcd_tarball names another
release of a minor version the cluster runs (etcdkit/model/versions.py); an etcd of another version
on a host that is no member yet is replaced by it. The preview says which version and why.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from etcdkit.control.store import ControlWork
from etcdkit.model.cluster import ClusterView, LiveMember
from etcdkit.model.host import Ownership
from etcdkit.model.inventory import ClusterSpec
from etcdkit.model.refusals import Problem, Refusal
from etcdkit.model.run import run_context
from etcdkit.model.settings import Settings
from etcdkit.model.versions import new_member_version
from etcdkit.plans import checks
from etcdkit.plans.gather import ControlState, HostState, live_token, read_control, read_hosts, read_view
from etcdkit.plans.memberfiles import ClusterSecrets, MemberPlan, Membership, cluster_token, member_files

TARBALL_VERSION = re.compile(r"-v(\d+\.\d+\.\d+)-")


@dataclass(frozen=True)
class JoinFacts:
    spec: ClusterSpec
    hosts: dict[str, HostState]
    view: ClusterView | None
    control: ControlState


@dataclass
class JoinPlan:
    spec: ClusterSpec
    view: ClusterView
    joiner: MemberPlan | None  # None: every host of the run is a started voting member already
    entry: LiveMember | None = None  # the joiner's member entry, when a join was begun before
    learner: bool = True
    wipe: bool = False  # the joiner holds stale data (it is not a started member): delete it first
    endpoints: str = ""  # client URLs of the started members, for etcdctl on the joiner
    version: str | None = None  # the etcd the joiner gets
    replace: bool = False  # an installed etcd of another version is replaced (the joiner runs no member yet)
    secrets: ClusterSecrets | None = None
    control: ControlWork | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def join_plan(state, inventory) -> JoinPlan:
    return run_context(state).once("join", lambda: decide(gather(state, inventory)))


def gather(state, inventory) -> JoinFacts:
    spec, hosts = read_hosts(inventory, state)
    view = read_view(inventory, [h for h in hosts.values() if h.ours])
    return JoinFacts(spec, hosts, view, read_control(hosts[spec.members[0].host_name].settings, spec.cluster))


def decide(facts: JoinFacts) -> JoinPlan:
    spec, hosts = facts.spec, facts.hosts
    view = checks.answering(facts.view, spec.cluster, "join.down", "cannot join")

    joiners = [h for h in hosts.values() if h.in_run and not view.has_voter(h.member.peer_url)]
    if not joiners:
        return JoinPlan(spec, view, None, notes=[f"every host of this run is a started member of `{spec.cluster}`: nothing to join"])
    if len(joiners) > 1:
        names = " ".join(h.member.address for h in joiners)
        raise Refusal(
            "join.several",
            f"{len(joiners)} hosts of this run are not members ({names}): members join one at a time",
            fix=f"Limit the run to one host (--limit IP), or run bin/etcd-add {names}, which joins them one after another",
        )
    joiner = joiners[0]
    if not joiner.reachable:
        raise Refusal("join.unreachable", f"cannot join: {joiner.member.host_name} cannot be reached over SSH")
    entry = view.by_peer_url(joiner.member.peer_url)
    learner = entry.is_learner if entry else joiner.settings.etcd_learner
    members = [h for h in hosts.values() if h is not joiner]
    token = live_token(members, view) or cluster_token(members) or spec.cluster
    named, mismatch = named_version(joiner.settings)
    choice = new_member_version(view.versions(), named)
    problems, warnings = cluster_problems(view, entry, learner)
    problems += [Problem("join.version", problem) for problem in (mismatch, None if choice.version else choice.why) if problem]
    problems += host_problems(spec, joiner, view, entry, token)
    if problems:
        raise Refusal("join.refused", problems, f"cannot join {joiner.member.host_name} to `{spec.cluster}`")
    settings = members[0].settings if members else joiner.settings
    checks.control_node_matches(facts.control, [h for h in members if h.running], spec.cluster, settings)
    cluster_secrets = ClusterSecrets.of(settings, spec.cluster)
    plan = MemberPlan.of(joiner)
    plan.files = member_files(joiner, Membership.of_live_cluster(view, spec, joining=joiner.member), token, "existing")
    endpoints = ",".join(sorted(url for m in view.started if m is not entry for url in m.client_urls))
    control = cluster_secrets.work([cluster_secrets.member_certificate(joiner.member)], facts.control.now)
    replace = not (entry and entry.started)
    wipe = bool(joiner.data) and replace
    notes = [f"{joiner.member.name} gets etcd {choice.version}: {choice.why}"]
    installed = joiner.version
    if replace and installed not in (None, choice.version):
        notes.append(
            f"{joiner.member.host_name} has etcd {installed} installed, not a member's: the join replaces it with {choice.version}"
        )
    return JoinPlan(spec, view, plan, entry, learner, wipe, endpoints, choice.version, replace, cluster_secrets, control, warnings, notes)


def cluster_problems(view: ClusterView, entry: LiveMember | None, learner: bool) -> tuple[list[Problem], list[str]]:
    """What of the cluster stops a join (the joiner's own entry, a join begun before, aside), and the warnings."""
    problems = checks.nothing_pending(view, allowed=entry) + checks.healthy(view, ignoring=entry)
    if entry is not None or learner:
        return problems, []
    voters, healthy = len(view.voters) + 1, len(view.healthy_voters)
    if voters == 2 and healthy == 1:
        warning = "etcd_learner=false on a 1-member cluster: it has no write quorum from the member add until the new member is up; "
        return problems, [warning + "a learner (the default) avoids that"]
    return problems + checks.quorum_after(voters, healthy), []


def host_problems(spec: ClusterSpec, joiner: HostState, view: ClusterView, entry: LiveMember | None, token: str) -> list[Problem]:
    """What on the joiner's host stops a join: an etcd or data of another cluster is never stopped or deleted."""
    name, problems = joiner.member.host_name, []
    kind, reason = joiner.ownership()
    if kind is Ownership.FOREIGN and not (entry and entry.started):
        problems.append(
            f"{name} holds an etcd or data that is not this cluster's ({reason}): nothing there is "
            "stopped or deleted; if it can go, stop and remove it by hand, then run the join again"
        )
    stranger = joiner.stranger(view, token) if kind is Ownership.OURS else None
    if stranger:
        problems.append(f"{name} is not a member of `{spec.cluster}`: {stranger}; nothing there is stopped or deleted")
    wipe = bool(joiner.data) and not (entry and entry.started)
    if wipe and kind is Ownership.OURS and joiner.data_problem():
        problems.append(f"{name}: {joiner.data_problem()}")
    return [Problem("join.foreign", problem) for problem in problems]


def named_version(settings: Settings) -> tuple[str | None, str | None]:
    """The release the operator names for a new member: etcd_version, else the release of
    etcd_tarball (etcd-v3.5.16-linux-amd64.tar.gz); and the problem when the two differ."""
    found = TARBALL_VERSION.search(Path(settings.etcd_tarball).name) if settings.etcd_tarball else None
    tarball, version = found.group(1) if found else None, settings.etcd_version
    if tarball and version and tarball != version:
        return version, f"etcd_tarball {settings.etcd_tarball} is not the release of etcd_version {version}"
    return version or tarball, None
