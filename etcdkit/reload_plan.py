"""The reload SOP's decisions: every member's etcd.conf and etcdctl environment, and the etcd
settings of Patroni and vip-manager on the hosts of the run with a `pg_cluster`, brought in line
with the live member list, made once per run before anything changes.

The live cluster is the truth for who the members are: an inventory that says otherwise is
reported (a host that is not a member is skipped, a member missing from the inventory named), never
silently used. A runtime setting that changed restarts members one at a time, gated on health;
the bootstrap-only lines (initial-cluster) change without a restart.
"""

from dataclasses import dataclass, field

from pyinfra import logger
from pyinfra.api.exceptions import DeployError
from pyinfra.facts.files import File

from etcdkit import checks, clients, paths
from etcdkit.clients import ConfigChange
from etcdkit.cluster import ClusterView
from etcdkit.discovery import host_settings, live_view, once_per_run, survey
from etcdkit.inventory import GROUP, ClusterSpec, host_address
from etcdkit.memberfiles import (
    ClusterSecrets,
    HostPlan,
    Membership,
    cluster_secrets,
    cluster_token,
    etcdctl_env,
    member_files,
    restart_reason,
)
from etcdkit.monitoring import MonitoringPlan, Target, monitoring_plan
from etcdkit.password import user_password
from facts.clients import YamlKeys


@dataclass
class ClientUser:
    """The etcd user of a PostgreSQL cluster, limited to its Patroni keys."""

    name: str
    prefix: str
    password: str


@dataclass
class ClientPlan:
    """A host of a PostgreSQL cluster: the changes of its Patroni and vip-manager configs, and the
    client certificate they present (its key owned by the owner of Patroni's config)."""

    settings: dict
    patroni: ConfigChange | None
    vip: ConfigChange | None
    certificate: tuple[str, str]
    key_owner: tuple[str, str]


@dataclass
class ReloadPlan:
    spec: ClusterSpec
    view: ClusterView
    parts: list[str]
    hosts: dict[str, HostPlan]  # the inventory's hosts that are started members, by host name
    clients: dict[str, ClientPlan] = field(default_factory=dict)  # hosts with Patroni or vip-manager
    users: list[ClientUser] = field(default_factory=list)
    users_host: str | None = None  # the member that manages the users
    ca_pem: str = ""
    monitoring: MonitoringPlan | None = None
    admin_files: dict[str, str] = field(default_factory=dict)  # path -> content, on the admin hosts
    admin_hosts: list[str] = field(default_factory=list)


def reload_plan(state, inventory) -> ReloadPlan:
    return once_per_run(state, "reload", lambda: _make_plan(state, inventory))


def _make_plan(state, inventory) -> ReloadPlan:
    # hosts outside the run (--limit) are neither contacted nor reloaded
    outside = [host_address(h) for h in inventory.get_group(GROUP, default=[]) if state.limit_hosts is not None and h not in state.limit_hosts]
    spec, surveyed = survey(inventory, skip=outside)
    view = live_view(inventory, [h for h in surveyed.values() if h.ownership()[0] == "ours"])
    problems = checks.answers(view, spec.cluster)
    if problems:
        raise DeployError(f"cannot reload: {problems[0]}; nothing was changed")
    first = surveyed[spec.members[0].host_name].settings
    parts = first["etcd_reload"]
    hosts = {}
    for name, surveyed_host in surveyed.items():
        entry = view.by_peer_url(surveyed_host.member.peer_url)
        if surveyed_host.member.address in outside:
            continue
        if not surveyed_host.reachable:
            logger.warning(f"{name} cannot be reached over SSH: skipped, reload it once it is back")
            continue
        if entry is None or not entry.started or surveyed_host.ownership()[0] != "ours":
            logger.warning(
                f"{name} is in the inventory but not a started member of `{spec.cluster}`: skipped "
                f"(join it with bin/etcd-add {surveyed_host.member.address}, or drop it from the inventory)"
            )
            continue
        hosts[name] = HostPlan(surveyed_host.member, surveyed_host.settings, surveyed_host.state)
    for member in view.members:
        if spec.by_peer_url(member.peer_urls[0] if member.peer_urls else "") is None:
            logger.warning(f"member {member.describe()} is not in the inventory: its host is not reloaded")

    secrets = cluster_secrets(first, spec.cluster)
    membership = Membership.of_live_cluster(view, spec)
    token = cluster_token(hosts.values()) or spec.cluster
    for plan in hosts.values():
        plan.files = member_files(plan, secrets, membership, token, plan.conf_value("initial-cluster-state") or "existing")
        if "conf" in parts and plan.running:
            plan.restart_reason = restart_reason(plan, plan.files, conf_only=True)
        if "restart" in parts:
            plan.restart_reason = "a rolling restart was asked for (etcd_reload=restart)"
    checks.restart_allowed(hosts.values(), view)
    plan = ReloadPlan(spec, view, parts, hosts, ca_pem=secrets.ca.cert_pem)
    if "env" in parts:
        _plan_admin_hosts(plan, inventory, secrets, membership, first)
    if {"patroni", "vip"} & set(parts):
        _plan_clients(plan, inventory, secrets)
    if "monitor" in parts:
        targets = [_target(member) for member in view.started]
        plan.monitoring = monitoring_plan(inventory, spec.cluster, [t for t in targets if t], secrets)
    return plan


