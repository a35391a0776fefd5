"""The upgrade of a member to etcd_version, a turn of the rolling machinery of restart.py: the
cluster healthy first, leadership handed over, the new version installed (packages pinned to it,
or the release tarball), etcd restarted, and the member must serve again reporting the new server
version. A member that does not is not rolled back by itself (its data may have moved on with the
new version): the run stops there, no other member is upgraded, and the error says how to put the
previous version back.

The downgrade SOP takes the same turns to an older release, once etcd's downgrade is enabled
(`etcdctl downgrade validate|enable`, etcd 3.6+): each turn first checks that it still is.
"""

from pyinfra import host, logger
from pyinfra.api import FunctionCommand, OperationError, operation

from etcdkit.facts.etcd import EtcdVersion
from etcdkit.model import paths
from etcdkit.model.versions import downgrade_target
from etcdkit.operations import known, on_host
from etcdkit.operations.etcd import install_tarball, package_install
from etcdkit.operations.restart import begin_turn, healthy_gate, own_status, own_version, turn_failed
from etcdkit.remote import services
from etcdkit.remote.etcdctl import downgrade, journal
from etcdkit.remote.etcdctl import wait_healthy as wait_healthy_command


@operation()
def upgrade(
    endpoint: str,
    version: str,
    packages: list[str] | None = None,
    tarball: str | None = None,
    tarball_sha256: str | None = None,
    timeout: int = 60,
    downgrade_to: str | None = None,
):
    """
    Bring this member to etcd `version` at its turn (call with `_serial=True`, followers before
    the leader); nothing when it runs that version already. An installed but not yet running
    new version (an interrupted run) is only restarted.

    + endpoint: the member's client URL
    + version: the target (etcd_version)
    + packages: package names (etcd_packages)
    + tarball: the release tarball of that version on the control node (etcd_tarball), instead of packages
    + tarball_sha256: its SHA-256, checked again on the host
    + timeout: seconds for health before the turn and for the member to serve again after it
    + downgrade_to: the minor version of the cluster's enabled downgrade ("3.5"): the turn installs
      the older release, and only while that downgrade is enabled
    """
    running = own_version(endpoint)
    if running == version:
        host.noop(f"etcd {version} runs already")
        return
    yield FunctionCommand(_upgrade, (endpoint, version, packages, tarball, tarball_sha256, timeout, downgrade_to), {})


def _downgrade_gate(endpoint: str, timeout: int, target: str):
    """The gate of a downgrade's turn: the cluster healthy, and its downgrade to target enabled."""
    healthy = healthy_gate(endpoint, timeout)

    def gate() -> str | None:
        problem = healthy()
        if problem is None:
            status = own_status(endpoint)
            if status is None or downgrade_target([status]) != target:
                problem = (
                    f"the cluster's downgrade to {target} is not enabled (`etcdctl downgrade enable {target}` failed, or was cancelled)"
                )
        return problem

    return gate


def _upgrade(
    endpoint: str, version: str, packages, tarball: str | None, tarball_sha256: str | None, timeout: int, downgrade_to: str | None
) -> None:
    what = "downgraded" if downgrade_to else "upgraded"
    begin_turn(endpoint, what, _downgrade_gate(endpoint, timeout, downgrade_to) if downgrade_to else healthy_gate(endpoint, timeout))
    previous = own_version(endpoint)
    if host.get_fact(EtcdVersion) != version:
        ok, error = _install(version, packages, tarball, tarball_sha256, bool(downgrade_to))
        if not ok:
            raise turn_failed(
                f"installing etcd {version} on {host.name} failed, so etcd was not restarted and {previous} still runs; "
                f"no other member was {what}: {error.strip()}"
            )
    on_host.run(services.restart())
    healthy, _ = on_host.run(wait_healthy_command(endpoint, True, timeout))
    now = own_version(endpoint) if healthy else None
    if now == version:
        logger.info(f"{host.name}: etcd {previous} -> {now}")
        return
    _, log = on_host.run(journal(40))
    raise turn_failed(
        f"{host.name} does not serve again as etcd {version} within {timeout} s "
        f"({f'it reports {now}' if now else 'the cluster is not healthy'}); no other member was {what}. "
        f"To roll this member back: {_rollback(previous, packages, tarball, bool(downgrade_to))}, then `systemctl restart {paths.SERVICE}` "
        f"and check with bin/etcd-status. Its journal:\n{log}"
    )


def _install(version: str, packages, tarball: str | None, tarball_sha256: str | None, downgrade: bool) -> tuple[bool, str]:
    if not tarball:
        return on_host.run(package_install(packages, version, fresh=False, downgrade=downgrade))
    return install_tarball(tarball, tarball_sha256)


def _rollback(previous: str | None, packages, tarball: str | None, newer: bool) -> str:
    """How to put the previous version back, by hand (newer: it is newer than the one installed, a downgrade's)."""
    if tarball:
        return f"unpack the release tarball of etcd {previous} into /usr/local/bin (etcd, etcdctl, etcdutl)"
    tool = known.package_manager()
    if tool == "apt-get":
        names = " ".join(f"'{name}={previous}*'" for name in packages or ["etcd-server", "etcd-client"])
        return f"reinstall etcd {previous} (apt-get install --allow-downgrades {names})"
    return f"reinstall etcd {previous} ({tool or 'yum'} {'install' if newer else 'downgrade'} {' '.join(f'{name}-{previous}' for name in packages or ['etcd'])})"


@operation()
def downgrade_enabled(endpoint: str, target: str, through: bool = True):
    """
    Validate the cluster's downgrade to the minor version target, then enable it (`etcdctl
    downgrade validate`, `etcdctl downgrade enable`, etcd 3.6+): etcd sets the cluster version to
    target at once, and ends the downgrade by itself once every member runs it. Nothing when that
    downgrade is enabled already (an interrupted run).

    + endpoint: client URL of a member
    + target: the minor version to go back to ("3.5")
    + through: this member enables it (False: another member of the run does, nothing here)
    """
    if not through:
        host.noop(f"the downgrade to {target} is enabled through another member")
        return
    status = own_status(endpoint)
    if not status:
        raise OperationError(f"the member at {endpoint} does not answer: the downgrade was not enabled")
    if downgrade_target([status]) == target:
        host.noop(f"the downgrade to {target} is enabled already")
        return
    yield downgrade(endpoint, target)
