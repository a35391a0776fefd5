"""The recover SOP's decisions: a cluster that lost its quorum for good (a majority of its members
gone) rebuilt from the member with the newest data, then made whole again; the last resort before a
restore from a snapshot.

Every member of the inventory is accounted for before anything changes: reached over SSH and
inspected, or named by the operator as gone for good (etcd_recover_lost), and then neither reached
over SSH nor answering on its client port. A member that has a leader, or that any member's host
(or the control node) sees answer with a leader, stops the run: the cluster has quorum somewhere,
and forcing another member out of it would split the brain.

What a member holds is read from its disk when its etcd does not serve (a stopped member, and a
member that started without quorum: etcd 3.4 and 3.5 serve their client port only once they have
one): from a copy of its database, without starting it (etcdkit.remote.recovery.database_status).
A serving member says it in its metrics. Members are compared by revision: every write to the keys
raises it, so of two members of one raft log the one with the higher revision has applied more, and
equal revisions hold the same keys. The member with the newest data survives whatever its state
(ties: the lowest etcd_seq); a stopped one is started as the one-member cluster of its data
(force-new-cluster) from its stopped state, as starting it first would not bring a lost majority
back. The other members' member data is deleted only once the survivor serves alone, and only
because it is not newer.

The other members of the inventory then join again one at a time through the join SOP's own
decisions (made at each one's turn from the live member list, etcdkit.plans.join.decide) and tasks,
and the reload part of the same run brings every member's configuration and the clients (Patroni,
vip-manager, admin hosts, Prometheus) to the cluster the run ends with: every member of the
inventory but those named lost, each a started voter.
"""

import http.client
import ssl
from dataclasses import dataclass, field, replace

from gevent.pool import Group
from pyinfra.facts.server import Which

from etcdkit.facts.etcd import EtcdDatabase, EtcdMetrics, parse_metrics
from etcdkit.model.cluster import ClusterView, EndpointHealth, EndpointStatus, LiveMember, MemberMetrics, quorum
from etcdkit.model.data import DatabaseStatus
from etcdkit.model.host import EtcdHostState, Ownership
from etcdkit.model.inventory import ClusterSpec, Member
from etcdkit.model.refusals import Problem, Refusal
from etcdkit.model.run import run_context
from etcdkit.model.versions import offline_tool
from etcdkit.plans import checks, reload
from etcdkit.plans.expected import joined_host
from etcdkit.plans.gather import ControlState, HostState, read_control, read_hosts
from etcdkit.plans.join import JoinFacts
from etcdkit.plans.memberfiles import ClusterSecrets, Membership

CONTROL_NODE = "the control node"


@dataclass(frozen=True)
class RecoverFacts:
    spec: ClusterSpec
    hosts: dict[str, HostState]
    lost: frozenset[str]  # addresses named in etcd_recover_lost
    # who asked (a member's host name, or CONTROL_NODE) -> client URL -> what that member's metrics said
    seen: dict[str, dict[str, MemberMetrics]]
    databases: dict[str, DatabaseStatus | None]  # host name -> its database read offline (EtcdDatabase), for the members that do not serve
    control: ControlState
    clients: tuple  # reload.read_clients(): admin hosts, PostgreSQL hosts, their passwords, monitoring hosts


@dataclass(frozen=True)
class Reading:
    """What recover learned of one member."""

    state: str  # serving, running (not serving), stopped, no data, lost, unreachable
    revision: int | None = None
    applied_index: int | None = None  # known when its metrics answer
    source: str = ""  # where the revision comes from
    error: str | None = None  # why its data could not be read

    def describe(self) -> str:
        if self.error:
            return f"{self.state}: its data could not be read ({self.error})"
        if self.revision is None:
            return self.state
        applied = f"applied index {self.applied_index}, " if self.applied_index is not None else ""
        return f"{self.state}: {applied}revision {self.revision} ({self.source})"


