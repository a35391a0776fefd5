"""What every SOP reads before it decides anything: the inventory's members, each one's state on its
host, the live cluster as a running member reports it, and what the control node holds. Facts are
read here, into plain data, once per run; the SOPs' decide functions only look at that data.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property

import yaml
from gevent.pool import Group
from pyinfra.api.exceptions import ConnectError

from etcdkit.control.passwords import PasswordFileError, user_secret, with_password_files
from etcdkit.control.pki import CertificateAuthority, PKIError
from etcdkit.control.store import ca_source, cluster_folder
from etcdkit.facts.etcd import EtcdAlarms, EtcdCluster, EtcdClusterAuth, EtcdHost
from etcdkit.model import params, paths
from etcdkit.model.cluster import ClusterView
from etcdkit.model.host import EtcdHostState, Ownership, OwnStatus, running
from etcdkit.model.inventory import GROUP, ClusterSpec, InventoryError, Member, cluster_spec, default_bcrypt_cost, host_address
from etcdkit.model.refusals import Refusal
from etcdkit.model.run import run_context
from etcdkit.model.settings import Settings
from etcdkit.remote.render import load_yaml


def host_settings(host) -> Settings:
    """The host's parameters, with the passwords that files name read from them."""
    try:
        return Settings.of(with_password_files({name: params.get(host.data, name) for name in params.BY_NAME}))
    except PasswordFileError as error:
        raise InventoryError([f"host {host.name}: {error}"]) from None


def conf_values(text: str | None) -> dict:
    """The settings of an etcd.conf (YAML); empty when there is none or it is not a mapping."""
    try:
        conf = load_yaml(text) if text else None
    except yaml.YAMLError:
        return {}
    return conf if isinstance(conf, dict) else {}


@dataclass
class HostState:
    """A member of the inventory, its parameters, and the EtcdHost fact of its host."""

    member: Member
    settings: Settings
    state: EtcdHostState | None  # None when the host cannot be reached (or was not asked)
    in_run: bool = True  # in the run's hosts (not left out by --limit)

    @property
    def reachable(self) -> bool:
        return self.state is not None

    @property
    def running(self) -> bool:
        return self.state is not None and running(self.state.active)

    @property
    def version(self) -> str | None:
        """Its installed etcd's version: None when there is none, or the host cannot be reached."""
        return self.state.version if self.state else None

    @property
    def data(self) -> tuple[str, ...]:
        """The entries of its data dir: none when there is no data dir, or the host cannot be reached."""
        return (self.state.data or ()) if self.state else ()

    @property
    def own(self) -> OwnStatus | None:
        """What its running etcd says it is: None when it does not answer, or the host cannot be reached."""
        return self.state.own if self.state else None

    def digest(self, path: str) -> str | None:
        """The SHA-256 of the managed file the host holds: None when it holds none, or cannot be reached."""
        return self.state.sha256.get(path) if self.state else None

    @property
    def conf_text(self) -> str | None:
        """Its etcd.conf: None when there is none, or the host cannot be reached."""
        return self.state.conf if self.state else None

    @cached_property
    def conf(self) -> dict:
        """The settings of the host's etcd.conf, parsed once (the plans ask it many times)."""
        return conf_values(self.conf_text)

    def with_state(self, **changes) -> "HostState":
        """The host as a step of the run leaves it, for the plans of the steps after it (a host
        that cannot be reached is taken as one without anything of etcd)."""
        return replace(self, state=replace(self.state or EtcdHostState(), **changes))

    def conf_value(self, key: str) -> str | None:
        value = self.conf.get(key)
        return None if value is None else str(value)

    def ownership(self) -> tuple[Ownership, str]:
        """Whose etcd the host holds, and why (empty for BARE and OURS): ours when its etcd.conf is
        this member's, with this data dir."""
        member, data_dir = self.member, self.settings.etcd_data
        if self.state is None:
            return Ownership.UNREACHABLE, f"{member.host_name} cannot be reached over SSH"
        if (self.conf_value("name"), self.conf_value("data-dir")) == (member.name, data_dir):
            return Ownership.OURS, ""
        if self.running:
            return (
                Ownership.FOREIGN,
                f"etcd runs with a configuration that is not member {member.name} of `{member.cluster}` with data in {data_dir}",
            )
        if self.state.listeners:
            return Ownership.FOREIGN, f"another process listens on port {member.port} or {member.peer_port}"
        if self.data:
            return Ownership.FOREIGN, f"the data dir {data_dir} holds data this cluster did not write ({' '.join(self.data)})"
        return Ownership.BARE, ""

    @property
    def ours(self) -> bool:
        return self.ownership()[0] is Ownership.OURS

    def stranger(self, view: ClusterView | None, token: str | None) -> str | None:
        """Why the member data of a host whose etcd.conf is ours belongs to another cluster all the
        same (None: nothing says so): its running etcd reports another cluster ID, or, stopped, it
        was bootstrapped with another initial-cluster-token than this cluster's."""
        own = self.own
        if own and view is not None and own.cluster_id != view.cluster_id:
            return (
                f"its etcd serves another cluster (cluster ID {own.cluster_id:x}; "
                f"this cluster `{self.member.cluster}` is {view.cluster_id:x})"
            )
        conf_token = self.conf_value("initial-cluster-token")
        if not own and self.data and token and conf_token != token:
            return (
                f"its data was bootstrapped with initial-cluster-token {conf_token!r}, "
                f"not this cluster's {token!r}: it is another cluster's"
            )
        return None

    def data_problem(self) -> str | None:
        """The data dir holds something besides etcd's member/ tree: it is never deleted."""
        others = sorted(set(self.data) - {"member"})
        if others:
            return (
                f"the data dir {self.settings.etcd_data} holds more than etcd's member/ ({' '.join(others)}): "
                "nothing there is deleted; move those files away first"
            )
        return None


