"""The members of a rolling change (maintenance, upgrade): the live cluster's members whose hosts
are running members of the inventory in this run, and the order of their turns, followers by
etcd_seq and the leader last. Members left out (by --limit, or not in the inventory) are named,
not changed.
"""

from etcdkit.model.cluster import ClusterView
from etcdkit.model.inventory import ClusterSpec
from etcdkit.model.refusals import Refusal
from etcdkit.plans.gather import HostState, left_out, read_hosts, read_view


def read_run(state, inventory) -> tuple[ClusterSpec, dict[str, HostState], ClusterView | None]:
    """The inventory's members (those left out of the run are not contacted) and the live cluster."""
    outside = left_out(state, inventory)
    spec, hosts = read_hosts(inventory, state, skip=outside)
    return spec, hosts, read_view(inventory, [h for h in hosts.values() if h.ours])


def members_in_run(view: ClusterView, spec: ClusterSpec, hosts: dict[str, HostState], what: str) -> tuple[dict[str, HostState], list[str]]:
    """The members that take part, by host name, and a warning for each that does not (what: "upgraded" ...)."""
    members, warnings = {}, []
    for entry in view.members:
        wanted = spec.by_peer_url(entry.peer_urls[0] if entry.peer_urls else "")
        host = hosts.get(wanted.host_name) if wanted else None
        if host is None or not host.in_run or not host.running or not host.ours:
            warnings.append(f"member {entry.describe()} is not a running member of the inventory in this run: it is not {what}")
        else:
            members[host.member.host_name] = host
    if not members:
        raise Refusal("cluster.not_in_run", f"no member of `{spec.cluster}` is in this run")
    return members, warnings


def order_note(what: str, members: dict[str, HostState], turns: list[str], leader_host: str | None) -> str:
    """The order of the turns as the preview says it."""
    followers = [members[name].member.name for name in turns if name != leader_host]
    note = f"{what}: the followers one at a time ({', '.join(followers)})" if followers else f"{what}:"
    return note + (f", then the leader, {members[leader_host].member.name}, last" if leader_host else "")


def turn_order(view: ClusterView, members: dict[str, HostState]) -> tuple[list[str], str | None]:
    """The host names in the order of their turns (followers by etcd_seq, the leader last) and the
    leader's host (None: not among them). pyinfra runs a `_serial` operation's hosts in no set order:
    the leader's turn is last (an operation of its own), the followers' order among them is not kept."""
    leader = view.leader()
    leads = {name: leader is not None and members[name].member.peer_url in leader.peer_urls for name in members}
    turns = sorted(sorted(members, key=lambda name: members[name].member.seq), key=lambda name: leads[name])
    return turns, next((name for name in turns if leads[name]), None)