@dataclass(frozen=True)
class Rejoin:
    """What each member that joins again is decided on at its turn, with the member list read then
    (the joins are one at a time, in whatever order the run takes them)."""

    spec: ClusterSpec
    hosts: dict[str, HostState]  # as the plan read them
    survivor: str  # its host name
    control: ControlState

    def facts(self, joiner: str, state: EtcdHostState | None, view: ClusterView | None, joined: set[str]) -> JoinFacts:
        """The join SOP's facts for this joiner (its host's state read now): the survivor and the
        members joined before it are the cluster, nothing else is in the run."""
        members = {name: replace(host, in_run=False) for name, host in self.hosts.items() if name == self.survivor or name in joined}
        own = self.hosts[joiner]
        return JoinFacts(self.spec, {**members, joiner: HostState(own.member, own.settings, state)}, view, self.control)


@dataclass
class RecoverPlan:
    spec: ClusterSpec
    survivor: HostState
    wipe: dict[str, str]  # host name -> data dir, of the members whose (older) member data goes
    joiners: list[str]  # host names of the members that join again, in etcd_seq order
    rejoin: Rejoin
    reload: reload.ReloadPlan  # of the cluster the run ends with
    done: str
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def control(self):
        return self.reload.control


def recover_plan(state, inventory) -> RecoverPlan:
    return run_context(state).once("recover", lambda: decide(gather(state, inventory)))


def gather(state, inventory) -> RecoverFacts:
    """Every member's host (the lost ones too: they must not answer), every member's metrics as
    each reachable host and the control node see them, and the databases of the members that do
    not serve (with etcdutl, or etcdctl on etcd 3.4). Four round trips per host at most, every host at once."""
    spec, hosts = read_hosts(inventory, state)
    first = hosts[spec.members[0].host_name].settings
    urls = tuple(m.client_url for m in spec.members)
    reachable = [h for h in hosts.values() if h.reachable]

    def probe(host: HostState):
        return host.member.host_name, inventory.get_host(host.member.host_name).get_fact(EtcdMetrics, endpoints=urls)

    seen = dict(Group().map(probe, reachable))
    secrets = ClusterSecrets.of(first, spec.cluster)
    elsewhere = [h.member.client_url for h in hosts.values() if not h.reachable]
    seen[CONTROL_NODE] = {url: status for url, status in Group().map(lambda url: (url, ask(url, secrets)), elsewhere) if status}

    def offline(host: HostState):
        pyinfra_host = inventory.get_host(host.member.host_name)
        tool = offline_tool(host.version, bool(pyinfra_host.get_fact(Which, command="etcdutl")))
        if tool is None:
            return host.member.host_name, DatabaseStatus(error="no etcdutl on the host to read it offline: install etcd's etcdutl there")
        return host.member.host_name, pyinfra_host.get_fact(EtcdDatabase, data_dir=host.settings.etcd_data, tool=tool)

    unread = [h for h in reachable if h.ours and h.data and not serves(seen.get(h.member.host_name, {}).get(h.member.client_url))]
    databases = dict(Group().map(offline, unread))
    return RecoverFacts(
        spec,
        hosts,
        frozenset(first.etcd_recover_lost or ()),
        seen,
        databases,
        read_control(first, spec.cluster),
        reload.read_clients(inventory, hosts, first),
    )


def ask(url: str, secrets: ClusterSecrets, timeout: float = 3) -> MemberMetrics | None:
    """A member's metrics as the control node reads them with its admin certificate (None: no
    answer, or no admin certificate yet): a member the control node cannot log in to may still
    answer on its client port."""
    admin = secrets.client_certificate("admin")
    if not (admin.cert_path.exists() and admin.key_path.exists() and secrets.ca.files[0].exists()):
        return None
    address, _, port = url.split("//", 1)[-1].rpartition(":")
    try:
        context = ssl.create_default_context(cafile=str(secrets.ca.files[0]))
        context.load_cert_chain(str(admin.cert_path), str(admin.key_path))
        connection = http.client.HTTPSConnection(address, int(port), context=context, timeout=timeout)
        try:
            connection.request("GET", "/metrics")
            text = connection.getresponse().read().decode(errors="replace")
        finally:
            connection.close()
    except (OSError, ssl.SSLError, http.client.HTTPException, ValueError):
        return None
    return parse_metrics(text.splitlines())


def serves(status: MemberMetrics | None) -> bool:
    """A member's own metrics answered, with its revision."""
    return status is not None and status.revision is not None


