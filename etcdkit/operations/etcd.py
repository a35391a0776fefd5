"""Operations on etcd members. Each reads the host's state when it runs and yields nothing
(`host.noop`) when the state already matches, so a second run changes nothing.
"""

import hashlib
import json
import os
from pathlib import Path

from pyinfra import host
from pyinfra.api import FunctionCommand, OperationError, operation
from pyinfra.context import ctx_state
from pyinfra.facts.files import Directory, File
from pyinfra.facts.server import Which

from etcdkit.control.passwords import Secret
from etcdkit.facts.etcd import EtcdctlVersion, EtcdService, EtcdUser, EtcdVersion
from etcdkit.model import paths
from etcdkit.model.backups import sidecar_path
from etcdkit.model.host import running as is_running
from etcdkit.model.host import start_needed
from etcdkit.model.inventory import Member
from etcdkit.model.run import run_context
from etcdkit.model.versions import Version, offline_tool
from etcdkit.operations import known, on_host
from etcdkit.operations.files import private_upload
from etcdkit.remote import auth, files, services, snapshots
from etcdkit.remote.etcdctl import wait_healthy as wait_healthy_command
from etcdkit.remote.packages import BINARIES, apt_install, apt_purge, remove_binaries, rpm_install, rpm_remove, unpack_tarball
from etcdkit.remote.recovery import force_new_cluster as force_new_cluster_command
from etcdkit.remote.shell import Command, joined


@operation()
def install(
    packages: list[str] | None = None,
    tarball: str | None = None,
    tarball_sha256: str | None = None,
    version: str | None = None,
    replace: bool = False,
):
    """
    Install etcd from the distribution's packages, or from an official release tarball on the
    control node, unless an etcd binary is already there: another version (the upgrade SOP changes
    it, one member at a time), or one of another package or of none (Pigsty's package `etcd`,
    binaries copied by hand) is kept as it is, never replaced nor joined by a second etcd; with
    replace, unless that binary is `version`.

    + packages: package names (default: etcd-server and etcd-client with apt, etcd with dnf/yum)
    + tarball: path on the control node to etcd-vX.Y.Z-linux-ARCH.tar.gz
    + tarball_sha256: its expected SHA-256 (the plan checked the local file), checked again on the host
    + version: the packages' version to install (etcd_version); None: the distribution's
    + replace: bring an installed etcd of another version to `version` (a joining host, which is no
      member yet: its etcd runs nothing of the cluster's)

    With apt the package is kept from starting its default instance (policy-rc.d) and its own unit
    is disabled: that instance would hold the ports and leave stray data behind.
    """
    installed = known.version()
    if installed and (installed == version or not (replace and version)):
        other = (
            f" (not etcd_version {version}: the upgrade SOP, deploys/upgrade.py, changes it)" if version and installed != version else ""
        )
        host.noop(f"etcd {installed} is installed{other}")
        return
    if tarball:
        yield from _install_tarball(tarball, tarball_sha256)
        return
    current, wanted = Version.parse(installed), Version.parse(version)
    yield package_install(packages, version, fresh=True, downgrade=bool(current and wanted and wanted < current), etcd_user=True)


@operation()
def admin_etcdctl(packages: list[str] | None = None, version: str | None = None):
    """
    etcdctl on a host that is not a member (an admin host): the client part of the members'
    packages, at etcd_version when it is set. An older etcdctl is brought to it: before etcd 3.5.29
    (3.4.43, 3.6.10) etcdctl lists the members for `--cluster` without a login, which etcd 3.5.28
    (3.4.42, 3.6.9) on refuses. Any other etcdctl is kept (with etcd_version unset, whatever is there).

    + packages: etcd_packages; their `-client` packages (Debian's etcd-client), else all of them (a
      single package such as Pigsty's `etcd`); default: etcd-client with apt, etcd with dnf/yum
    + version: etcd_version
    """
    installed = host.get_fact(EtcdctlVersion)
    if installed and (not version or (Version.parse(installed) or Version(0, 0, 0)) >= (Version.parse(version) or Version(0, 0, 0))):
        host.noop(f"etcdctl {installed} is installed")
        return
    clients = [name for name in packages or [] if name.endswith("-client")] or packages
    if not clients:
        clients = ["etcd-client"] if known.package_manager() == "apt-get" else ["etcd"]
    yield package_install(clients, version, fresh=False)


