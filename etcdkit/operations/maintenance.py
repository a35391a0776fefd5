"""The maintenance of a cluster's databases: compaction of the history, defragmentation of each
member (one at a time, a turn of the rolling machinery of restart.py), disarming a NOSPACE alarm.

Each reads the member's `endpoint status -w json` when it runs and does nothing (`host.noop`)
when there is nothing to do: nothing older than etcd_compact_keep revisions to compact, a database
that is not fragmented (etcdkit.model.cluster.fragmented) in a run that did not compact, no alarm. The gates wait for every
member to answer `endpoint status` with one leader, not for `endpoint health`: an active alarm
makes that fail on every member, and disarming it is the point.
"""

import time

from pyinfra import host, logger
from pyinfra.api import FunctionCommand, OperationError, operation
from pyinfra.context import ctx_state

from etcdkit.facts.etcd import EtcdAlarms, EtcdCompacted, EtcdMembership
from etcdkit.model.cluster import db_sizes, fragmented
from etcdkit.model.run import run_context
from etcdkit.operations import on_host
from etcdkit.operations.restart import begin_turn, own_status, turn_failed
from etcdkit.remote import etcdctl

# seconds a defragmentation may take: etcd copies the whole database meanwhile (minutes for gigabytes)
DEFRAG_TIMEOUT = 600


@operation()
def compact(endpoint: str, keep: int, timeout: int = 60, executor: str | None = None):
    """
    Compact the cluster's history up to `keep` revisions before the current one (`--physical`:
    the freed pages are there for the defragmentation that follows). Nothing when it is
    compacted that far already.

    + endpoint: client URL of a member
    + keep: revisions kept (etcd_compact_keep)
    + timeout: seconds the compaction may take
    + executor: the host that compacts, through its member (None: this one); on the others the
      operation does nothing but keep their operations in step (see etcdkit/tasks/maintenance.py)
    """
    if executor not in (None, host.name):
        host.noop(f"the history is compacted through {executor}")
        return
    status = own_status(endpoint)
    if not status:
        raise OperationError(f"the member at {endpoint} does not answer: nothing was compacted")
    revision = status.revision
    target = revision - keep
    if target < 2:
        host.noop(f"revision {revision}: nothing older than the last {keep} revisions to compact")
        return
    if host.get_fact(EtcdCompacted, endpoint=endpoint, revision=target):
        host.noop(f"the history before revision {target} (current {revision} minus {keep}) is compacted already")
        return
    yield etcdctl.compact(endpoint, target, timeout)
    yield FunctionCommand(_mark_compacted, (), {})


def _mark_compacted() -> None:
    """Every member has pages to free now, though a follower's own compaction, which etcd runs in the
    background, may not show yet in its sizes."""
    run_context(ctx_state.get()).compacted = True


@operation()
def defragment(endpoint: str, timeout: int = 60):
    """
    Defragment this member's database when it is fragmented, at its turn (call with
    `_serial=True`, followers before the leader): the cluster must answer first, a leader hands
    leadership over, and the member must answer again within the timeout. The sizes before and
    after are logged.

    + endpoint: the member's client URL
    + timeout: seconds for the gate and the wait after the defragmentation (itself: DEFRAG_TIMEOUT)
    """
    status = own_status(endpoint)
    if status and not fragmented(status) and not run_context(ctx_state.get()).compacted:
        host.noop(f"database {db_sizes(status)}: not fragmented")
        return
    yield FunctionCommand(_defragment, (endpoint, timeout), {})


def _defragment(endpoint: str, timeout: int) -> None:
    begin_turn(endpoint, "defragmented", lambda: answering(endpoint, timeout))
    before = own_status(endpoint)
    ok, error = on_host.run(etcdctl.defrag(endpoint, DEFRAG_TIMEOUT))
    problem = None if ok else f"the defragmentation failed: {error.strip()}"
    problem = problem or answering(endpoint, timeout)
    if problem:
        _, log = on_host.run(etcdctl.journal(40))
        raise turn_failed(f"{host.name}: {problem}. No other member was defragmented. Its journal:\n{log}")
    logger.info(f"{host.name}: database defragmented, {db_sizes(before)} before, {db_sizes(own_status(endpoint))} after")


def answering(endpoint: str, timeout: int) -> str | None:
    """Wait until every member answers `endpoint status` and there is one leader; why not, after the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        view = host.get_fact(EtcdMembership, endpoint=endpoint)
        problems = view.silence_problems() if view else [f"the member at {endpoint} does not answer"]
        if not problems:
            return None
        if time.monotonic() > deadline:
            return f"the cluster does not answer within {timeout} s: {'; '.join(problems)}"
        time.sleep(etcdctl.POLL_INTERVAL)


@operation()
def disarm(endpoint: str):
    """
    Disarm the cluster's NOSPACE alarms (after compaction and defragmentation freed space); nothing
    when there is none. A CORRUPT alarm is never disarmed: the members' data differ.

    + endpoint: client URL of a member
    """
    alarms = host.get_fact(EtcdAlarms, endpoint=endpoint)
    if alarms is None:
        raise OperationError(f"the member at {endpoint} does not answer: the alarms cannot be read")
    if not alarms:
        host.noop("no alarm")
        return
    others = sorted({alarm.alarm for alarm in alarms} - {"NOSPACE"})
    if others:
        raise OperationError(f"alarm {', '.join(others)} is active: not disarmed (docs/runbook.md)")
    yield etcdctl.disarm(endpoint)
