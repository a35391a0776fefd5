"""The etcd clients of a PostgreSQL cluster (Patroni, vip-manager): which keys of their configs the
reload SOP manages, and what a change of them needs. Pure functions, decided at plan time: a
password that the run generates (None here) counts as a change.

Each PostgreSQL cluster (`pg_cluster`) has an etcd user and role of its name, limited to its
Patroni keys under /pg/<pg_cluster>/; Patroni and vip-manager log in with it over TLS, verify the
members with the cluster's CA (CLIENT_CA) and present a client certificate of that name issued by
it (etcd asks every client for one).
"""

from dataclasses import dataclass

from etcdkit.facts.yaml import hashed
from etcdkit.model import paths

PATRONI_KEYS = ("etcd3.hosts", "etcd3.protocol", "etcd3.cacert", "etcd3.cert", "etcd3.key", "etcd3.username", "etcd3.password")
# Patroni re-reads the hosts and the credentials when reloaded (SIGHUP) and learns the members from
# etcd itself; only the TLS settings need its restart.
PATRONI_RESTART_KEYS = ("etcd3.protocol", "etcd3.cacert", "etcd3.cert", "etcd3.key")
VIP_KEYS = ("dcs-endpoints", "etcd-ca-file", "etcd-cert-file", "etcd-key-file", "etcd-user", "etcd-password")
SECRETS = ("etcd3.password", "etcd-password")


def prefix(pg_cluster: str) -> str:
    return f"/pg/{pg_cluster}/"


def certificate_paths(pg_cluster: str) -> tuple[str, str]:
    """Where a PostgreSQL cluster's client certificate and key go on its hosts."""
    return f"{paths.CLIENT_DIR}/{pg_cluster}.crt", f"{paths.CLIENT_DIR}/{pg_cluster}.key"


@dataclass(frozen=True)
class ConfigChange:
    """New values for a client's config; `action` is what the running client needs: reload or restart."""

    path: str
    values: dict
    action: str | None  # None: nothing differs


def patroni_change(path: str, current: dict | None, client_urls: list[str], user: str, password: str | None) -> ConfigChange | None:
    """None when the host has no such config (no Patroni there)."""
    if current is None:
        return None
    cert, key = certificate_paths(user)
    values = {
        "etcd3.hosts": [url.split("//", 1)[1] for url in client_urls],
        "etcd3.protocol": "https",
        "etcd3.cacert": paths.CLIENT_CA,
        "etcd3.cert": cert,
        "etcd3.key": key,
        "etcd3.username": user,
        "etcd3.password": password,
    }
    changed = _changed(current, values)
    action = None if not changed else "restart" if set(changed) & set(PATRONI_RESTART_KEYS) else "reload"
    return ConfigChange(path, values, action)


def vip_change(path: str, current: dict | None, client_urls: list[str], user: str, password: str | None) -> ConfigChange | None:
    """None when the host has no such config (no vip-manager there); vip-manager only restarts."""
    if current is None:
        return None
    cert, key = certificate_paths(user)
    values = {
        "dcs-endpoints": list(client_urls),
        "etcd-ca-file": paths.CLIENT_CA,
        "etcd-cert-file": cert,
        "etcd-key-file": key,
        "etcd-user": user,
        "etcd-password": password,
    }
    return ConfigChange(path, values, "restart" if _changed(current, values) else None)


def _changed(current: dict, values: dict) -> list[str]:
    wanted = hashed(values, SECRETS)
    return [key for key in values if current.get(key) != wanted[key]]
