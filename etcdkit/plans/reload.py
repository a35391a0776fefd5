"""The reload SOP's decisions: every member's etcd.conf and etcdctl environment, and the etcd
settings of Patroni and vip-manager on the hosts of the run with a `pg_cluster`, brought in line
with the live member list, made once per run before anything changes.

The live cluster is the truth for who the members are: an inventory that says otherwise is
reported (a host that is not a member is skipped, a member missing from the inventory named), never
silently used. A runtime setting that changed restarts members one at a time, gated on health;
the bootstrap-only lines (initial-cluster) change without a restart.
"""

from dataclasses import dataclass, field

from etcdkit.control.passwords import Secret, user_secret
from etcdkit.control.pki import CertRequest
from etcdkit.control.store import ControlWork
from etcdkit.facts.patroni import PatroniRole
from etcdkit.facts.yaml import ConfigFile, YamlKeys
from etcdkit.model import paths
from etcdkit.model.cluster import ClusterView
from etcdkit.model.inventory import ClusterSpec
from etcdkit.model.refusals import Refusal
from etcdkit.model.run import run_context
from etcdkit.model.settings import Settings
from etcdkit.model.versions import login_for_every_call
from etcdkit.plans import checks, patroni
from etcdkit.plans.gather import (
    ControlState,
    HostState,
    host_settings,
    left_out,
    live_token,
    read_control,
    read_hosts,
    read_view,
)
from etcdkit.plans.memberfiles import ClusterSecrets, MemberPlan, Membership, cluster_token, conf_warnings, member_files, restart_reason
from etcdkit.plans.monitoring import MonitoringPlan, Monitors, Target, monitoring_plan, read_monitors
from etcdkit.plans.patroni import ConfigChange
from etcdkit.remote.memberfiles import etcdctl_env


@dataclass(frozen=True)
class PgHost:
    """A host of a PostgreSQL cluster as reload reads it: its settings and the managed keys of
    Patroni's and vip-manager's configs (None: no such config)."""

    name: str
    settings: Settings
    patroni: dict | None
    vip: dict | None
    patroni_owner: tuple[str, str] | None  # owner of the file Patroni's config leads to: its client key gets it too
    patroni_role: str | None = None  # as Patroni's REST API tells it (None: it did not answer)
    patroni_refused: str | None = None  # why its config is not written (a file of root's another user can redirect to)

    @property
    def pg_cluster(self) -> str:
        """Its PostgreSQL cluster: read_clients takes only the hosts that name one."""
        if not self.settings.pg_cluster:
            raise ValueError(f"{self.name} names no pg_cluster")
        return self.settings.pg_cluster


@dataclass(frozen=True)
class ReloadFacts:
    spec: ClusterSpec
    hosts: dict[str, HostState]  # the inventory's members in the run
    outside: tuple[str, ...]  # addresses of members left out of the run (--limit)
    view: ClusterView | None
    control: ControlState
    admin_hosts: tuple[str, ...]  # admin hosts of the run that are not members
    pg_hosts: tuple[PgHost, ...]
    passwords: dict  # pg_cluster -> its password as the control node has it now (None: to be generated)
    monitors: Monitors


@dataclass
class ClientUser:
    """The etcd user of a PostgreSQL cluster, limited to its Patroni keys."""

    name: str
    prefix: str
    password: Secret


@dataclass
class ClientPlan:
    """A host of a PostgreSQL cluster: the changes of its Patroni and vip-manager configs, and the
    client certificate they present (its key owned by the owner of Patroni's config).

    What its running Patroni is made to do (patroni_action): `reload`; `restart` (a replica, in
    the replicas' turn, one host at a time); `restart-primary` (after every replica, only with
    etcd_patroni_restart_primary); None (nothing, or a primary's restart left to the operator)."""

    settings: Settings
    user: ClientUser
    patroni: ConfigChange | None
    vip: ConfigChange | None
    certificate: CertRequest
    key_owner: tuple[str, str]
    patroni_action: str | None = None
    patroni_role: str = "role unknown"
    patroni_api: str = ""


