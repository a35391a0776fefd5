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

PATRONI_KEYS = (
    *("etcd3.hosts", "etcd3.protocol", "etcd3.cacert", "etcd3.cert", "etcd3.key", "etcd3.username", "etcd3.password"),
    "etcd3.use_proxies",
)
# Patroni re-reads the hosts and the credentials when reloaded (SIGHUP) and learns the members from
# etcd itself; the TLS settings and use_proxies need its restart.
PATRONI_RESTART_KEYS = ("etcd3.protocol", "etcd3.cacert", "etcd3.cert", "etcd3.key", "etcd3.use_proxies")
# read, never written: where Patroni's REST API answers (its role)
PATRONI_API_KEYS = ("restapi.connect_address", "restapi.certfile")
# vip-manager 1.x and 2.x use the same keys; 2.x (2.2+) also spells dcs-type `etcd3`, which 2.0
# and 2.1 refuse: dcs-type is read, never written
VIP_KEYS = ("dcs-endpoints", "etcd-ca-file", "etcd-cert-file", "etcd-key-file", "etcd-user", "etcd-password")
# the older names vip-manager still maps to those: both set to different values, it refuses to start
VIP_OLD_KEYS = ("endpoint", "endpoints", "etcd_user", "etcd_password")
VIP_ETCD_TYPES = ("etcd", "etcd3")  # vip-manager's default dcs-type is etcd
# the keys that hold the cluster user's password; etcd_password, the older name, is only removed
PASSWORD_KEYS = ("etcd3.password", "etcd-password")
SECRETS = (*PASSWORD_KEYS, "etcd_password")


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
    relogin: bool = False  # Patroni must log in again, which only its restart makes it do (see patroni_change)


def patroni_change(
    path: str, current: dict | None, client_urls: list[str], user: str, password: str | None, fixed_hosts: bool = False
) -> ConfigChange | None:
    """None when the host has no such config (no Patroni there). fixed_hosts: the members refuse their
    list to a client that has not logged in (etcdkit.model.versions.login_for_every_call), and Patroni
    before 4.1.1 asks for it before it logs in, so it gets `use_proxies: true`: it uses the hosts
    etcdkit keeps equal to the live members and never asks (it then takes new hosts at its restart).
    Those members also drop a user's login when its password changes, and Patroni 4.0 does not log in
    again (it takes etcd's "invalid auth token" answer for an unknown error, and loses its leader lock
    within its ttl; seen on the lab with etcd 3.5.30 and Patroni 4.0.7): a new user or password then
    needs its restart (relogin)."""
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
        **({"etcd3.use_proxies": True} if fixed_hosts else {}),
    }
    changed = _changed(current, values)
    relogin = fixed_hosts and bool({"etcd3.username", "etcd3.password"} & set(changed))
    action = None if not changed else "restart" if set(changed) & set(PATRONI_RESTART_KEYS) or relogin else "reload"
    return ConfigChange(path, values, action, relogin)


def to_write(change: ConfigChange, password) -> dict:
    """The values to write: the user's password (a Secret, read when the run executes) in the
    password keys, whatever the plan compared them with (None when the run generates it)."""
    return {key: password if key in PASSWORD_KEYS else value for key, value in change.values.items()}


def api_url(current: dict) -> str:
    """Patroni's /patroni endpoint, where its config says the others reach it."""
    address = current.get("restapi.connect_address") or "127.0.0.1:8008"
    return f"{'https' if current.get('restapi.certfile') else 'http'}://{address}/patroni"


def is_replica(role: str | None) -> bool:
    """Whether a restart of this Patroni stops only a replica: any other role (`primary`, `master`
    before Patroni 3, `standby_leader`, one it did not tell) may be its cluster's leader."""
    return role == "replica"


def vip_dcs_type(current: dict) -> str:
    return current.get("dcs-type") or "etcd"


def vip_change(path: str, current: dict | None, client_urls: list[str], user: str, password: str | None) -> ConfigChange | None:
    """None when the host has no such config (no vip-manager there), or one that does not watch
    etcd (dcs-type consul or patroni: its dcs-endpoints are no etcd's); vip-manager only restarts."""
    if current is None or vip_dcs_type(current) not in VIP_ETCD_TYPES:
        return None
    cert, key = certificate_paths(user)
    values = {
        "dcs-endpoints": list(client_urls),
        "etcd-ca-file": paths.CLIENT_CA,
        "etcd-cert-file": cert,
        "etcd-key-file": key,
        "etcd-user": user,
        "etcd-password": password,
        **dict.fromkeys(VIP_OLD_KEYS),
    }
    return ConfigChange(path, values, "restart" if _changed(current, values) else None)


def _changed(current: dict, values: dict) -> list[str]:
    wanted = hashed(values, SECRETS)
    return [key for key in values if current.get(key) != wanted[key]]