def _plan_admin_hosts(plan: ReloadPlan, inventory, secrets: ClusterSecrets, membership: Membership, settings: dict) -> None:
    """The admin hosts of the run that are not members get the etcdctl environment of the live
    members, as root with the control node's admin certificate."""
    group = settings["etcd_client_group"]
    activated = set(inventory.iter_activated_hosts())
    plan.admin_hosts = [h.name for h in inventory.get_group(group, default=[]) if h in activated and h.name not in plan.hosts]
    if not plan.admin_hosts:
        return
    cert, key = secrets.ca.client_certificate(secrets.folder, "admin", settings["etcd_cert_days"])
    env = etcdctl_env(plan.spec.cluster, membership.endpoints, paths.CLIENT_CA, paths.ADMIN_CERT, paths.ADMIN_KEY, paths.ADMIN_PASS)
    plan.admin_files = {paths.CLIENT_CA: secrets.ca.cert_pem, paths.ADMIN_CERT: cert, paths.ADMIN_KEY: key, paths.ADMIN_PASS: secrets.password, paths.ENV: env}


def _target(member) -> Target | None:
    """A started member as a Prometheus target, by its first client URL."""
    if not member.client_urls:
        return None
    address, port = member.client_urls[0].split("//", 1)[1].rsplit(":", 1)
    return Target(member.name, address, int(port))


def _plan_clients(plan: ReloadPlan, inventory, secrets: ClusterSecrets) -> None:
    urls = sorted(url for member in plan.view.started for url in member.client_urls)
    users = {}
    for host in inventory.iter_activated_hosts():
        settings = host_settings(host)
        pg_cluster = settings["pg_cluster"]
        if not pg_cluster:
            continue
        if pg_cluster not in users:
            password, notice = user_password(settings["pg_etcd_password"], secrets.folder, pg_cluster)
            if notice:
                logger.warning(notice)
            users[pg_cluster] = ClientUser(pg_cluster, clients.prefix(pg_cluster), password)
        user = users[pg_cluster]
        patroni = vip = None
        if "patroni" in plan.parts:
            current = host.get_fact(YamlKeys, path=settings["patroni_config"], keys=clients.PATRONI_KEYS, secrets=clients.SECRETS)
            patroni = clients.patroni_change(settings["patroni_config"], current, urls, user.name, user.password)
        if "vip" in plan.parts:
            current = host.get_fact(YamlKeys, path=settings["vip_manager_config"], keys=clients.VIP_KEYS, secrets=clients.SECRETS)
            vip = clients.vip_change(settings["vip_manager_config"], current, urls, user.name, user.password)
        if patroni or vip:
            certificate = secrets.ca.client_certificate(secrets.folder, pg_cluster, settings["etcd_cert_days"])
            owner = host.get_fact(File, path=settings["patroni_config"]) if patroni else None
            key_owner = (owner["user"], owner["group"]) if owner else ("root", "root")
            plan.clients[host.name] = ClientPlan(settings, patroni, vip, certificate, key_owner)
        else:
            logger.info(f"{host.name}: neither {settings['patroni_config']} nor {settings['vip_manager_config']}: skipped")
    plan.users = list(users.values())
    running = sorted((h for h in plan.hosts.values() if h.running), key=lambda h: h.member.seq)
    if plan.users and not running:
        raise DeployError("the etcd users of Patroni and vip-manager are managed through a member: include one in the run")
    plan.users_host = running[0].member.host_name if plan.users else None