def in_run(state, host) -> bool:
    return state.limit_hosts is None or host in state.limit_hosts


def left_out(state, inventory) -> tuple[str, ...]:
    """The addresses of the group's members that the run leaves out (--limit, --exclude)."""
    return tuple(host_address(h) for h in inventory.get_group(GROUP, default=[]) if not in_run(state, h))


def read_hosts(
    inventory, state=None, skip: Iterable[str] = (), auth: bool = False, alarms: bool = False
) -> tuple[ClusterSpec, dict[str, HostState]]:
    """The validated inventory and the state of every member's host, by host name (no state
    for a host that cannot be reached, or whose address is in `skip` (not contacted): each SOP
    decides whether it can do without it). With a run's state, the cluster view (with auth, the
    authentication state; with alarms, the alarms) is read at the same time through the first member
    (read_early), and a host's etcd is asked what it is only where that view cannot say (with_own)."""
    spec = cluster_spec(inventory)
    skip = tuple(skip)
    first = min(spec.members, key=lambda member: member.seq)

    def read(member: Member, own: bool) -> HostState:
        host = inventory.get_host(member.host_name)
        settings = host_settings(host)
        also = (f"{settings.etcd_backup_metric_dir}/{paths.BACKUP_METRIC}", settings.etcd_backup_dir_remote)
        try:
            facts = (
                None
                if member.address in skip
                else host.get_fact(EtcdHost, data_dir=settings.etcd_data, ports=(member.port, member.peer_port), also=also, own=own)
            )
        except ConnectError:
            facts = None
        return HostState(member, settings, facts, in_run=state is None or in_run(state, host))

    # every host at once, as pyinfra reads a fact of many hosts: one round trip's time, not one per member
    group = Group()
    if state is not None:
        group.spawn(read_early, inventory, state, first, skip, auth, alarms)
    read_all = group.map(lambda member: read(member, own=state is None), spec.members)
    hosts = {member.host_name: host_state for member, host_state in zip(spec.members, read_all, strict=True)}
    group.join(raise_error=True)
    if state is not None:
        context = run_context(state)
        view = context.early_views.get((inventory.get_host(first.host_name).name, first.client_url))
        hosts = with_own(hosts, view, lambda member: read(member, own=True))
        for name, host_state in hosts.items():
            if host_state.state is not None:
                context.host_states.setdefault(inventory.get_host(name).name, host_state.state)
    if spec.bcrypt_cost is None:
        spec = replace(spec, bcrypt_cost=default_bcrypt_cost(user_passwords(inventory, spec, hosts[spec.members[0].host_name].settings)))
    return spec, hosts


def with_own(hosts: dict[str, HostState], view: ClusterView | None, read_again) -> dict[str, HostState]:
    """The hosts, read without asking their etcd what it is: each with what the view read beside them
    reports of the member at its client URL (own_in_view), and read again (read_again(member)), asking
    its etcd, where the view cannot say. One etcdctl process and login per host less: the view's
    status already asked each member."""
    done, again = {}, []
    for name, host in hosts.items():
        state = host.state
        if state is None or state.own is not None or not state.may_answer:
            done[name] = host
        elif (own := own_in_view(host.member, view)) is not None:
            done[name] = replace(host, state=state.with_own(own))
        else:
            again.append(name)
    done.update(zip(again, Group().map(lambda name: read_again(hosts[name].member), again), strict=True))
    return {name: done[name] for name in hosts}


def own_in_view(member: Member, view: ClusterView | None) -> OwnStatus | None:
    """What the etcd at the member's client URL says it is, as the view's status of that URL reports
    it (the same etcd answers there and on the host's own port): only when it is this member of the
    view (its peer URL, its name, its ID) and reports its version; None otherwise."""
    live = view.by_peer_url(member.peer_url) if view is not None else None
    status = view.status.get(member.client_url) if view is not None else None
    if live is None or status is None or (live.name, live.id) != (member.name, status.member_id) or not status.version:
        return None
    return OwnStatus(status.cluster_id, status.member_id, status.version)


