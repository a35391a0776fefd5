"""What one pyinfra run knows beyond its facts, kept on the run's own State object and gone with it.

pyinfra prepares the hosts' deploys concurrently (gevent greenlets) in one process, and a process may
hold several runs one after another (the tests, the commands that run pyinfra in-process): what a run
computes once and shares between its hosts belongs to that run's State, never to a module.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar, cast

from gevent.lock import BoundedSemaphore

from etcdkit.model.auth import AuthState
from etcdkit.model.cluster import Alarm, ClusterView, LiveMember
from etcdkit.model.host import EtcdHostState

ATTRIBUTE = "etcdkit_run"
T = TypeVar("T")


@dataclass(frozen=True)
class Announcement:
    """A member the run announced (or found announced): its entry, and the leader's client URL when
    the member list was read (None: none known), through which it is promoted."""

    entry: LiveMember
    leader_url: str | None


@dataclass
class RunContext:
    """One run's shared results, computed once by the first host that needs them, and what its
    operations learned while it executed: what later steps of the same run are gated on."""

    results: dict[str, object] = field(default_factory=dict)
    lock: BoundedSemaphore = field(default_factory=BoundedSemaphore)
    control_rewrites: set[Path] = field(default_factory=set)  # control-node files its control-node operation writes
    snapshots_saved: set[str] = field(default_factory=set)  # snapshots saved and verified on the control node
    restored: set[str] = field(default_factory=set)  # hosts whose member data was restored from the snapshot
    forced: set[str] = field(default_factory=set)  # the host made a one-member cluster (force-new-cluster)
    removals_confirmed: set[str] = field(default_factory=set)  # peer URLs the member list no longer has
    announced: dict[str, Announcement] = field(default_factory=dict)  # peer URL -> what its member add found or made
    joined: set[str] = field(default_factory=set)  # hosts whose member joined in this run (etcd-add's run, recover)
    failed_turn: str | None = None  # the host whose turn in a rolling change failed: no other takes one
    compacted: bool = False  # the history was compacted: every member has pages to free
    status_report: dict | None = None  # the status SOP's document (etcdkit/plans/status.py), which etcd-status shows
    host_states: dict[str, EtcdHostState] = field(default_factory=dict)  # host name -> its EtcdHost fact as the plan read it
    # (host name, endpoint) -> the view, authentication state (EtcdClusterAuth) and alarms read beside the hosts' facts (gather.read_early)
    early_views: dict[tuple[str, str], ClusterView | None] = field(default_factory=dict)
    early_auth: dict[tuple[str, str], AuthState] = field(default_factory=dict)
    early_alarms: dict[tuple[str, str], tuple[Alarm, ...] | None] = field(default_factory=dict)

    def once(self, key: str, compute: Callable[[], T]) -> T:
        """compute() the first time the key is asked for in this run, its result every time after;
        the other hosts wait meanwhile. An exception is kept as the result and raised to each host."""
        with self.lock:
            if key not in self.results:
                try:
                    self.results[key] = compute()
                except Exception as error:  # noqa: BLE001 - every host of the run gets the same refusal
                    self.results[key] = error
        result = self.results[key]
        if isinstance(result, Exception):
            raise result
        return cast(T, result)


def run_context(state) -> RunContext:
    """The context of the run of this pyinfra State (made on first use; no greenlet switch in between)."""
    context = getattr(state, ATTRIBUTE, None)
    if context is None:
        context = RunContext()
        setattr(state, ATTRIBUTE, context)
    return context
