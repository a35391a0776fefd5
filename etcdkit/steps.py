"""Sequences of operations that several SOPs run on a member's host."""

from io import StringIO
from pathlib import Path

from pyinfra import host
from pyinfra.facts.server import Which
from pyinfra.operations import files, python, server, systemd

from etcdkit import paths
from etcdkit.clients import SECRETS, certificate_paths
from etcdkit.discovery import HostState
from etcdkit.memberfiles import HostPlan
from operations import clients, etcd

PUBLIC_FILES = (
    (paths.CA, "etcd", "etcd", "644"),
    (paths.CERT, "etcd", "etcd", "644"),
    (paths.CONF, "etcd", "etcd", "644"),
    (paths.ENV, "root", "root", "644"),
)


def install_member(host: HostState, files_: dict[str, str], restart_reason: str | None = None) -> None:
    """Install etcd and write the member's files; systemd reloads when the unit changed.

    With a restart reason, the running etcd is first marked for the rolling restart that follows
    (`etcd.restart_if_pending`), so that an interrupted run still restarts it next time."""
    settings = host.settings
    etcd.install(
        name="Install etcd",
        packages=settings["etcd_packages"],
        tarball=settings["etcd_tarball"],
        tarball_sha256=settings["etcd_tarball_sha256"],
    )
    files.directory(name="etcd config dir", path=paths.CONF_DIR, user="etcd", group="etcd", mode="750")
    files.directory(name="etcd data dir", path=settings["etcd_data"], user="etcd", group="etcd", mode="700")
    if restart_reason:
        etcd.request_restart(name=f"Restart needed: {restart_reason}", reason=restart_reason)
    for path, user, group, mode in PUBLIC_FILES:
        files.put(name=f"Upload {path}", src=StringIO(files_[path]), dest=path, user=user, group=group, mode=mode)
    etcd.secret_file(name=f"Upload {paths.KEY}", content=files_[paths.KEY], dest=paths.KEY, user="etcd", group="etcd", mode="600")
    etcd.secret_file(name=f"Upload {paths.PASS}", content=files_[paths.PASS], dest=paths.PASS, user="root", group="etcd", mode="640")
    unit = files.put(name=f"Upload {paths.UNIT}", src=StringIO(files_[paths.UNIT]), dest=paths.UNIT, user="root", group="root", mode="644")
    systemd.daemon_reload(name="Reload systemd units", _if=unit.did_change)


def refresh_member(host: HostPlan, parts: list[str]) -> None:
    """The reload of one member: etcd.conf and/or the etcdctl environment, then its turn in the
    rolling restart if its running etcd must restart (one member at a time, gated on health)."""
    if host.restart_reason:
        etcd.request_restart(name=f"Restart needed: {host.restart_reason}", reason=host.restart_reason)
    for part, (path, user, group, mode) in (("conf", PUBLIC_FILES[2]), ("env", PUBLIC_FILES[3])):
        if part in parts:
            files.put(name=f"Upload {path}", src=StringIO(host.files[path]), dest=path, user=user, group=group, mode=mode)
    etcd.restart_if_pending(name="Restart etcd (one member at a time)", endpoint=host.member.client_url, _serial=True)


def join_member(plan, host_name: str) -> None:
    """The join of plan.joiner (a JoinPlan) when it is this host: stale data out, files in,
    announce, start, promote. Other hosts of the run have nothing to do."""
    joiner = plan.joiner
    if joiner is None or joiner.member.host_name != host_name:
        return
    if plan.wipe:
        etcd.wipe(name="Delete stale etcd data (not a member)", data_dir=joiner.settings["etcd_data"])
    install_member(joiner, plan.files)
    etcd.member_add(
        name=f"Announce {joiner.member.name} ({'learner' if plan.learner else 'voting member'})",
        member=joiner.member, endpoints=plan.endpoints, learner=plan.learner,
    )
    etcd.join(
        name=f"Start {joiner.member.name}, promote it, check the cluster",
        member=joiner.member, endpoints=plan.endpoints, timeout=joiner.settings["etcd_join_timeout"],
    )


