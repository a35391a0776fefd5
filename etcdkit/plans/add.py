"""bin/etcd-add's run: the next host that etcd_join names joins, then the members and their clients
are reloaded for the cluster the join leaves, in one pyinfra run over the inventory, planned once
before anything changes.

The join part is the join SOP's own decision (etcdkit.plans.join.decide) with that host the only
one of the run that joins: the first host etcd_join names that is not a started voting member (the
others join in the runs after it, one run each). The reload part is the reload SOP's decision
(etcdkit.plans.reload.decide) on the cluster as the join leaves it (etcdkit.plans.expected); its
steps run only once the join succeeded in this run. Once every named host is a member, the run is
a reload.
"""

from dataclasses import dataclass, field, replace

from etcdkit.control.store import ControlWork
from etcdkit.model.run import run_context
from etcdkit.plans import checks, join, reload
from etcdkit.plans.expected import joined_host, with_member
from etcdkit.plans.gather import left_out, live_token, read_control, read_hosts, read_view
from etcdkit.plans.memberfiles import Membership, cluster_token


@dataclass(frozen=True)
class AddFacts:
    join: join.JoinFacts  # every host of the inventory in the run marked in_run
    reload: reload.ReloadFacts
    named: tuple[str, ...]  # etcd_join: the addresses to join, in order


@dataclass
class AddPlan:
    join: join.JoinPlan  # joiner None: every named host is a started member already
    reload: reload.ReloadPlan
    later: tuple[str, ...] = ()  # the named hosts that join in the runs after this one
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def control(self) -> ControlWork | None:
        """The control node's work of both parts: the joiner's certificate and the reload's."""
        works = [work for work in (self.join.control, self.reload.control) if work is not None]
        return works[0].merged(*works[1:]) if works else None

    @property
    def control_host(self) -> str | None:
        return self.join.joiner.member.host_name if self.join.joiner else self.reload.control_host


def add_plan(state, inventory) -> AddPlan:
    return run_context(state).once("add", lambda: decide(gather(state, inventory)))


def gather(state, inventory) -> AddFacts:
    """The facts of both parts, read once: every member's host, the member list, the control node
    and the clients (hosts outside the run, --exclude, are neither contacted nor reloaded)."""
    outside = left_out(state, inventory)
    spec, hosts = read_hosts(inventory, state, skip=outside)
    view = read_view(inventory, [h for h in hosts.values() if h.ours])
    first = hosts[spec.members[0].host_name].settings
    control = read_control(first, spec.cluster)
    clients = reload.read_clients(inventory, hosts, first)
    return AddFacts(
        join.JoinFacts(spec, hosts, view, control),
        reload.ReloadFacts(spec, hosts, outside, view, control, *clients),
        tuple(first.etcd_join or ()),
    )


def decide(facts: AddFacts) -> AddPlan:
    spec, hosts = facts.join.spec, facts.join.hosts
    view = checks.answering(facts.join.view, spec.cluster, "join.down", "cannot join")  # as join.decide refuses it
    by_address = {h.member.address: h for h in hosts.values()}
    pending = [address for address in facts.named if not view.has_voter(by_address[address].member.peer_url)]
    if not pending:
        joined = join.JoinPlan(spec, view, None, notes=[f"{' '.join(facts.named)}: started members of `{spec.cluster}` already"])
        return AddPlan(joined, reload.decide(facts.reload))
    joiner = by_address[pending[0]]
    only = {name: replace(host, in_run=host is joiner) for name, host in hosts.items()}
    joined = join.decide(replace(facts.join, hosts=only))
    members = [h for h in hosts.values() if h is not joiner]
    token = live_token(members, view) or cluster_token(members) or spec.cluster
    membership = Membership.of_live_cluster(view, spec, joining=joiner.member)
    after = {**hosts, joiner.member.host_name: joined_host(joiner, membership, token, facts.join.control)}
    later = tuple(pending[1:])
    reloaded = reload.decide(replace(facts.reload, hosts=after, view=with_member(view, joiner.member)))
    # the hosts that join in the next runs are no members yet: the reload skips them, as it should
    warnings = [
        w for w in reloaded.warnings if not any(w.startswith(f"{by_address[a].member.host_name} is in the inventory") for a in later)
    ]
    notes = [f"then the members and their clients are reloaded for the cluster with {joiner.member.name}"]
    if later:
        notes.append(f"{' '.join(later)} join in the runs after this one, one run each")
    return AddPlan(joined, reloaded, later, [*joined.warnings, *warnings], [*joined.notes, *notes, *reloaded.notes])