def package_install(names: list[str] | None, version: str | None, fresh: bool, downgrade: bool = False, etcd_user: bool = False) -> Command:
    """The command that installs (or upgrades to) etcd's packages with the host's package manager,
    pinned to version when given: `etcd-server=3.5.16*` with apt (any Debian revision of it),
    `etcd-3.5.16` with dnf or yum; with downgrade, an older version than the installed one is
    allowed (apt's --allow-downgrades, `dnf downgrade`). With apt no service starts while it runs
    (policy-rc.d): neither the package's default instance nor a restart of the member by the
    package's scripts; a fresh install then disables the package's own unit, if it has one (Pigsty's package `etcd`
    has none). With etcd_user, the etcd user is made where the package did not make it."""
    tool = known.package_manager()
    if tool == "apt-get":
        return apt_install(names, version, fresh, downgrade, etcd_user)
    if tool is not None:
        return rpm_install(tool, names, version, downgrade, etcd_user)
    raise OperationError("no apt-get, dnf or yum on this host: install from a release tarball (etcd_tarball)")


def _install_tarball(tarball: str, expected: str):
    """Upload, verify on the host too (the copy must be the file that was checked), unpack."""
    yield FunctionCommand(_unpacked, (tarball, expected), {})


def install_tarball(tarball: str, expected: str) -> tuple[bool, str]:
    """Callback: the release tarball uploaded into a private temporary file of the SSH user (never
    copied onto itself under --sudo, nor written through a name another user can foresee), then
    checked and unpacked with the operation's privileges: (succeeded, the error)."""
    remote = on_host.private_file(Path(tarball))
    ok, error = on_host.run(unpack_tarball(remote, expected.lower()))
    on_host.own(files.remove(remote))
    return ok, error


def _unpacked(tarball: str, expected: str) -> None:
    ok, error = install_tarball(tarball, expected)
    if not ok:
        raise OperationError(f"installing etcd from {tarball} failed: {error}")


@operation()
def request_restart(reason: str):
    """
    Record that the running etcd predates a configuration change that needs a restart, before
    the change is written: an interrupted run still restarts it next time.

    + reason: why (shown in the output)
    """
    service = known.service()
    if not service.pid:
        host.noop("etcd is not running: it starts with the new configuration")
        return
    if service.restart_due:
        host.noop("its restart is already recorded")
        return
    yield services.request_restart(service.pid, reason)


@operation()
def running():
    """
    Enable etcd and start it without waiting: members of a new cluster must start together,
    since the first one waits for quorum. A stopped etcd is enabled as it starts, whatever
    systemd's cached state says: the enable reloads systemd's units, so that the start runs the
    unit file as written (a new one is not loaded before), and its enablement is read again.
    """
    service = known.service()
    commands = []
    if service.enabled != "enabled" or start_needed(service.active):
        commands.append(services.enable())
    if start_needed(service.active):
        commands.append(services.start())
    if not commands:
        host.noop("etcd is enabled and running")
        return
    yield joined(commands)


@operation(is_idempotent=False)
def wait_healthy(endpoint: str, cluster_wide: bool = False, timeout: int = 60):
    """
    Wait until the member serves linearizable reads (a leader and quorum), or fail with its journal.

    + endpoint: the member's client URL
    + cluster_wide: wait for every member, not only this one
    + timeout: seconds
    """
    yield wait_healthy_command(endpoint, cluster_wide, timeout)


