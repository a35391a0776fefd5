"""What the plan read of a host, for the operations that write it: one round trip for the host's
whole state (the EtcdHost fact) instead of one or two per file, folder and unit.

While no operation of this run has run a command on a host, the host is as the plan read it, in
the same run: an operation that finds its work done there has nothing to ask. Once something ran
there, or for a path the plan did not read, the operation asks its own fact, as pyinfra's do.
What the plan read is used only to find work done (a no-op), or to read the unit's state, the
installed version and a file's checksum, which nothing of the run has changed yet. The
authentication state the plan read (gather.read_early) stands while no operation of the run has
run a command on any host: root's password or users may change through another member.
"""

from pyinfra import host, state
from pyinfra.facts.files import Sha256File
from pyinfra.facts.server import Which

from etcdkit.facts.etcd import EtcdAuth, EtcdService, EtcdVersion
from etcdkit.model.auth import AuthState
from etcdkit.model.host import EtcdHostState, EtcdServiceState
from etcdkit.model.run import run_context
from etcdkit.remote.packages import PACKAGE_MANAGERS


def host_state() -> EtcdHostState | None:
    """The host's EtcdHost fact as this run's plan read it, while no operation of the run has run a
    command on the host since; None otherwise (or when the plan did not read it)."""
    known = run_context(state).host_states.get(host.name)
    return None if known is None or _ran_on(host) else known


def _ran_on(some_host) -> bool:
    """An operation of this run has run a command on the host."""
    return any(data.operation_meta.executed for data in state.ops.get(some_host, {}).values())


def holds_file(path: str, sha256: str, user: str, group: str, mode: str) -> bool:
    """The host holds this content at path with this owner and mode, as the plan read it."""
    known = host_state()
    return known is not None and known.holds_file(path, sha256, user, group, mode)


def holds_folder(path: str, user: str, group: str, mode: str) -> bool:
    known = host_state()
    return known is not None and known.holds_folder(path, user, group, mode)


def lacks(*paths: str) -> bool:
    """The host holds none of the paths, as the plan read it."""
    known = host_state()
    return known is not None and all(known.lacks(path) for path in paths)


def service() -> EtcdServiceState:
    """The etcd unit's state: as the plan read it, else from the EtcdService fact."""
    known = host_state()
    if known is None:
        return host.get_fact(EtcdService)
    return known.service


def version() -> str | None:
    """The installed etcd's version: as the plan read it, else from the EtcdVersion fact."""
    known = host_state()
    return known.version if known is not None else host.get_fact(EtcdVersion)


def package_manager() -> str | None:
    """apt-get, dnf or yum, the first the host has (None: none): as the plan read it, whatever ran
    since (no operation installs or removes a package manager), else from Which facts."""
    known = run_context(state).host_states.get(host.name)
    if known is not None:
        return known.package_manager
    return next((tool for tool in PACKAGE_MANAGERS if host.get_fact(Which, command=tool)), None)


def digest(path: str) -> str | None:
    """The SHA-256 of the file at path (None: no file): as the plan read it, else from the Sha256File fact."""
    known = host_state()
    if known is not None and path in known.files:
        return known.sha256.get(path)
    return host.get_fact(Sha256File, path=path)


def auth(endpoint: str) -> AuthState:
    """The authentication state through the endpoint: as the plan read it while no operation of the
    run has run a command on any host, else from the EtcdAuth fact."""
    known = run_context(state).early_auth.get((host.name, endpoint))
    if known is None or any(_ran_on(some_host) for some_host in state.ops):
        return host.get_fact(EtcdAuth, endpoint=endpoint)
    return known
