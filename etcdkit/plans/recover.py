"""The recover SOP's decisions: a cluster that lost its quorum for good (a majority of its members
gone) rebuilt from the best surviving member, the last resort before a restore from a snapshot.

Each member's own endpoint is asked for its status through its metrics, without logging in (a
member without quorum still answers them, but logs no one in, and from etcd 3.5.28 `endpoint
status` wants a login). The survivor is the running member of this cluster with the
highest raft applied index (ties: the lowest etcd_seq): it becomes a one-member cluster of its
data (force-new-cluster); the other members are then stopped and their member data deleted, and
join again with the join SOP (bin/etcd-add), one at a time. Writes the survivor had not applied are
lost. Refused while a member reports a leader (the cluster has quorum: replace members with remove
and join instead), when no member of the cluster answers, for a host holding anything that is not
provably this cluster's, with etcd_safeguard, and for a run that leaves members out.
"""

from dataclasses import dataclass, field

from pyinfra.api.exceptions import DeployError

from etcdkit.facts.etcd import EtcdLocalStatus
from etcdkit.model.inventory import ClusterSpec
from etcdkit.plans.gather import HostState, once_per_run, read_hosts


@dataclass(frozen=True)
class RecoverFacts:
    spec: ClusterSpec
    hosts: dict[str, HostState]
    status: dict[str, dict]  # host name -> what its running member's own endpoint says (EtcdLocalStatus); absent: no answer


@dataclass
class RecoverPlan:
    spec: ClusterSpec
    survivor: HostState
    wipe: dict[str, str]  # host name -> data dir, of the members whose member data goes (they join again)
    rejoin: list[str]  # addresses for bin/etcd-add, in etcd_seq order
    next_step: str
    warnings: list[str] = field(default_factory=list)


def recover_plan(state, inventory) -> RecoverPlan:
    return once_per_run(state, "recover", lambda: decide(gather(state, inventory)))


def gather(state, inventory) -> RecoverFacts:
    spec, hosts = read_hosts(inventory, state)
    status = {}
    for name, host in hosts.items():
        if host.running:
            answer = inventory.get_host(name).get_fact(EtcdLocalStatus, endpoint=host.member.client_url)
            if answer is not None:
                status[name] = answer
    return RecoverFacts(spec, hosts, status)


def decide(facts: RecoverFacts) -> RecoverPlan:
    spec, hosts, status = facts.spec, facts.hosts, facts.status
    cluster = spec.cluster
    names = {name: host.member.name for name, host in hosts.items()}
    leading = {name: answer["leader"] for name, answer in status.items() if answer["leader"]}
    if leading:
        addresses = " ".join(h.member.address for h in hosts.values() if not h.running)
        raise DeployError(
            f"cannot recover `{cluster}`: it has a leader ({', '.join(names[name] for name in leading)} "
            f"{'reports one' if len(leading) == 1 else 'report one'}), so it has quorum; nothing was changed. recover is only for a "
            "cluster that lost its quorum for good. Replace failed members instead: bin/etcd-rm -i INVENTORY IP, then "
            f"bin/etcd-add -i INVENTORY IP{f' (not serving: {addresses})' if addresses else ''}"
        )
    problems = []
    left_out = [name for name, host in hosts.items() if not host.in_run]
    if left_out:
        problems.append(f"recover takes the whole cluster, but the run leaves out {', '.join(left_out)}: run it without --limit")
    guarded = [name for name, host in hosts.items() if host.settings["etcd_safeguard"]]
    if guarded:
        problems.append(
            f"etcd_safeguard is on ({', '.join(guarded)}): recover deletes the member data of every member but one; "
            "set etcd_safeguard=false for this run (--data etcd_safeguard=false)"
        )
    for name, host in hosts.items():
        kind, reason = host.ownership()
        if kind == "foreign":
            problems.append(f"{name}: {reason}; it is not this cluster's, so nothing there is stopped or deleted")
    survivors = [hosts[name] for name in status if hosts[name].ours]
    if not survivors:
        problems.append(
            f"no member of `{cluster}` with data answers: recover needs a running survivor. Start etcd on the members that "
            "still have their data (systemctl start etcd), then run it again; without any, restore a snapshot (bin/etcd-restore)"
        )
    tokens = {h.conf_value("initial-cluster-token") for h in survivors}
    if len(tokens) > 1:
        listing = ", ".join(f"{h.member.name} {h.conf_value('initial-cluster-token')!r}" for h in survivors)
        problems.append(
            f"the running members were bootstrapped as different clusters ({listing}): recover cannot tell which is `{cluster}`"
        )
    if problems:
        raise DeployError(f"cannot recover `{cluster}`; nothing was changed:\n" + "\n".join(f"  - {problem}" for problem in problems))

    survivor = max(survivors, key=lambda h: (status[h.member.host_name]["applied_index"], -h.member.seq))
    token = survivor.conf_value("initial-cluster-token")
    others = [h for h in sorted(hosts.values(), key=lambda h: h.member.seq) if h is not survivor]
    for host in others:
        name = host.member.host_name
        if host.ours and host.stranger(None, token):
            problems.append(f"{name}: {host.stranger(None, token)}")
        elif host.ours and host.data_problem():
            problems.append(f"{name}: {host.data_problem()}")
    if problems:
        raise DeployError(f"cannot recover `{cluster}`; nothing was changed:\n" + "\n".join(f"  - {problem}" for problem in problems))

    wipe = {h.member.host_name: h.settings["etcd_data"] for h in others if h.reachable}
    gone = [h.member.host_name for h in others if not h.reachable]
    rejoin = [h.member.address for h in others]
    indexes = ", ".join(
        f"{h.member.name} {status[h.member.host_name]['applied_index']}" if h.member.host_name in status else f"{h.member.name} down"
        for h in sorted(hosts.values(), key=lambda h: h.member.seq)
    )
    warnings = [
        f"recover `{cluster}` (no quorum; raft applied index: {indexes}): {survivor.member.name} ({survivor.member.address}) becomes a "
        f"one-member cluster of its data (force-new-cluster), writes it had not applied are lost"
        + (f"; then {', '.join(names[name] for name in wipe)} are stopped and their member data deleted" if wipe else "")
    ]
    stopped = [names[h.member.host_name] for h in others if h.ours and h.reachable and not h.running and h.state["data"]]
    if stopped:
        warnings.append(
            f"{', '.join(stopped)} {'holds' if len(stopped) == 1 else 'hold'} data but {'is' if len(stopped) == 1 else 'are'} stopped: "
            "if starting etcd there (systemctl start etcd) brings the quorum back, do that instead, and nothing is lost"
        )
    if gone:
        warnings.append(
            f"{', '.join(gone)} cannot be reached over SSH: they must be gone for good. An etcd still running there with its old data "
            "serves the old cluster no more (the survivor refuses it), but stop it before it comes back; bin/etcd-add wipes it when it joins"
        )
    next_step = (
        f"recover: `{cluster}` runs on {survivor.member.name} alone; add the other members back one at a time: "
        f"bin/etcd-add -i INVENTORY {' '.join(rejoin)} (INVENTORY: this run's; it reloads the clients after the last)"
        if rejoin
        else f"recover: `{cluster}` runs on {survivor.member.name}, its only member"
    )
    return RecoverPlan(spec, survivor, wipe, rejoin, next_step, warnings)
