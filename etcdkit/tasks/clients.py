"""Task groups on the hosts of etcd's clients: admin hosts (etcdctl), the etcd users of the
PostgreSQL clusters, and Patroni and vip-manager."""

from pyinfra.api import deploy
from pyinfra.operations import files

from etcdkit.model import paths
from etcdkit.operations import etcd, services
from etcdkit.operations.files import upload
from etcdkit.operations.yaml import yaml_keys
from etcdkit.plans.memberfiles import ClusterSecrets
from etcdkit.plans.patroni import SECRETS, certificate_paths, to_write

PUBLIC = (paths.CLIENT_CA, paths.ADMIN_CERT, paths.ENV)


@deploy("etcd admin host")
def refresh_admin(files_: dict, packages: list[str] | None, version: str | None) -> None:
    """An admin host: etcdctl (etcd_packages' client, at etcd_version), and the etcdctl environment
    of the live members, with the CA, the admin certificate and the root password (root only) it reads."""
    etcd.admin_etcdctl(name="Install etcdctl", packages=packages, version=version)
    files.directory(name=f"{paths.CLIENT_DIR} (etcd client files)", path=paths.CLIENT_DIR, user="root", group="root", mode="755")
    for path, source in files_.items():
        upload(name=f"Upload {path}", source=source, dest=path, user="root", group="root", mode="644" if path in PUBLIC else "600")


@deploy("etcd users")
def client_users(users, endpoint: str) -> None:
    """On the member that manages them: the etcd users of the PostgreSQL clusters, each limited to
    its prefix, with its password kept in a root-only file."""
    files.directory(name=f"{paths.USERS_DIR} (client passwords)", path=paths.USERS_DIR, user="root", group="root", mode="700")
    for user in users:
        password_file = f"{paths.USERS_DIR}/{user.name}.pass"
        upload(name=f"Upload {password_file}", source=user.password, dest=password_file, user="root", group="root", mode="600")
        etcd.client_user(
            name=f"etcd user {user.name} on {user.prefix}",
            endpoint=endpoint,
            user=user.name,
            prefix=user.prefix,
            password_file=password_file,
        )


@deploy("etcd clients")
def refresh_clients(client, secrets: ClusterSecrets) -> None:
    """Patroni and vip-manager of one host: the CA, their etcd settings, then what the running
    services need. Operations run in step over the hosts, so the replicas' Patroni restart (one
    host at a time, each waiting until it runs again) comes before any primary's."""
    files.directory(name=f"{paths.CLIENT_DIR} (etcd CA for clients)", path=paths.CLIENT_DIR, user="root", group="root", mode="755")
    upload(name=f"Upload {paths.CLIENT_CA}", source=secrets.ca.files[0], dest=paths.CLIENT_CA, user="root", group="root", mode="644")
    cert_path, key_path = certificate_paths(client.settings.pg_cluster)
    upload(name=f"Upload {cert_path}", source=client.certificate.cert_path, dest=cert_path, user="root", group="root", mode="644")
    upload(
        name=f"Upload {key_path}",
        source=client.certificate.key_path,
        dest=key_path,
        user=client.key_owner[0],
        group=client.key_owner[1],
        mode="600",
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