def read(facts: RecoverFacts, host: HostState) -> Reading:
    name = host.member.host_name
    if host.member.address in facts.lost:
        return Reading("named lost (etcd_recover_lost)")
    if not host.reachable:
        return Reading("unreachable")
    own = facts.seen.get(name, {}).get(host.member.client_url)
    if own is not None and serves(own):
        state = "serving, with a leader" if own.leader else "serving, without a leader"
        return Reading(state, own.revision, own.applied_index, "its metrics")
    if not host.data:
        return Reading("running without data" if host.running else "no data")
    state = "running, not serving" if host.running else "stopped"
    database = facts.databases.get(name)
    if database is None:
        return Reading(state, error=f"no database in {host.settings.etcd_data}/member/snap")
    if database.error is not None:
        return Reading(state, error=database.error)
    return Reading(state, database.revision, None, "a copy of its database")


def decide(facts: RecoverFacts) -> RecoverPlan:
    spec, hosts = facts.spec, facts.hosts
    members = sorted(hosts.values(), key=lambda h: h.member.seq)
    readings = {h.member.host_name: read(facts, h) for h in members}
    problems = accounting_problems(facts) + leader_problems(facts) + host_problems(facts, readings)
    candidates = [h for h in members if readings[h.member.host_name].revision is not None and h.ours]
    if not problems and not candidates:
        problems.append(
            Problem(
                "recover.no_data",
                f"no member of `{spec.cluster}` holds data recover can start from: restore a snapshot instead (bin/etcd-restore)",
            )
        )
    if problems:
        raise refusal(spec.cluster, problems)
    survivor = max(candidates, key=lambda h: (readings[h.member.host_name].revision, -h.member.seq))
    token = survivor.conf_value("initial-cluster-token")
    others = [h for h in members if h is not survivor and h.member.address not in facts.lost]
    for host in others:
        problem = (host.stranger(None, token) or host.data_problem()) if host.ours else None
        if problem:
            problems.append(Problem("recover.foreign", f"{host.member.host_name}: {problem}"))
    if problems:
        raise refusal(spec.cluster, problems)
    wipe = {h.member.host_name: h.settings.etcd_data for h in others if h.ours and h.data}
    joiners = [h.member.host_name for h in others]
    settings = survivor.settings
    # the survivor, stopped or not, keeps its CA and its root password: the control node must hold them
    running = [survivor, *(h for h in others if h.running and h.ours)]
    checks.control_node_matches(facts.control, running, spec.cluster, settings)
    final = [survivor.member, *(h.member for h in others)]
    reload_plan = reload.decide(
        reload.ReloadFacts(
            spec,
            expected_hosts(facts, survivor, others, token or spec.cluster),
            tuple(sorted(facts.lost)),
            expected_view(final, survivor),
            facts.control,
            *facts.clients,
        )
    )
    plan = RecoverPlan(
        spec,
        survivor,
        wipe,
        joiners,
        Rejoin(spec, hosts, survivor.member.host_name, facts.control),
        reload_plan,
        done_message(spec, final, [h.member for h in members if h.member.address in facts.lost]),
        warnings=preview(facts, readings, survivor, wipe, joiners) + reload_plan.warnings,
        notes=list(reload_plan.notes),
    )
    return plan


def refusal(cluster: str, problems: list[Problem]) -> Refusal:
    return Refusal("recover.refused", problems, f"cannot recover `{cluster}`")


def accounting_problems(facts: RecoverFacts) -> list[Problem]:
    """Every member reached and inspected, or named lost and silent."""
    problems = []
    for host in sorted(facts.hosts.values(), key=lambda h: h.member.seq):
        member, lost = host.member, host.member.address in facts.lost
        if lost and host.reachable:
            problems.append(
                Problem(
                    "recover.lost_answers",
                    f"{member.host_name} is named lost (etcd_recover_lost), but it answers over SSH: a member that is not gone "
                    "for good is not given up; drop it from etcd_recover_lost (recover inspects it then)",
                )
            )
        elif lost:
            for who, url, _ in sightings(facts, member):
                problems.append(
                    Problem(
                        "recover.lost_answers",
                        f"{member.host_name} is named lost (etcd_recover_lost), but its etcd answers at {url} (seen from {who}): "
                        "it is not gone; bring it back instead, or stop it for good first",
                    )
                )
        elif not host.reachable:
            problems.append(
                Problem(
                    "recover.unaccounted",
                    f"{member.host_name} cannot be reached over SSH, and recover must account for every member: bring it back, "
                    f"or, if it is gone for good, name it: --data etcd_recover_lost={member.address} (and leave it out: "
                    f"--exclude {member.host_name})",
                )
            )
        elif not host.in_run:
            problems.append(
                Problem(
                    "recover.left_out",
                    f"recover takes the whole cluster, but the run leaves out {member.host_name}: run it without --limit or --exclude",
                )
            )
    return problems


