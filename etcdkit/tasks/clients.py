"""Task groups on the hosts of etcd's clients: admin hosts (etcdctl), the etcd users of the
PostgreSQL clusters, and Patroni and vip-manager."""

from pyinfra.api import deploy

from etcdkit.model import paths
from etcdkit.operations import etcd, services
from etcdkit.operations.files import Item, put_all
from etcdkit.operations.yaml import yaml_keys
from etcdkit.plans.memberfiles import ClusterSecrets
from etcdkit.plans.patroni import SECRETS, certificate_paths, to_write

PUBLIC = (paths.CLIENT_CA, paths.ADMIN_CERT, paths.ENV)


@deploy("etcd admin host")
def refresh_admin(files_: dict, packages: list[str] | None, version: str | None) -> None:
    """An admin host: etcdctl (etcd_packages' client, at etcd_version), and the etcdctl environment
    of the live members, with the CA, the admin certificate and the root password (root only) it reads."""
    etcd.admin_etcdctl(name="Install etcdctl", packages=packages, version=version)
    items = [Item(path, "root", "root", "644" if path in PUBLIC else "600", source) for path, source in files_.items()]
    put_all(name="etcdctl's CA, certificate, key, password and environment", items=(Item(paths.CLIENT_DIR, "root", "root", "755"), *items))


@deploy("etcd users")
def client_users(users, endpoint: str) -> None:
    """On the member that manages them: the etcd users of the PostgreSQL clusters, each limited to
    its prefix, with its password kept in a root-only file."""
    password_files = {user.name: f"{paths.USERS_DIR}/{user.name}.pass" for user in users}
    put_all(
        name="The client users' passwords",
        items=(
            Item(paths.USERS_DIR, "root", "root", "700"),
            *(Item(password_files[user.name], "root", "root", "600", user.password) for user in users),
        ),
    )
    for user in users:
        etcd.client_user(
            name=f"etcd user {user.name} on {user.prefix}",
            endpoint=endpoint,
            user=user.name,
            prefix=user.prefix,
            password_file=password_files[user.name],
        )


@deploy("etcd clients")
def refresh_clients(client, secrets: ClusterSecrets) -> None:
    """Patroni and vip-manager of one host: the CA, their etcd settings, then what the running
    services need. Operations run in step over the hosts, so the replicas' Patroni restart (one
    host at a time, each waiting until it runs again) comes before any primary's."""
    cert_path, key_path = certificate_paths(client.settings.pg_cluster)
    put_all(
        name="The etcd CA, the client certificate and its key",
        items=(
            Item(paths.CLIENT_DIR, "root", "root", "755"),
            Item(paths.CLIENT_CA, "root", "root", "644", secrets.ca.files[0]),
            Item(cert_path, "root", "root", "644", client.certificate.cert_path),
            Item(key_path, *client.key_owner, "600", client.certificate.key_path),
        ),
    )
    patroni, service = client.patroni, client.settings.patroni_service
    if patroni:
        written = _config(f"Patroni ({client.patroni_role})", patroni, client.user.password)
        if client.patroni_action == "reload":
            services.take_config(
                name=f"Patroni ({client.patroni_role}): reload to take them", service=service, action="reload", _if=written.did_change
            )
        if client.patroni_action == "restart":
            services.restart_patroni(
                name="Patroni (replica): restart for the new TLS settings, one replica at a time",
                service=service,
                api=client.patroni_api,
                _if=written.did_change,
                _serial=True,
            )
    if client.vip:
        written_vip = _config("vip-manager", client.vip, client.user.password)
        if client.vip.action:
            services.take_config(
                name="vip-manager: restart to take them, one host at a time",
                service=client.settings.vip_manager_service,
                action="restart",
                _if=written_vip.did_change,
                _serial=True,
            )
    if patroni and client.patroni_action == "restart-primary":
        services.restart_patroni(
            name="Patroni (primary): restart for the new TLS settings, after every replica (etcd_patroni_restart_primary)",
            service=service,
            api=client.patroni_api,
            _if=written.did_change,
            _serial=True,
        )


def _config(label: str, change, password):
    return yaml_keys(
        name=f"{label}: etcd endpoints and credentials in {change.path}",
        path=change.path,
        values=to_write(change, password),
        secrets=SECRETS,
    )
