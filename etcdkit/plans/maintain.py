"""The maintenance SOP's decisions: whether the cluster may be maintained now, and in which order
its members are defragmented, made once per run before anything changes.

Every member must answer `endpoint status` and the cluster must have a leader; `endpoint health`
may fail, since a NOSPACE alarm makes it fail on every member and disarming that alarm is what the
SOP is for. A CORRUPT alarm refuses the run: the members' data differ, which no maintenance mends.
What each step does is read again when it runs (etcdkit/operations/maintenance.py): compaction
changes how fragmented the databases are, and a second run finds nothing to do.
"""

from dataclasses import dataclass, field

from etcdkit.facts.etcd import EtcdAlarms
from etcdkit.model.cluster import Alarm, ClusterView, db_sizes
from etcdkit.model.inventory import ClusterSpec
from etcdkit.model.refusals import Refusal
from etcdkit.model.run import run_context
from etcdkit.plans import checks
from etcdkit.plans.gather import HostState, by_majority
from etcdkit.plans.turns import members_in_run, order_note, read_run, turn_order


@dataclass(frozen=True)
class MaintainFacts:
    spec: ClusterSpec
    hosts: dict[str, HostState]  # the inventory's members; those left out of the run are not contacted
    view: ClusterView | None
    alarms: tuple[Alarm, ...] | None  # None: not read (no member of the run answers)


@dataclass
class MaintainPlan:
    parts: list[str]  # etcd_maintain
    keep: int  # etcd_compact_keep
    members: dict[str, HostState]  # the members maintained, by host name
    turns: list[str]  # host names in the order of their defragmentation: followers by etcd_seq, the leader last
    leader_host: str | None  # the leader's host, defragmented last (None: not in the run)
    executor: str  # the host that compacts and disarms, through its member
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def maintain_plan(state, inventory) -> MaintainPlan:
    return run_context(state).once("maintain", lambda: decide(gather(state, inventory)))


def gather(state, inventory) -> MaintainFacts:
    spec, hosts, view = read_run(state, inventory)
    asker = next((h for h in by_majority(hosts.values()) if h.running and h.ours), None)
    alarms = None
    if view is not None and asker is not None:
        alarms = inventory.get_host(asker.member.host_name).get_fact(EtcdAlarms, endpoint=asker.member.client_url)
    return MaintainFacts(spec, hosts, view, alarms)


def decide(facts: MaintainFacts) -> MaintainPlan:
    spec = facts.spec
    view = checks.answering(facts.view, spec.cluster, "maintain.down", "cannot maintain")
    problems = [f"the cluster does not answer as a whole: {p}" for p in view.silence_problems()]
    if facts.alarms is None:
        problems.append("the cluster's alarms cannot be read")
    corrupt = sorted({a.alarm for a in facts.alarms or ()} - {"NOSPACE"})
    if corrupt:
        problems.append(
            f"alarm {', '.join(corrupt)} is active: the members' data differ, which maintenance does not mend "
            "(docs/troubleshooting.md, `alarm CORRUPT is active`: replace the member whose data differ with bin/etcd-rm, then bin/etcd-add)"
        )
    if problems:
        raise Refusal("maintain.refused", problems, "cannot maintain")
    members, warnings = members_in_run(view, spec, facts.hosts, "defragmented")
    notes = [f"{entry.name}: database {db_sizes(view.status_of(entry))}" for entry in view.members]
    turns, leader_host = turn_order(view, members)
    executor = min(members, key=lambda name: members[name].member.seq)
    first = members[executor].settings
    alarms = sorted({a.alarm for a in facts.alarms or ()})  # None (unreadable) was refused above
    if alarms:
        notes.append(f"active alarms: {', '.join(alarms)}")
    if "defrag" in first.etcd_maintain:
        notes.append(order_note("defragmentation", members, turns, leader_host))
    return MaintainPlan(first.etcd_maintain, first.etcd_compact_keep, members, turns, leader_host, executor, warnings, notes)