@dataclass
class ReloadPlan:
    spec: ClusterSpec
    view: ClusterView
    parts: list[str]
    members: dict[str, MemberPlan]  # the inventory's hosts that are started members, by host name
    secrets: ClusterSecrets
    control: ControlWork | None = None
    control_host: str | None = None  # the host whose run writes the control node's PKI folder
    clients: dict[str, ClientPlan] = field(default_factory=dict)  # hosts with Patroni or vip-manager
    users: list[ClientUser] = field(default_factory=list)
    users_host: str | None = None  # the member that manages the users
    monitoring: MonitoringPlan | None = None
    admin_files: dict = field(default_factory=dict)  # path -> content or control-node source, on the admin hosts
    admin_hosts: list[str] = field(default_factory=list)
    admin_etcdctl: tuple[list[str] | None, str | None] = (None, None)  # etcd_packages and etcd_version, for their etcdctl
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def reload_plan(state, inventory) -> ReloadPlan:
    return run_context(state).once("reload", lambda: decide(gather(state, inventory)))


def gather(state, inventory, parts: list[str] | None = None) -> ReloadFacts:
    """The facts for these parts (default: etcd_reload); hosts outside the run (--limit) are
    neither contacted nor reloaded."""
    outside = left_out(state, inventory)
    spec, hosts = read_hosts(inventory, state, skip=outside)
    view = read_view(inventory, [h for h in hosts.values() if h.ours])
    first = hosts[spec.members[0].host_name].settings
    return ReloadFacts(spec, hosts, outside, view, read_control(first, spec.cluster), *read_clients(inventory, hosts, first, parts))


def read_clients(inventory, hosts: dict[str, HostState], first: Settings, parts: list[str] | None = None):
    """(admin hosts, PostgreSQL hosts, their clusters' passwords, monitoring hosts) of the run, as
    these parts (default: etcd_reload) need them: the clients' side of ReloadFacts."""
    parts = first.etcd_reload if parts is None else parts
    activated = list(inventory.iter_activated_hosts())
    admin = []
    if "env" in parts:
        admin = [h.name for h in inventory.get_group(first.etcd_client_group, default=[]) if h in activated and h.name not in hosts]
    pg_hosts: list[PgHost] = []
    passwords: dict[str, str | None] = {}
    if {"patroni", "vip"} & set(parts):
        folder = ClusterSecrets.of(first, first.etcd_cluster).folder
        for host in activated:
            settings = host_settings(host)
            pg_cluster = settings.pg_cluster
            if not pg_cluster:
                continue
            passwords.setdefault(pg_cluster, user_secret(settings.pg_etcd_password, folder, pg_cluster).read())
            current = {}
            for part, path, keys in (
                ("patroni", settings.patroni_config, patroni.PATRONI_KEYS + patroni.PATRONI_API_KEYS),
                ("vip", settings.vip_manager_config, (*patroni.VIP_KEYS, *patroni.VIP_OLD_KEYS, "dcs-type")),
            ):
                current[part] = host.get_fact(YamlKeys, path=path, keys=keys, secrets=patroni.SECRETS) if part in parts else None
            found, role = None, None
            if current["patroni"] is not None:
                # through Pigsty's symlink: the owner of /pg/conf/<instance>.yml is the user Patroni runs as
                found = host.get_fact(ConfigFile, path=settings.patroni_config)
                role = host.get_fact(PatroniRole, url=patroni.api_url(current["patroni"]))
            owner = (found.user, found.group) if found else None
            refused = found.refused if found else None
            pg_hosts.append(PgHost(host.name, settings, current["patroni"], current["vip"], owner, role, refused))
    monitors = read_monitors(inventory) if "monitor" in parts else Monitors((), None)
    return tuple(admin), tuple(pg_hosts), passwords, monitors