def user_passwords(inventory, spec: ClusterSpec, first: Settings) -> list[str | None]:
    """The passwords of the cluster's users, root's and each PostgreSQL cluster's, as the inventory or
    the control node keep them (None: not generated yet)."""
    folder = cluster_folder(first, spec.cluster)
    secrets = [user_secret(first.etcd_root_password, folder, "root")]
    for host in inventory:
        settings = host_settings(host)
        if settings.pg_cluster:
            secrets.append(user_secret(settings.pg_etcd_password, folder, settings.pg_cluster))
    return [secret.read() for secret in secrets]


def read_early(inventory, state, member: Member, skip: tuple[str, ...], auth: bool, alarms: bool = False) -> None:
    """The cluster view, with auth the authentication state (EtcdClusterAuth: in the same round trip)
    and with alarms the alarms, through this member (the first by etcd_seq), read side by side beside
    the hosts' EtcdHost facts and kept in the run's context. In a cluster whose members all serve, it
    is the member read_view, the RBAC step and etcd-status ask: they take these answers instead of a
    round trip each, after the hosts' facts. Otherwise the answers go unused, at the cost of one round
    trip at the same time as the hosts' facts."""
    host = inventory.get_host(member.host_name)
    if member.address in skip or not host.connected:
        return
    context, key = run_context(state), (host.name, member.client_url)
    view_fact = EtcdClusterAuth if auth else EtcdCluster
    facts = (view_fact, *([EtcdAlarms] if alarms else []))
    try:
        answers = dict(zip(facts, Group().map(lambda fact: host.get_fact(fact, endpoint=member.client_url), facts), strict=True))
    except ConnectError:
        return
    view, found = answers[view_fact] if auth else (answers[view_fact], None)
    context.early_views[key] = view
    if found is not None:  # where the member does not answer, the EtcdAuth fact tells whether it refuses root
        context.early_auth[key] = found
    if alarms:
        context.early_alarms[key] = answers[EtcdAlarms]


def read_view(inventory, candidates: Iterable[HostState], strict: bool = True) -> ClusterView | None:
    """The live cluster as the first running member that answers sees it: members of the cluster
    most of the candidates say they serve first, then in etcd_seq order. Strict (every SOP that
    changes something): refused when a member advertises a URL of another form (`usable`). While
    the run prepares, the view read beside the hosts' facts (read_early) stands for that member's."""
    early = {} if inventory.state.is_executing else run_context(inventory.state).early_views
    for host_state in by_majority(candidates):
        if host_state.running:
            host, endpoint = inventory.get_host(host_state.member.host_name), host_state.member.client_url
            view = early.get((host.name, endpoint))
            if view is None:
                view = host.get_fact(EtcdCluster, endpoint=endpoint)
            if view is not None:
                return usable(view) if strict else view
    return None


def usable(view: ClusterView | None) -> ClusterView | None:
    """The view, unless a member advertises a URL etcdkit does not use: then the run stops before
    any change, naming the member and the URL."""
    refusal = view.url_refusal() if view is not None else None
    if refusal:
        raise Refusal("cluster.urls", refusal)
    return view


def by_majority(candidates: Iterable[HostState]) -> list[HostState]:
    """The candidates, those whose running etcd reports the most common cluster ID first."""
    candidates = list(candidates)
    ids = [h.own.cluster_id if h.own else None for h in candidates]
    count: dict[int | None, int] = {cluster_id: ids.count(cluster_id) for cluster_id in ids if cluster_id is not None}
    return [h for _, h in sorted(zip(ids, candidates, strict=True), key=lambda pair: (-count.get(pair[0], 0), pair[1].member.seq))]


def live_token(hosts: Iterable[HostState], view: ClusterView | None) -> str | None:
    """The initial-cluster-token of the live cluster: in the etcd.conf of a member whose running
    etcd reports the live cluster's ID."""
    if view is None:
        return None
    for host in hosts:
        own = host.own
        if host.ours and own and own.cluster_id == view.cluster_id and host.conf_value("initial-cluster-token"):
            return host.conf_value("initial-cluster-token")
    return None


@dataclass(frozen=True)
class ControlState:
    """What the control node holds for the cluster: its CA and its root password (as SHA-256), and
    its clock when the run read them: the one time by which the run judges and issues certificates."""

    ca_pem: str | None  # None: no CA yet (the generated one is created when the run executes)
    root_sha: str | None = None  # of etcd_root_password, else of pki/<cluster>/root.password; None: neither
    root_configured: bool = False  # etcd_root_password is set
    now: datetime = field(kw_only=True)


def read_control(settings: Settings, cluster: str) -> ControlState:
    """The control node's state; a CA that cannot be loaded stops the run before any change."""
    try:
        ca = CertificateAuthority.load(ca_source(settings))
    except PKIError as error:
        raise Refusal("control.pki", str(error)) from None
    root = user_secret(settings.etcd_root_password, cluster_folder(settings, cluster), "root").read()
    return ControlState(
        ca.cert_pem if ca is not None else None,
        hashlib.sha256(root.encode()).hexdigest() if root is not None else None,
        bool(settings.etcd_root_password),
        now=datetime.now(UTC),
    )