@operation(is_idempotent=False)
def root_password(endpoint: str, new: Secret):
    """
    Change root's password in etcd to the new one, logging in with the current one of
    /etc/etcd/etcd.pass, verify that the new one logs in, and only then keep it on the control node
    (pki/<cluster>/root.password). A rotation cut short is finished: when the new password logs in
    already, nothing changes in etcd. The password travels in a 0600 file, never on a command line.

    + endpoint: client URL of a running member
    + new: the new root password (etcd_root_password, or the one the control node keeps)
    """
    yield FunctionCommand(_rotate_root, (endpoint, new), {})


def _rotate_root(endpoint: str, new: Secret) -> None:
    value = new.read()
    if value is None:
        raise OperationError("no new root password: set etcd_root_password_file")
    temporary = on_host.private_file(value.encode())
    try:
        login = auth.logs_in(endpoint, "root", temporary)
        if not on_host.run(login)[0]:
            ok, error = on_host.run(auth.logs_in(endpoint))
            if not ok:
                if any(refusal in error for refusal in ("authentication failed", "invalid auth")):
                    raise OperationError(
                        "root's password in etcd is neither the one in /etc/etcd/etcd.pass nor the new one: "
                        "set etcd_root_password_file to a file holding the cluster's current root password, run create, then change it"
                    )
                raise OperationError(f"the member at {endpoint} does not answer, so root's password cannot change: {error}")
            on_host.output(auth.change_password(endpoint, "root", temporary), "changing root's password")
            on_host.output(login, "logging in with the new root password")
    finally:
        on_host.own(files.remove(temporary))
    new.store()


@operation()
def rbac(endpoint: str):
    """
    Create the `root` user with the password of /etc/etcd/etcd.pass, enable authentication, and
    verify it: root can log in, an unauthenticated request is refused.

    + endpoint: client URL of the member to run etcdctl against
    """
    state = known.auth(endpoint)
    if state.root and not state.anonymous:
        host.noop("authentication is enabled and root can log in")
        return
    if state.refused:
        raise OperationError(
            "authentication is enabled but the root password in /etc/etcd/etcd.pass is refused: "
            "set etcd_root_password_file to a file holding the cluster's current root password"
        )
    yield auth.enable(endpoint)


@operation(is_idempotent=False)
def wipe(data_dir: str):
    """
    Stop and disable etcd and delete its member data: the etcd_clean rebuild, or the stale data of
    a host that is not a started member before it joins (the plans prove both are this cluster's).
    Only etcd's member/ tree goes: the data dir and anything else in it stay.

    + data_dir: the data dir to empty
    """
    yield services.wipe(data_dir)


@operation()
def purge(data_dir: str, remove_data: bool, remove_packages: bool, packages: list[str] | None = None):
    """
    Take etcd off this host: stop and disable it, delete its configuration, certificates, unit and
    etcdctl environment, its data (remove_data) and its packages or binaries (remove_packages).
    Only what is there is removed; a clean host is a no-op.

    + data_dir: the member's data dir
    + remove_data: delete the data dir (etcd_rm_data)
    + remove_packages: uninstall etcd (etcd_rm_pkg)
    + packages: package names installed (default: etcd-server, etcd-client with apt, etcd with dnf/yum)
    """
    commands = []
    service = host.get_fact(EtcdService)
    if is_running(service.active) or service.enabled in ("enabled", "enabled-runtime"):
        commands.append(services.stop_and_disable())
    leftovers = [path for path in (paths.UNIT, paths.ENV, paths.RESTART_PENDING) if host.get_fact(File, path=path)]
    if host.get_fact(Directory, path=paths.CONF_DIR):
        leftovers.insert(0, paths.CONF_DIR)
    if leftovers:
        commands.append(files.remove_tree(*leftovers))
    if remove_data and host.get_fact(Directory, path=data_dir):
        commands.append(services.remove_data(data_dir))
    if paths.UNIT in leftovers:
        commands.append(services.daemon_reload())
    if remove_packages and host.get_fact(EtcdVersion):
        if host.get_fact(File, path=BINARIES[0]):
            commands.append(remove_binaries())
        elif (tool := known.package_manager()) == "apt-get":
            commands.append(apt_purge(packages))
        else:
            commands.append(rpm_remove(tool or "yum", packages))
    if not commands:
        host.noop("nothing of etcd is left on this host")
    yield from commands