def decide(facts: ReloadFacts) -> ReloadPlan:
    spec = facts.spec
    view = checks.answering(facts.view, spec.cluster, "reload.down", "cannot reload")
    first = facts.hosts[spec.members[0].host_name].settings
    parts = first.etcd_reload
    warnings = list(facts.monitors.warnings)
    members = {}
    token = live_token(facts.hosts.values(), view)
    for name, host in facts.hosts.items():
        entry = view.by_peer_url(host.member.peer_url)
        if host.member.address in facts.outside:
            continue
        if not host.reachable:
            warnings.append(f"{name} cannot be reached over SSH: skipped, reload it once it is back")
            continue
        if entry is None or not entry.started or not host.ours or host.stranger(view, token):
            warnings.append(
                f"{name} is in the inventory but not a started member of `{spec.cluster}`: skipped "
                f"(join it with bin/etcd-add {host.member.address}, or drop it from the inventory)"
            )
            continue
        members[name] = MemberPlan.of(host)
    for member in view.members:
        if spec.by_peer_url(member.peer_urls[0] if member.peer_urls else "") is None:
            warnings.append(f"member {member.describe()} is not in the inventory: its host is not reloaded")
    checks.control_node_matches(facts.control, [h for h in members.values() if h.running], spec.cluster, first)

    cluster_secrets = ClusterSecrets.of(first, spec.cluster)
    membership = Membership.of_live_cluster(view, spec)
    token = cluster_token(members.values()) or spec.cluster
    for member_plan in members.values():
        member_plan.files = member_files(member_plan, membership, token, member_plan.conf_value("initial-cluster-state") or "existing")
        if "conf" in parts and member_plan.running:
            member_plan.restart_reason = restart_reason(member_plan, member_plan.files, conf_only=True)
        if "restart" in parts:
            member_plan.restart_reason = "a rolling restart was asked for (etcd_reload=restart)"
    checks.restart_allowed(members.values(), view)
    checks.quota_fits(members.values(), view)
    warnings += conf_warnings(members.values())
    plan = ReloadPlan(spec, view, parts, members, cluster_secrets, warnings=warnings)
    if facts.admin_hosts:
        plan.admin_hosts = list(facts.admin_hosts)
        plan.admin_files = admin_files(spec.cluster, membership, cluster_secrets)
        plan.admin_etcdctl = (first.etcd_packages, first.etcd_version)
    if facts.pg_hosts:
        _plan_clients(plan, facts, cluster_secrets)
    if "monitor" in parts:
        targets = [target for target in map(_target, view.started) if target]
        plan.monitoring = monitoring_plan(facts.monitors, spec.cluster, targets, cluster_secrets)
    certificates = [cluster_secrets.member_certificate(m.member) for m in members.values()] if "conf" in parts else []
    certificates += [cluster_secrets.client_certificate(name) for name in sorted({c.user.name for c in plan.clients.values()})]
    if plan.monitoring and plan.monitoring.certificate:
        certificates.append(plan.monitoring.certificate)
    plan.control = cluster_secrets.work(certificates, facts.control.now, [user.password for user in plan.users])
    run_hosts = [*members, *plan.admin_hosts, *plan.clients, *(plan.monitoring.hosts if plan.monitoring else [])]
    plan.control_host = run_hosts[0] if run_hosts else None
    return plan


def admin_files(cluster: str, membership: Membership, cluster_secrets: ClusterSecrets) -> dict:
    """An admin host: the etcdctl environment of the live members, as root with the control node's
    admin certificate."""
    admin = cluster_secrets.client_certificate("admin")
    env = etcdctl_env(cluster, membership.endpoints, paths.CLIENT_CA, paths.ADMIN_CERT, paths.ADMIN_KEY, paths.ADMIN_PASS)
    return {
        paths.CLIENT_CA: cluster_secrets.ca.files[0],
        paths.ADMIN_CERT: admin.cert_path,
        paths.ADMIN_KEY: admin.key_path,
        paths.ADMIN_PASS: cluster_secrets.root,
        paths.ENV: env,
    }


def _target(member) -> Target | None:
    """A started member as a Prometheus target, by its first client URL."""
    if not member.client_urls:
        return None
    address, port = member.client_urls[0].split("//", 1)[1].rsplit(":", 1)
    return Target(member.name, address, int(port))


