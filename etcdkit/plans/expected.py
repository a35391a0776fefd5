"""The cluster as a membership change of the same run leaves it: what the reload part of a run that
joins or removes members (bin/etcd-add, bin/etcd-rm, recover) is planned on, before anything changes.

A run that changes the membership and then reloads the members and their clients plans both parts
from the facts read at its start (one start, one connection per host, one gathering of facts). The
reload part is therefore decided on the state the change leaves: a joiner a started voter with the
files its join gives it, a departed member gone from the member list. Its steps run only once the
change succeeded in the same run (a gate), so the state it was planned on is the state it finds.
"""

import hashlib
from dataclasses import replace

from etcdkit.model import paths
from etcdkit.model.cluster import ClusterView, EndpointHealth, EndpointStatus, LiveMember
from etcdkit.model.inventory import Member
from etcdkit.plans.gather import ControlState, HostState
from etcdkit.plans.memberfiles import Membership, member_files


def joined_host(host: HostState, membership: Membership, token: str, control: ControlState) -> HostState:
    """A host as its join leaves it: etcd running and enabled with member data, the files the join
    writes (etcd.conf for `membership`, initial-cluster-state existing) and the control node's CA and
    root password."""
    files = member_files(host, membership, token, "existing")
    digests: dict[str, str | None] = {path: hashlib.sha256(text.encode()).hexdigest() for path, text in files.items()}
    digests[paths.CA] = hashlib.sha256(control.ca_pem.encode()).hexdigest() if control.ca_pem else None
    digests[paths.PASS] = control.root_sha
    return host.with_state(active="active", enabled="enabled", data=("member",), own=None, conf=files[paths.CONF], sha256=digests)


def with_member(view: ClusterView, member: Member) -> ClusterView:
    """The member list once `member` joined: a started, healthy voter (its entry, when a join was
    begun before, keeps its ID; a new one stands in with an ID no member has)."""
    entry = view.by_peer_url(member.peer_url)
    member_id = entry.id if entry is not None else max((m.id for m in view.members), default=0) + 1
    joined = LiveMember(member_id, member.name, (member.peer_url,), (member.client_url,), False)
    others = [m for m in view.members if m.id != member_id]
    leader = next((status.leader for status in view.status.values() if status.leader), 0)
    return replace(
        view,
        members=(*others, joined),
        status={**view.status, member.client_url: EndpointStatus(leader=leader)},
        health={**view.health, member.client_url: EndpointHealth(healthy=True)},
    )


def without_member(view: ClusterView, peer_url: str) -> ClusterView:
    """The member list once the member of this peer URL left."""
    entry = view.by_peer_url(peer_url)
    if entry is None:
        return view
    urls = set(entry.client_urls)
    return replace(
        view,
        members=tuple(m for m in view.members if m.id != entry.id),
        status={url: status for url, status in view.status.items() if url not in urls},
        health={url: health for url, health in view.health.items() if url not in urls},
    )