@operation(is_idempotent=False)
def snapshot(endpoint: str, dest: str, about: dict | None = None):
    """
    Save a snapshot of the cluster through this member and download it to the control node, then
    verify it: etcd reads it back on the member (`snapshot status`), and the copy has the
    member's size (> 0) and SHA-256. Only a verified snapshot counts (`snapshot_saved`). It holds
    every key (and the users' password hashes), so it is 0600 in a 0700 folder. With `about`, its
    sidecar (`<dest without .db>.json`, 0600) follows: `about` with the snapshot's revision,
    SHA-256 and size, what restore checks the file against.

    + endpoint: client URL of a healthy member
    + dest: path on the control node
    + about: what the sidecar says of the cluster (etcdkit.model.backups.about)
    """
    tool = _offline_tool("snapshot status")
    yield FunctionCommand(_snapshot, (endpoint, Path(dest), about, tool), {})


def snapshot_saved(dest: str) -> bool:
    """Whether this run saved and verified the snapshot dest."""
    return str(dest) in run_context(ctx_state.get()).snapshots_saved


def _offline_tool(what: str) -> str:
    """etcdutl for an offline command on a snapshot (`snapshot restore`, `snapshot status`), or
    etcdctl on an etcd 3.4 host without etcdutl, as the host's facts say (versions.offline_tool)."""
    version = host.get_fact(EtcdVersion)
    tool = offline_tool(version, bool(host.get_fact(Which, command="etcdutl")))
    if tool is None and version is not None:
        raise OperationError(
            f"etcd {version} on {host.name} has no etcdutl, which runs `{what}` from etcd 3.5 on (etcdctl has none from 3.6): "
            "install etcd's etcdutl (its packages and release tarballs have it)"
        )
    return tool or "etcdutl"  # no etcd yet: this run installs it first, and the run reads the facts again


def partial_path(path: Path) -> Path:
    """Where a file of the backups folder is written before it counts: a hidden name that retention
    and restore never take for a snapshot or a sidecar."""
    return path.with_name(f".{path.name}.partial")