def take_off(settings: dict) -> None:
    """etcd off a host that left the cluster: stopped, disabled, its files deleted, its data and
    packages as etcd_rm_data and etcd_rm_pkg say."""
    etcd.purge(
        name="Stop etcd and delete its files",
        data_dir=settings["etcd_data"],
        remove_data=settings["etcd_rm_data"],
        remove_packages=settings["etcd_rm_pkg"],
        packages=settings["etcd_packages"],
    )


def forget_certificates(paths_: list[Path]) -> None:
    """Delete members' certificates and keys from the control node's PKI folder, once they are gone."""
    if paths_:
        python.call(
            name="Delete the certificates of the members that left from the PKI folder",
            function=lambda: [path.unlink(missing_ok=True) for path in paths_],
        )


def refresh_admin(files_: dict[str, str]) -> None:
    """An admin host: the etcdctl environment of the live members, with the CA, the admin
    certificate and the root password (root only) it reads."""
    apt = host.get_fact(Which, command="apt-get")
    server.packages(name="Install etcdctl", packages=["etcd-client"] if apt else ["etcd"])
    files.directory(name=f"{paths.CLIENT_DIR} (etcd client files)", path=paths.CLIENT_DIR, user="root", group="root", mode="755")
    for path in (paths.CLIENT_CA, paths.ADMIN_CERT, paths.ENV):
        files.put(name=f"Upload {path}", src=StringIO(files_[path]), dest=path, user="root", group="root", mode="644")
    for path in (paths.ADMIN_KEY, paths.ADMIN_PASS):
        etcd.secret_file(name=f"Upload {path}", content=files_[path], dest=path, user="root", group="root", mode="600")


def client_users(users, endpoint: str) -> None:
    """On the member that manages them: the etcd users of the PostgreSQL clusters, each limited to
    its prefix, with its password kept in a root-only file."""
    files.directory(name=f"{paths.USERS_DIR} (client passwords)", path=paths.USERS_DIR, user="root", group="root", mode="700")
    for user in users:
        password_file = f"{paths.USERS_DIR}/{user.name}.pass"
        etcd.secret_file(name=f"Upload {password_file}", content=user.password, dest=password_file, user="root", group="root", mode="600")
        etcd.client_user(name=f"etcd user {user.name} on {user.prefix}", endpoint=endpoint, user=user.name, prefix=user.prefix, password_file=password_file)


def refresh_clients(client, ca_pem: str) -> None:
    """Patroni and vip-manager of one host: the CA, their etcd settings, then a reload or restart
    of the running service (a restart one host at a time)."""
    files.directory(name=f"{paths.CLIENT_DIR} (etcd CA for clients)", path=paths.CLIENT_DIR, user="root", group="root", mode="755")
    files.put(name=f"Upload {paths.CLIENT_CA}", src=StringIO(ca_pem), dest=paths.CLIENT_CA, user="root", group="root", mode="644")
    (cert_path, key_path), (cert, key) = certificate_paths(client.settings["pg_cluster"]), client.certificate
    files.put(name=f"Upload {cert_path}", src=StringIO(cert), dest=cert_path, user="root", group="root", mode="644")
    etcd.secret_file(name=f"Upload {key_path}", content=key, dest=key_path, user=client.key_owner[0], group=client.key_owner[1], mode="600")
    for label, change, service in (
        ("Patroni", client.patroni, client.settings["patroni_service"]),
        ("vip-manager", client.vip, client.settings["vip_manager_service"]),
    ):
        if change is None:
            continue
        written = clients.yaml_keys(
            name=f"{label}: etcd endpoints and credentials in {change.path}", path=change.path, values=change.values,
            secrets=SECRETS,
        )
        if change.action:
            clients.take_config(
                name=f"{label}: {change.action} to take them", service=service, action=change.action,
                _if=written.did_change, _serial=change.action == "restart",
            )
