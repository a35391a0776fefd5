"""Membership changes: announce a member, start and promote it, remove one.

Each decides in Python over `etcdctl -w json` (the EtcdMembership fact, or etcd's own answer to the
change) and runs on the control node as a loop of etcdctl calls on the host of the operation: no
member entry is ever picked out of etcdctl's table output, and a failed etcdctl call is a failure,
never "done already". A removal is remembered for the run once the member list confirms it, so that the
departing host is cleaned only after that (`removal_confirmed`).
"""

import time

from pyinfra import host, state
from pyinfra.api import FunctionCommand, OperationError, operation
from pyinfra.context import ctx_state

from etcdkit.facts.etcd import EtcdMembership
from etcdkit.model.cluster import ClusterView, LiveMember
from etcdkit.model.inventory import Member
from etcdkit.model.run import Announcement, run_context
from etcdkit.operations import on_host
from etcdkit.remote import etcdctl, services
from etcdkit.remote.shell import joined

# etcd refuses a membership change for a few seconds after the last one, or while a member is
# not yet connected: these refusals are waited out, any other error stops the change.
TRANSIENT = ("unhealthy cluster", "leader changed", "too many requests", "context deadline exceeded")
# the leader's refusal to promote a learner that has not started or caught up yet (etcd 3.4 to 3.7)
NOT_IN_SYNC = "can only promote a learner member which is in sync with leader"


def removal_confirmed(peer_url: str) -> bool:
    """Whether this run saw the member with this peer URL leave the member list."""
    return peer_url in run_context(ctx_state.get()).removals_confirmed


def _confirm(peer_url: str) -> None:
    run_context(ctx_state.get()).removals_confirmed.add(peer_url)


def _membership(endpoints: str) -> ClusterView:
    view = host.get_fact(EtcdMembership, endpoint=endpoints)
    if view is None:
        raise OperationError(f"no member answers at {endpoints}: the membership cannot be read")
    if view.url_refusal():
        raise OperationError(f"the membership change stops: {view.url_refusal()}")
    return view


def _retry(deadline: float, failure: str, error: str) -> None:
    """Wait before the next try of a refused change, or give up with its error."""
    if not any(transient in error for transient in TRANSIENT) or time.monotonic() > deadline:
        raise OperationError(f"{failure}: {error.strip()}")
    time.sleep(etcdctl.POLL_INTERVAL)


@operation(is_idempotent=False)
def member_add(member: Member, endpoints: str, learner: bool, timeout: int = 30):
    """
    Announce a new member to the cluster by its peer URL (as a learner unless told otherwise);
    nothing happens if the member list has that peer URL already. The member's entry, from the
    member list or from etcd's answer to the add, is kept for the join that follows in the run.

    + member: the joining member
    + endpoints: client URLs of the cluster's started members
    + learner: add it as a learner
    + timeout: seconds to wait out etcd's refusals right after another membership change
    """
    view = host.get_fact(EtcdMembership, endpoint=endpoints)
    entry = view.by_peer_url(member.peer_url) if view is not None else None
    leader = view.leader() if view is not None else None
    leader_url = leader.client_urls[0] if leader is not None and leader.client_urls else None
    if entry is not None:
        if state.is_executing:
            _announced(entry, leader_url)
        host.noop(f"{member.peer_url} is in the member list already")
        return
    yield FunctionCommand(_add, (member, endpoints, learner, timeout, leader_url), {})


def _announced(entry: LiveMember, leader_url: str | None) -> None:
    for url in entry.peer_urls:
        run_context(ctx_state.get()).announced[url] = Announcement(entry, leader_url)


def _add(member: Member, endpoints: str, learner: bool, timeout: int, leader_url: str | None) -> None:
    """The add, until etcd's own answer (its member list, in JSON) has the member: no read of the
    member list before or after it, but after a refused try, which may have taken effect."""
    deadline = time.monotonic() + timeout
    command = etcdctl.member_add(endpoints, member.name, member.peer_url, learner)
    while True:
        ok, answer = on_host.answer(command)
        if ok:
            view = ClusterView.parse(answer, "", "")
            entry = view.by_peer_url(member.peer_url) if view is not None else None
            if entry is None:
                raise OperationError(f"etcd's answer to the member add of {member.name} does not list it: {answer.strip()}")
            break
        _retry(deadline, f"etcd refused to add {member.name}", answer)
        entry = _membership(endpoints).by_peer_url(member.peer_url)
        if entry is not None:
            break
    _announced(entry, leader_url)