def _snapshot(endpoint: str, dest: Path, about: dict | None, tool: str) -> None:
    """Saved on the member (in a private temporary folder: etcdctl writes <file>.part, then renames
    it), downloaded and verified under partial names, then put in place, the sidecar last: a snapshot
    counts once its sidecar is there. A run that fails leaves nothing."""
    partial, sidecar = partial_path(dest), partial_path(sidecar_path(dest))
    folder = on_host.private_temporary(folder=True)
    remote = f"{folder}/snapshot.db"
    try:
        try:
            on_host.output(snapshots.save(endpoint, remote), "the snapshot")
            status = json.loads(on_host.output(snapshots.status(remote, tool), "reading the snapshot back"))
            digest, size = on_host.output(snapshots.checksum(remote), "checksumming the snapshot").split()
            if not dest.parent.exists():  # a folder of its own; an existing one keeps its mode
                dest.parent.mkdir(mode=0o700, parents=True)
            os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))  # private before a byte is in it
            if not on_host.fetch(remote, partial):
                raise OperationError(f"the snapshot could not be downloaded to {dest}")
        finally:
            on_host.run(files.remove_tree(folder))
        local = hashlib.sha256(partial.read_bytes()).hexdigest()
        if int(size) <= 0 or not status.get("totalKey") or (local, partial.stat().st_size) != (digest, int(size)):
            raise OperationError(
                f"the snapshot {dest} does not verify (size {partial.stat().st_size} of {size}, keys {status.get('totalKey')})"
            )
        if about is not None:
            with os.fdopen(os.open(sidecar, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
                json.dump({**about, "revision": status.get("revision"), "sha256": local, "size": int(size)}, file, indent=2)
                file.write("\n")
        partial.rename(dest)
        try:
            if about is not None:
                sidecar.rename(sidecar_path(dest))
        except OSError:
            dest.unlink()
            raise
    except OSError as error:
        raise OperationError(f"the snapshot could not be saved to {dest}: {error}") from None
    finally:
        for path in (partial, sidecar):
            path.unlink(missing_ok=True)
    run_context(ctx_state.get()).snapshots_saved.add(str(dest))


@operation(is_idempotent=False)
def restore(snapshot: str, data_dir: str, member: Member, initial_cluster: str, token: str):
    """
    Give this member the data of a snapshot: upload it next to the data dir (0600, etcd's), restore
    it into a temporary folder beside the data dir, move the restored member/ into the data dir
    (etcd's, 0700), and delete the copy and the folder whatever happens. Refuses a data dir that
    holds member data already. Only a member restored this way counts (`restored`).

    + snapshot: path of the snapshot on the control node (checked against its sidecar by the plan)
    + data_dir: the member's data dir (etcd_data), created before by the install
    + member: the member, named as its etcd.conf names it
    + initial_cluster, token: the new cluster's, as in every member's etcd.conf
    """
    copy = f"{data_dir}.restore.db"
    yield from private_upload(Path(snapshot).expanduser(), copy)
    yield snapshots.restore(copy, data_dir, member, initial_cluster, token, _offline_tool("snapshot restore"))
    yield FunctionCommand(_mark_restored, (host.name,), {})


def _mark_restored(host_name: str) -> None:
    run_context(ctx_state.get()).restored.add(host_name)


def restored(host_names: list[str]) -> bool:
    """Whether this run restored the member of every one of these hosts."""
    return set(host_names) <= run_context(ctx_state.get()).restored


@operation(is_idempotent=False)
def root_logs_in(endpoint: str, refused: str):
    """
    Check that root logs in with the password of /etc/etcd/etcd.pass (the control node's), or fail
    with `refused` when etcd says the password is wrong, and with etcd's own error otherwise.

    + endpoint: client URL of a running member
    + refused: the message when the password is refused (which password is needed)
    """
    yield auth.root_logs_in(endpoint, refused)


@operation()
def client_user(endpoint: str, user: str, prefix: str, password_file: str):
    """
    An etcd user for a client, limited to a key prefix: user and role of that name, readwrite on the
    prefix only, and the password of password_file (set again if it no longer logs in).

    + endpoint: client URL of a member
    + user: the user and role name
    + prefix: the keys it may read and write
    + password_file: the password, already on this host
    """
    current = host.get_fact(EtcdUser, endpoint=endpoint, user=user, prefix=prefix, password_file=password_file)
    if current.complete:
        host.noop(f"etcd user {user} can read and write {prefix} and logs in")
        return
    yield auth.client_user(endpoint, user, prefix, password_file)
    if not current.login:
        yield auth.change_password(endpoint, user, password_file)


@operation(is_idempotent=False)
def force_new_cluster(member: Member, etcd_binary: str, timeout: int):
    """
    Make this member a one-member cluster of its own data (the recover SOP): restart it once with
    force-new-cluster (from /run only, deleted right after: see etcdkit.remote.recovery), then once
    more with its own etcd.conf, and wait until it serves. Only then does it count (`forced`).

    + member: the surviving member
    + etcd_binary: the etcd its unit runs
    + timeout: seconds it may take to serve
    """
    yield force_new_cluster_command(member, etcd_binary)
    yield wait_healthy_command(member.client_url, False, timeout)
    yield FunctionCommand(_mark_forced, (host.name,), {})


def _mark_forced(host_name: str) -> None:
    run_context(ctx_state.get()).forced.add(host_name)


def forced(host_name: str) -> bool:
    """Whether this run made the member of this host a one-member cluster that serves."""
    return host_name in run_context(ctx_state.get()).forced
