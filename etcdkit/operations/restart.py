"""The rolling restart of members that must take a new configuration, and its guard: a bad setting
does not spread. Its turns (one member at a time, gated, the leader handing leadership over first,
no turn after a failed one) are shared by the other rolling changes: upgrade, defragmentation.

Each member's new etcd.conf (and unit) is written only at its own turn, right before its restart,
with the previous files kept. If it does not come back healthy within the timeout, the previous
files are put back and it is restarted with them; the run then restarts no other member (they keep
their configuration) and fails with the member's journal.
"""

import hashlib
from collections.abc import Callable

from pyinfra import host
from pyinfra.api import FunctionCommand, OperationError, operation
from pyinfra.context import ctx_state

from etcdkit.facts.etcd import EtcdCluster, EtcdMembership
from etcdkit.model import paths
from etcdkit.model.cluster import EndpointStatus
from etcdkit.model.run import run_context
from etcdkit.operations import known, on_host
from etcdkit.remote import files as remote_files
from etcdkit.remote import services
from etcdkit.remote.etcdctl import journal, move_leader
from etcdkit.remote.etcdctl import wait_healthy as wait_healthy_command


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@operation()
def restart_if_pending(endpoint: str, files: dict | None = None, timeout: int = 60):
    """
    Write the member's new configuration and restart etcd if a change is pending for the running
    process (a restart recorded by `etcd.request_restart`, or files that differ), then wait until
    the whole cluster is healthy. Call with `_serial=True`: one member at a time. A stopped member
    only gets its files.

    + endpoint: the member's client URL
    + files: path -> content of the etcd.conf and unit to write at this member's turn
    + timeout: seconds to wait for health before and after the restart
    """
    files = files or {}
    service = known.service()
    stale = {path: text for path, text in files.items() if known.digest(path) != _sha256(text)}
    if not stale and not service.restart_due:
        host.noop("no restart pending")
        return
    yield FunctionCommand(_restart, (endpoint, stale, bool(service.pid), timeout), {})


def restarts_failed() -> bool:
    """Whether a member's turn in this run's rolling change (restart, upgrade, defragmentation)
    failed: what depends on every member having taken its turn (the next phase of a CA rotation)
    must not run."""
    return run_context(ctx_state.get()).failed_turn is not None


def _after_failure(what: str) -> OperationError:
    return OperationError(
        f"not {what}: the turn of {run_context(ctx_state.get()).failed_turn} failed earlier in this run (see its error), "
        f"so no other member is {what}; fix the cause and run again"
    )


def turn_failed(message: str) -> OperationError:
    """The error of this member's failed turn, recorded: no other member takes its turn in this run."""
    run_context(ctx_state.get()).failed_turn = host.name
    return OperationError(message)


def begin_turn(endpoint: str, what: str, gate: Callable[[], str | None]) -> None:
    """Start this member's turn in a rolling change, one member at a time: refused after a failed
    turn of this run, failed when the gate reports a problem (the cluster is not fit for it); then
    a member that leads hands leadership to the most caught-up healthy voter, so that the cluster
    keeps a leader throughout.

    + what: the change as a past participle ("restarted", "upgraded"), for the messages
    + gate: returns why the turn must not start, or None
    """
    if restarts_failed():
        raise _after_failure(what)
    problem = gate()
    if problem:
        raise turn_failed(f"not {what}: {problem}")
    view = host.get_fact(EtcdCluster, endpoint=endpoint)
    successor = view.successor(view.answered_by) if view else None
    if view and view.leader() and view.leader().id == view.answered_by and successor:
        on_host.run(move_leader(endpoint, successor.hex_id))


def healthy_gate(endpoint: str, timeout: int) -> Callable[[], str | None]:
    """The gate of a turn: every member serves linearizable reads within the timeout."""

    def gate() -> str | None:
        ok, error = on_host.run(wait_healthy_command(endpoint, True, timeout))
        return None if ok else f"the cluster is not healthy before this member's turn: {error}"

    return gate


def own_status(endpoint: str) -> EndpointStatus | None:
    """This member's `endpoint status`, read now; None when it does not answer."""
    view = host.get_fact(EtcdMembership, endpoint=endpoint)
    member = view.by_id(view.answered_by) if view else None
    return view.status_of(member) if member else None


def own_version(endpoint: str) -> str | None:
    """This member's server version, read now; None when it does not answer."""
    status = own_status(endpoint)
    return status.version if status else None


def _write(files: dict) -> None:
    for path, text in files.items():
        user, group, mode = paths.OWNERS[path]
        temporary = f"{path}.etcdkit-new"
        on_host.install(text.encode(), temporary)
        ok, error = on_host.run(remote_files.replace(temporary, path, user, group, mode))
        if not ok:
            raise OperationError(f"could not install {path}: {error}")
    if paths.UNIT in files:
        on_host.run(services.daemon_reload())


def _put_back(found: dict[str, str]) -> None:
    """The files as they were before this turn: the kept ones back, those that were absent gone
    (a file whose state was not found yet is left alone)."""
    for path, was in found.items():
        if was in ("kept", "absent"):
            on_host.run(remote_files.put_back(path) if was == "kept" else remote_files.remove(path))
    on_host.run(remote_files.remove(paths.RESTART_PENDING))
    if paths.UNIT in found:
        on_host.run(services.daemon_reload())


def _restart(endpoint: str, files: dict, running: bool, timeout: int) -> None:
    if restarts_failed():
        on_host.run(remote_files.remove(paths.RESTART_PENDING))  # it keeps its configuration: nothing is pending
        raise _after_failure("restarted")
    if not running:
        _write(files)
        return
    begin_turn(endpoint, "restarted", healthy_gate(endpoint, timeout))
    healthy = wait_healthy_command(endpoint, True, timeout)
    found: dict[str, str] = {}  # path -> "kept" (copied to .previous) or "absent"
    try:
        for path in files:  # no file is written unless the one it replaces is kept
            found[path] = on_host.output(remote_files.keep(path), f"keeping {path}").strip()
        _write(files)
    except OperationError as error:
        _put_back(found)
        raise turn_failed(f"{host.name}: {error}; it keeps its configuration and was not restarted, nor was any other member") from None
    on_host.run(services.restart())
    ok, _ = on_host.run(healthy)
    if ok:
        kept = [remote_files.previous(path) for path, was in found.items() if was == "kept"]
        on_host.run(remote_files.remove(paths.RESTART_PENDING, *kept))
        return
    _, log = on_host.run(journal(40))
    _put_back(found)
    # the failed starts may have hit systemd's start limit: clear it, or the restart is refused
    on_host.run(services.restart_again())
    back, _ = on_host.run(healthy)
    raise turn_failed(
        f"{host.name} did not come back healthy within {timeout} s with its new configuration; its previous "
        f"{' and '.join(files) or 'configuration'} was put back and it {'serves again' if back else 'does not serve yet'}. "
        f"No other member was restarted. Its journal:\n{log}"
    )