def sightings(facts: RecoverFacts, member: Member) -> list[tuple[str, str, MemberMetrics]]:
    """(who, client URL, its metrics) of every answer of this member that anyone saw."""
    return [(who, member.client_url, seen[member.client_url]) for who, seen in facts.seen.items() if member.client_url in seen]


def leader_problems(facts: RecoverFacts) -> list[Problem]:
    """A member with a leader, by its own metrics or as any member's host (or the control node) sees it."""
    leading = []
    for host in sorted(facts.hosts.values(), key=lambda h: h.member.seq):
        witnesses = sorted({who for who, _, status in sightings(facts, host.member) if status.leader})
        if witnesses:
            own = host.member.host_name in witnesses
            others = [w for w in witnesses if w != host.member.host_name]
            said = ", ".join((["itself"] if own else []) + others)
            leading.append(f"{host.member.name} ({host.member.address}, seen by {said})")
    if not leading:
        return []
    down = " ".join(h.member.address for h in facts.hosts.values() if not h.running)
    return [
        Problem(
            "recover.partition",
            f"the cluster has a leader: {'; '.join(leading)} {'has one' if len(leading) == 1 else 'have one'}, so it has quorum. "
            "recover is only for a cluster that lost its quorum for good, and forcing a member out of one that has it would "
            "split the brain. Replace failed members instead: bin/etcd-rm -i INVENTORY IP, then bin/etcd-add -i INVENTORY IP"
            + (f" (not running, or not reached over SSH: {down})" if down else ""),
        )
    ]


def host_problems(facts: RecoverFacts, readings: dict[str, Reading]) -> list[Problem]:
    """What each host holds must be provably this cluster's and readable; the switches allow the run."""
    hosts = facts.hosts
    problems = []
    guarded = [name for name, host in hosts.items() if host.settings.etcd_safeguard]
    if guarded:
        problems.append(
            Problem(
                "recover.safeguard",
                f"etcd_safeguard is on ({', '.join(guarded)}): recover deletes the member data of every member but one; "
                "set etcd_safeguard=false for this run (--data etcd_safeguard=false)",
            )
        )
    for name, host in hosts.items():
        kind, reason = host.ownership()
        if kind is Ownership.FOREIGN:
            problems.append(
                Problem("recover.foreign", f"{name}: {reason}; it is not this cluster's, so nothing there is stopped or deleted")
            )
        elif readings[name].error:
            problems.append(
                Problem(
                    "recover.unreadable",
                    f"{name}: its data could not be read ({readings[name].error}): recover cannot tell whether it holds the "
                    "newest data. Make room or fix the cause and run again; if its data may go, move its data dir away first",
                )
            )
    holders = [h for h in hosts.values() if h.ours and readings[h.member.host_name].revision is not None]
    tokens = {h.conf_value("initial-cluster-token") for h in holders}
    if len(tokens) > 1:
        listing = ", ".join(f"{h.member.name} {h.conf_value('initial-cluster-token')!r}" for h in holders)
        problems.append(
            Problem(
                "recover.tokens",
                f"the members with data were bootstrapped as different clusters ({listing}): recover cannot tell which is `{facts.spec.cluster}`",
            )
        )
    return problems


def expected_hosts(facts: RecoverFacts, survivor: HostState, joiners: list[HostState], token: str) -> dict[str, HostState]:
    """The members as the joins leave them, which the reload of the same run is planned on: the
    survivor running, each joiner running with the files the join gives it and the control node's
    CA and root password; the members named lost as they are (unreachable, and out of the run)."""
    membership = Membership.of_inventory(replace(facts.spec, members=(survivor.member, *(h.member for h in joiners))))
    expected = dict(facts.hosts)
    expected[survivor.member.host_name] = survivor.with_state(active="active", own=None)
    for host in joiners:
        expected[host.member.host_name] = joined_host(host, membership, token, facts.control)
    return expected


