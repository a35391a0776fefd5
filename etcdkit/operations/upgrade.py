"""The upgrade of a member to etcd_version, a turn of the rolling machinery of restart.py: the
cluster healthy first, leadership handed over, the new version installed (packages pinned to it,
or the release tarball), etcd restarted, and the member must serve again reporting the new server
version. A member that does not is not rolled back by itself (its data may have moved on with the
new version): the run stops there, no other member is upgraded, and the error says how to put the
previous version back.
"""

from pyinfra import host, logger
from pyinfra.api import FunctionCommand, operation
from pyinfra.facts.server import Which

from etcdkit.facts.etcd import EtcdVersion
from etcdkit.model import paths
from etcdkit.operations import on_host
from etcdkit.operations.etcd import install_tarball, package_install
from etcdkit.operations.restart import begin_turn, healthy_gate, own_status, turn_failed
from etcdkit.remote.etcdctl import journal
from etcdkit.remote.etcdctl import wait_healthy as wait_healthy_command


@operation()
def upgrade(
    endpoint: str,
    version: str,
    packages: list[str] | None = None,
    tarball: str | None = None,
    tarball_sha256: str | None = None,
    timeout: int = 60,
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
    """
    running = own_status(endpoint).get("version")
    if running == version:
        host.noop(f"etcd {version} runs already")
        return
    yield FunctionCommand(_upgrade, (endpoint, version, packages, tarball, tarball_sha256, timeout), {})


def _upgrade(endpoint: str, version: str, packages, tarball: str | None, tarball_sha256: str | None, timeout: int) -> None:
    begin_turn(endpoint, "upgraded", healthy_gate(endpoint, timeout))
    previous = own_status(endpoint).get("version")
    if host.get_fact(EtcdVersion) != version:
        ok, error = _install(version, packages, tarball, tarball_sha256)
        if not ok:
            raise turn_failed(
                f"installing etcd {version} on {host.name} failed, so etcd was not restarted and {previous} still runs; "
                f"no other member was upgraded: {error.strip()}"
            )
    on_host.run(f"systemctl restart {paths.SERVICE}")
    healthy, _ = on_host.run(wait_healthy_command(endpoint, True, timeout))
    now = own_status(endpoint).get("version") if healthy else None
    if now == version:
        logger.info(f"{host.name}: etcd {previous} -> {now}")
        return
    _, log = on_host.run(journal(40))
    raise turn_failed(
        f"{host.name} does not serve again as etcd {version} within {timeout} s "
        f"({f'it reports {now}' if now else 'the cluster is not healthy'}); no other member was upgraded. "
        f"To roll this member back: {_rollback(previous, packages, tarball)}, then `systemctl restart {paths.SERVICE}` "
        f"and check with bin/etcd-status. Its journal:\n{log}"
    )


def _install(version: str, packages, tarball: str | None, tarball_sha256: str | None) -> tuple[bool, str]:
    if not tarball:
        return on_host.run(package_install(packages, version, fresh=False))
    return install_tarball(tarball, tarball_sha256)


def _rollback(previous: str | None, packages, tarball: str | None) -> str:
    """How to put the previous version back, by hand."""
    if tarball:
        return f"unpack the release tarball of etcd {previous} into /usr/local/bin (etcd, etcdctl, etcdutl)"
    if host.get_fact(Which, command="apt-get"):
        names = " ".join(f"'{name}={previous}*'" for name in packages or ["etcd-server", "etcd-client"])
        return f"reinstall etcd {previous} (apt-get install --allow-downgrades {names})"
    tool = "dnf" if host.get_fact(Which, command="dnf") else "yum"
    return f"reinstall etcd {previous} ({tool} downgrade {' '.join(f'{name}-{previous}' for name in packages or ['etcd'])})"