@operation(is_idempotent=False)
def join(member: Member, endpoints: str, timeout: int):
    """
    Start an announced member, wait until it serves, promote it if it is a learner (through the
    leader: a follower forwards the request and holds a refusal for seconds), and check that it and
    the cluster are healthy. If it never serves, its member entry is removed again and etcd is
    disabled on its host: the cluster is left as it was.

    + member: the joining member, already announced
    + endpoints: client URLs of the other started members
    + timeout: seconds before the join is given up and undone
    """
    yield FunctionCommand(_join, (member, endpoints, timeout), {})


def _join(member: Member, endpoints: str, timeout: int) -> None:
    known = run_context(ctx_state.get()).announced.get(member.peer_url)
    entry = known.entry if known else _membership(endpoints).by_peer_url(member.peer_url)
    leader_url = known.leader_url if known else None
    if entry is None:
        raise OperationError(f"{member.peer_url} is not in the member list: the member add did not happen")
    deadline = time.monotonic() + timeout
    serving = False

    def undo(reason: str) -> None:
        _, log = on_host.run(etcdctl.journal(40))
        if not serving:
            removed, error = on_host.run(etcdctl.member_remove(endpoints, entry.hex_id))
            on_host.run(services.stop_and_disable())
            reason += (
                "; its member entry was removed again, the cluster is as it was" if removed else f"; removing its entry failed too: {error}"
            )
        raise OperationError(f"{member.name} did not join: {reason}. Its journal:\n{log}")

    def wait(what: str) -> None:
        if time.monotonic() > deadline:
            undo(f"{what} within {timeout} s")
        time.sleep(etcdctl.POLL_INTERVAL)

    ok, error = on_host.run(joined([services.enable(), services.start()]))
    if not ok:
        undo(f"systemd could not start etcd: {error}")
    # a learner: a promotion tried through the leader about every 0.1 s, which the leader refuses
    # until the learner has started and caught up (its success is etcd's word that it votes); any
    # other refusal, or no leader known, reads the member list for it (a voter added as such waits
    # below, until it serves)
    while entry.is_learner:
        if leader_url is None:
            view = _membership(endpoints)
            current, leader = view.by_id(entry.id), view.leader()
            if current is not None and not current.is_learner:
                break
            if current is None or leader is None or not leader.client_urls:
                wait("the cluster had no leader to promote the learner" if current else "its member entry is gone")
                continue
            leader_url = leader.client_urls[0]
        ok, error = on_host.run(etcdctl.member_promote(leader_url, entry.hex_id))
        if ok:
            break
        if NOT_IN_SYNC not in error:
            leader_url = None
        wait("the learner did not start and catch up")
    while not on_host.run(etcdctl.health(member.client_url))[0]:
        wait("it did not serve reads as a voting member")
    serving = True
    while not on_host.run(etcdctl.health(endpoints, cluster_wide=True))[0]:
        wait("the cluster is not healthy after the join")


@operation(is_idempotent=False)
def member_remove(peer_url: str, endpoints: str, leader_endpoint: str | None, successor: str | None, timeout: int = 30):
    """
    Remove the member with this peer URL (started or not) through the given members, handing
    leadership over first when it leads, and verify in the member list that it is gone.

    + peer_url: the departing member's peer URL
    + endpoints: client URLs of surviving members
    + leader_endpoint: the departing member's client URL when it leads, else None
    + successor: hex ID of the healthy voter to hand leadership to, when it leads
    + timeout: seconds to wait out etcd's refusals right after another membership change
    """
    view = host.get_fact(EtcdMembership, endpoint=endpoints)
    if view is not None and view.by_peer_url(peer_url) is None:
        if state.is_executing:
            _confirm(peer_url)
        host.noop(f"{peer_url} is not in the member list")
        return
    yield FunctionCommand(_remove, (peer_url, endpoints, leader_endpoint, successor, timeout), {})


def _remove(peer_url: str, endpoints: str, leader_endpoint: str | None, successor: str | None, timeout: int) -> None:
    entry = _membership(endpoints).by_peer_url(peer_url)
    if entry is not None and leader_endpoint and successor:
        # it leads: hand leadership over first, so the cluster keeps a leader throughout
        on_host.run(etcdctl.move_leader(leader_endpoint, successor))
    deadline = time.monotonic() + timeout
    while entry is not None:
        ok, error = on_host.run(etcdctl.member_remove(endpoints, entry.hex_id))
        if not ok and "member not found" not in error:
            _retry(deadline, f"etcd refused to remove {entry.name or peer_url}", error)
        entry = _membership(endpoints).by_peer_url(peer_url)
    _confirm(peer_url)