def expected_view(members: list[Member], survivor: HostState) -> ClusterView:
    """The member list as the run leaves it: the survivor (leading) and the joiners, every one a
    started, healthy voter (their member IDs are not known before they join: each stands in as its
    etcd_seq + 1)."""
    entries = tuple(LiveMember(m.seq + 1, m.name, (m.peer_url,), (m.client_url,), False) for m in members)
    leader = survivor.member.seq + 1
    return ClusterView(
        0,
        leader,
        entries,
        status={m.client_url: EndpointStatus(leader=leader) for m in members},
        health={m.client_url: EndpointHealth(healthy=True) for m in members},
    )


def preview(facts: RecoverFacts, readings: dict[str, Reading], survivor: HostState, wipe: dict[str, str], joiners: list[str]) -> list[str]:
    hosts = sorted(facts.hosts.values(), key=lambda h: h.member.seq)
    names = {h.member.host_name: h.member.name for h in hosts}
    listing = "\n".join(
        f"  {h.member.name} ({h.member.address}): {readings[h.member.host_name].describe()}"
        + ("  <- the newest data: the survivor" if h is survivor else "")
        for h in hosts
    )
    plan = (
        f"{survivor.member.name} ({survivor.member.address}) becomes a one-member cluster of its data (force-new-cluster"
        + (", started from its stopped state" if not survivor.running else "")
        + "); writes it had not applied are lost"
    )
    if wipe:
        plan += f"; then {', '.join(names[n] for n in wipe)} {'is' if len(wipe) == 1 else 'are'} stopped and {'its' if len(wipe) == 1 else 'their'} member data deleted (older than {survivor.member.name}'s)"
    if joiners:
        plan += f"; then {', '.join(names[n] for n in joiners)} join{'s' if len(joiners) == 1 else ''} again one at a time (the join SOP: learners, each promoted before the next)"
    plan += "; then the members and their clients are reloaded"
    warnings = [f"recover `{facts.spec.cluster}`: no member has a leader, and every member is accounted for:\n{listing}", plan]
    stopped = [h for h in hosts if h.ours and h.data and h.reachable and not h.running]
    running = [h for h in hosts if h.ours and h.running]
    if stopped and len(stopped) + len(running) >= quorum(len(hosts)):
        warnings.append(
            f"{', '.join(h.member.name for h in stopped)} {'holds' if len(stopped) == 1 else 'hold'} data but "
            f"{'is' if len(stopped) == 1 else 'are'} stopped: with {'it' if len(stopped) == 1 else 'them'} started "
            f"(systemctl start etcd), {len(stopped) + len(running)} of {len(hosts)} members would run, a quorum: if etcd starts "
            "there, that brings the cluster back with nothing lost; do that instead (Ctrl-C now)"
        )
    lost = [h for h in hosts if h.member.address in facts.lost]
    if lost:
        addresses = " ".join(h.member.address for h in lost)
        warnings.append(
            f"{', '.join(h.member.name for h in lost)} {'is' if len(lost) == 1 else 'are'} named lost: left out of the cluster. "
            "Keep etcd from starting there with its old data before such a host runs again (several of them together could "
            f"elect a leader of the old cluster); join it again with bin/etcd-add -i INVENTORY {addresses}, which deletes its old data"
        )
    return warnings


def done_message(spec: ClusterSpec, final: list[Member], lost: list[Member]) -> str:
    text = f"recover: `{spec.cluster}` runs on {', '.join(m.name for m in final)}, every one a started voter, its clients reloaded"
    if lost:
        text += (
            f"; {', '.join(m.name for m in lost)} (named lost) {'is' if len(lost) == 1 else 'are'} not a member: once "
            f"{'its host runs' if len(lost) == 1 else 'their hosts run'} again, add {'it' if len(lost) == 1 else 'them'} "
            f"with bin/etcd-add -i INVENTORY {' '.join(m.address for m in lost)}"
        )
    return text