def _patroni_turn(plan: ReloadPlan, pg_host: PgHost, client: ClientPlan, change: ConfigChange) -> None:
    """What the running Patroni does: a restart stops PostgreSQL on its host, so replicas restart
    (one at a time) and a primary's restart is the operator's, after a switchover, unless
    etcd_patroni_restart_primary says otherwise (it then restarts after every replica)."""
    role, settings = pg_host.patroni_role, pg_host.settings
    client.patroni_api = patroni.api_url(pg_host.patroni or {})
    client.patroni_role = "replica" if patroni.is_replica(role) else "primary" if role else "role unknown"
    client.patroni_action = change.action
    if client.patroni_action != "restart" or patroni.is_replica(role):
        return
    if settings.etcd_patroni_restart_primary:
        client.patroni_action = "restart-primary"
        return
    if change.relogin and role:
        raise Refusal(
            "reload.patroni_relogin",
            f"{pg_host.name}: Patroni is the {role} of its cluster and its etcd user or password changes: the members "
            "drop its login at the change (etcd 3.4.42, 3.5.28, 3.6.9 and later), and Patroni before 4.1.1 does not log in "
            "again until it restarts: it would lose its leader lock within its ttl",
            fix=f"Switch over (`patronictl -c {change.path} switchover`), or run again with --data "
            "etcd_patroni_restart_primary=true: Patroni then restarts right after the change, after the replicas",
        )
    client.patroni_action = None
    said = f"is the {role} of its cluster" if role else f"did not tell its role ({client.patroni_api}): taken for a primary"
    plan.warnings.append(
        f"{pg_host.name}: Patroni {said}: {change.path} gets etcd settings Patroni reads at its start, but it is not "
        f"restarted (that stops PostgreSQL there) and keeps using the old ones until it is. Switch over, then restart it: "
        f"`patronictl -c {change.path} switchover` on a host of the cluster, then `systemctl restart "
        f"{settings.patroni_service}` on {pg_host.name}; or run reload again with --data etcd_patroni_restart_primary=true"
    )


def _plan_clients(plan: ReloadPlan, facts: ReloadFacts, cluster_secrets: ClusterSecrets) -> None:
    urls = sorted(url for member in plan.view.started for url in member.client_urls)
    fixed_hosts = any(login_for_every_call(plan.view.version_of(member)) for member in plan.view.started)
    users = {}
    for pg_host in facts.pg_hosts:
        pg_cluster = pg_host.pg_cluster
        if pg_cluster not in users:
            secret = user_secret(pg_host.settings.pg_etcd_password, cluster_secrets.folder, pg_cluster)
            users[pg_cluster] = ClientUser(pg_cluster, patroni.prefix(pg_cluster), secret)
        user, password = users[pg_cluster], facts.passwords[pg_cluster]
        change = patroni.patroni_change(pg_host.settings.patroni_config, pg_host.patroni, urls, user.name, password, fixed_hosts)
        vip = patroni.vip_change(pg_host.settings.vip_manager_config, pg_host.vip, urls, user.name, password)
        if pg_host.vip is not None and vip is None:
            plan.notes.append(
                f"{pg_host.name}: vip-manager watches {patroni.vip_dcs_type(pg_host.vip)}, not etcd: "
                f"{pg_host.settings.vip_manager_config} left alone"
            )
        if change and pg_host.patroni_refused:
            raise Refusal("reload.patroni_config", f"{pg_host.name}: {pg_host.patroni_refused}")
        if change or vip:
            client = ClientPlan(
                pg_host.settings,
                user,
                change,
                vip,
                cluster_secrets.client_certificate(pg_cluster),
                pg_host.patroni_owner or ("root", "root"),
            )
            if change:
                _patroni_turn(plan, pg_host, client, change)
            plan.clients[pg_host.name] = client
        elif pg_host.vip is None:
            plan.notes.append(
                f"{pg_host.name}: neither {pg_host.settings.patroni_config} nor {pg_host.settings.vip_manager_config}: skipped"
            )
    plan.users = list(users.values())
    running = sorted((h for h in plan.members.values() if h.running), key=lambda h: h.member.seq)
    if plan.users and not running:
        raise Refusal(
            "reload.no_member",
            "the etcd users of Patroni and vip-manager are managed through a member: include one in the run",
            fix="Run without --limit, or add a member to the limit",
        )
    plan.users_host = running[0].member.host_name if plan.users else None
