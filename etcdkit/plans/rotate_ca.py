"""The CA rotation's decisions: the cluster and every client it reaches moved to the CA that
etcd_ca_cert/etcd_ca_key name, while it serves.

etcd reads its CA file when it starts and its certificate on each new connection, so the move has
three phases, each finished on every host before the next begins:

1. trust both: the clients' CA files, then each member's (one restart at a time, gated on
   health), hold the old CAs and the new one;
2. new certificates: the control node issues them from the new CA, the clients and the members
   get them (no restart: etcd reads them on the next connection);
3. trust only the new CA: each member (one restart at a time), then the clients.

Which phases remain is read from the members' CA files: all of them already the new CA alone, the
run only makes sure every certificate is the new CA's (a second run changes nothing). A phase
starts only when the previous one succeeded on every host of the rotation; a run that stopped
anywhere starts again from phase 1 and converges. Every member must be in the run and the cluster
healthy: a member left out would lose its peers at phase 3. Every client host of the inventory
(admin, Patroni/vip-manager, Prometheus hosts) must be in the run and answer, unless it is named
as left behind on purpose (etcd_rotate_skip): one left out would lose etcd at phase 3.
"""

from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from etcdkit.control.pki import CertRequest
from etcdkit.control.store import ControlWork
from etcdkit.model import params, paths
from etcdkit.model.refusals import Problem, Refusal
from etcdkit.model.run import run_context
from etcdkit.model.settings import Settings
from etcdkit.plans import checks, reload
from etcdkit.plans.gather import in_run
from etcdkit.plans.memberfiles import ClusterSecrets, MemberPlan
from etcdkit.plans.monitoring import tls_dir
from etcdkit.plans.patroni import VIP_ETCD_TYPES, certificate_paths, vip_dcs_type

ALL_CLIENTS = ["conf", "env", "patroni", "vip", "monitor"]


@dataclass(frozen=True)
class RotationFacts:
    clients: reload.ReloadFacts  # the members, the live cluster and every client host of the run, as reload reads them
    held: dict[str, str | None]  # member host -> the PEM text of its /etc/etcd/ca.crt (None: none)
    client_hosts: dict[str, str] = field(default_factory=dict)  # every client host of the inventory -> what it is
    left_out: dict[str, str] = field(default_factory=dict)  # client hosts not in the run -> why


@dataclass(frozen=True)
class Place:
    """A TLS file on a host and who owns it."""

    dest: str
    user: str = "root"
    group: str = "root"
    mode: str = "644"


@dataclass(frozen=True)
class Issued:
    """A certificate or key of the control node, and where it goes."""

    source: Path
    place: Place


@dataclass
class RotationPlan:
    cluster: str
    new_ca: str  # PEM of the CA the cluster moves to
    bundle: str | None  # PEM of the new CA and the old ones; None: the members trust only the new CA already
    members: dict[str, MemberPlan]  # by host name
    trust: dict[str, list[Place]] = field(default_factory=dict)  # the clients' CA files, by host
    certificates: dict[str, list[Issued]] = field(default_factory=dict)  # members' and clients', by host
    folders: dict[str, list[Place]] = field(default_factory=dict)  # the clients' TLS folders, by host
    vip_managers: dict[str, str] = field(default_factory=dict)  # host -> vip-manager's unit: restarted to read its TLS files
    control: ControlWork | None = None
    control_host: str | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def hosts(self) -> set[str]:
        """Every host the rotation changes something on."""
        return {*self.members, *self.trust, *self.certificates, *self.folders, *([self.control_host] if self.control_host else [])}


def rotation_plan(state, inventory) -> RotationPlan:
    return run_context(state).once("rotate-ca", lambda: decide(gather(state, inventory)))


def gather(state, inventory) -> RotationFacts:
    clients = reload.gather(state, inventory, ALL_CLIENTS)
    held = {name: host.state.certificates.ca for name, host in clients.hosts.items() if host.state is not None}
    roles = client_hosts(inventory, clients.hosts[clients.spec.members[0].host_name].settings, set(clients.hosts))
    activated = set(inventory.iter_activated_hosts())
    left_out = {
        name: "left out of the run (--limit)" if not in_run(state, inventory.get_host(name)) else "cannot be reached over SSH"
        for name in roles
        if inventory.get_host(name) not in activated
    }
    return RotationFacts(clients, held, roles, left_out)


def client_hosts(inventory, settings: Settings, members: set[str]) -> dict[str, str]:
    """Every host of the inventory, in the run or not, that holds TLS files of the cluster's clients
    (the rotation moves them to the new CA), and what it is."""
    roles: dict[str, list[str]] = {}
    for host in inventory.get_group(settings.etcd_client_group, default=[]):
        roles.setdefault(host.name, []).append("admin host")
    for host in inventory:
        pg_cluster = params.get(host.data, "pg_cluster")
        if pg_cluster:
            roles.setdefault(host.name, []).append(f"Patroni/vip-manager host of {pg_cluster}")
    for host in inventory.get_group(settings.etcd_monitor_group, default=[]):
        if not params.get(host.data, "etcd_monitor_target_dir"):  # a site's own scraper holds no TLS files of etcdkit's
            roles.setdefault(host.name, []).append("Prometheus host")
    return {name: " and ".join(what) for name, what in roles.items() if name not in members}


def certificates_in(pem: str | None) -> list[str] | None:
    """The certificates of a PEM file, each as normalised PEM; None when it holds none or is not PEM."""
    try:
        found = x509.load_pem_x509_certificates(pem.encode()) if pem else []
    except ValueError:
        return None
    return [c.public_bytes(serialization.Encoding.PEM).decode() for c in found] or None


def decide(facts: RotationFacts) -> RotationPlan:
    live, spec = facts.clients, facts.clients.spec
    view = checks.answering(live.view, spec.cluster, "rotate_ca.down", "cannot rotate the CA")
    problems: list[str | Problem] = [*checks.healthy(view), *checks.nothing_pending(view)]
    members = {}
    for entry in view.started:
        wanted = spec.by_peer_url(entry.peer_urls[0] if entry.peer_urls else "")
        host = live.hosts.get(wanted.host_name) if wanted else None
        if host is None or not host.in_run or not host.running or not host.ours:
            problems.append(
                Problem(
                    "rotate_ca.member_left_out",
                    f"member {entry.describe()} is not a running member of the inventory in this run: the rotation changes "
                    "every member's CA, and a member left out would lose its peers (add it to the inventory, or remove it first)",
                )
            )
        else:
            members[host.member.host_name] = MemberPlan.of(host)
    problems += _left_out(facts, live.hosts[spec.members[0].host_name].settings.etcd_rotate_skip)
    new_pems = certificates_in(live.control.ca_pem)  # None: the control node has no CA
    if new_pems is None:
        problems.append(
            Problem("rotate_ca.no_new_ca", "no CA to move to: point etcd_ca_cert/etcd_ca_key at the new CA (bin/etcd-ca new DIR makes one)")
        )
    held: dict[str, list[str]] = {}
    for name in members:
        pems = certificates_in(facts.held.get(name))
        if pems is None:
            problems.append(
                Problem("rotate_ca.damaged_ca", f"{name}: /etc/etcd/ca.crt holds no CA certificate; repair it with the create SOP first")
            )
        else:
            held[name] = pems
    if problems or new_pems is None:
        raise Refusal("rotate_ca.refused", problems, "cannot rotate the CA")
    first = next(iter(members.values())).settings
    checks.control_node_matches(live.control, list(members.values()), spec.cluster, first, new_ca=True)
    new_ca = new_pems[0]
    old = list(dict.fromkeys(pem for name in members for pem in held[name] if pem != new_ca))
    done = all(held[name] == [new_ca] for name in members)
    plan = RotationPlan(spec.cluster, new_ca, None if done else "".join([new_ca, *old]), members, warnings=list(live.monitors.warnings))
    if done:
        plan.notes.append(f"the members of `{spec.cluster}` trust only the CA of etcd_ca_cert: only certificates are brought to it")
    skipped = set(first.etcd_rotate_skip)
    for name in sorted(skipped):
        plan.warnings.append(
            f"{name} ({facts.client_hosts[name]}) is left behind on purpose (etcd_rotate_skip): its etcd clients keep the old CA "
            "and lose etcd once the members trust only the new one; run the rotation again without it in etcd_rotate_skip once it is back"
        )
    _plan_files(plan, live, ClusterSecrets.of(first, spec.cluster), skipped)
    return plan


def _left_out(facts: RotationFacts, skip: list[str]) -> list[Problem]:
    """Client hosts of the inventory out of the run that are not named as left behind on purpose,
    and names in etcd_rotate_skip that are no client host."""
    problems = []
    unknown = [name for name in skip if name not in facts.client_hosts]
    if unknown:
        problems.append(
            f"etcd_rotate_skip names {', '.join(unknown)}: no client host of the inventory (an admin, Patroni/vip-manager or "
            "Prometheus host; a member is never left behind): correct the names"
        )
    missing = {name: why for name, why in facts.left_out.items() if name not in skip}
    if missing:
        problems.append(
            "; ".join(f"{name} ({facts.client_hosts[name]}) is {why}" for name, why in missing.items())
            + ": its etcd clients would keep only the old CA and lose etcd once the members trust only the new one. Bring "
            f"{'it' if len(missing) == 1 else 'them'} into the run, or name {'it' if len(missing) == 1 else 'them'} as left "
            f"behind on purpose: --data etcd_rotate_skip={','.join([*skip, *missing])}"
        )
    return [Problem("rotate_ca.client_left_out", problem) for problem in problems]


def _plan_files(plan: RotationPlan, live: reload.ReloadFacts, secrets: ClusterSecrets, skipped: set[str]) -> None:
    """Every host's CA files and certificates, and the control node's certificates to issue; the
    hosts left behind on purpose get none."""
    requests: list[CertRequest] = []

    def client(host: str, folder: Place, ca: Place, request: CertRequest, cert: Place, key: Place) -> None:
        if host in skipped:
            return
        if ca not in plan.trust.get(host, []):  # once for a host that is an admin host and a Patroni host
            plan.folders.setdefault(host, []).append(folder)
            plan.trust.setdefault(host, []).append(ca)
        plan.certificates.setdefault(host, []).extend([Issued(request.cert_path, cert), Issued(request.key_path, key)])
        requests.append(request)

    for name, member in plan.members.items():
        request = secrets.member_certificate(member.member)
        plan.certificates[name] = [
            Issued(request.cert_path, Place(paths.CERT, *paths.OWNERS[paths.CERT])),
            Issued(request.key_path, Place(paths.KEY, *paths.OWNERS[paths.KEY])),
        ]
        requests.append(request)
    client_dir, client_ca = Place(paths.CLIENT_DIR, mode="755"), Place(paths.CLIENT_CA)
    for name in live.admin_hosts:
        admin = secrets.client_certificate("admin")
        client(name, client_dir, client_ca, admin, Place(paths.ADMIN_CERT), Place(paths.ADMIN_KEY, mode="600"))
    for pg in live.pg_hosts:
        if pg.patroni is None and pg.vip is None:
            continue
        cert, key = certificate_paths(pg.pg_cluster)
        owner = pg.patroni_owner or ("root", "root")
        client(pg.name, client_dir, client_ca, secrets.client_certificate(pg.pg_cluster), Place(cert), Place(key, *owner, "600"))
        if pg.vip is not None and vip_dcs_type(pg.vip) in VIP_ETCD_TYPES and pg.name not in skipped:  # one watching consul keeps running
            plan.vip_managers[pg.name] = pg.settings.vip_manager_service
    if live.monitors.site_targets:  # the site's own job scrapes, with TLS files of the site's: none of etcdkit's to move
        plan.warnings.append(
            f"{', '.join(live.monitors.hosts)}: the site's own Prometheus job scrapes `{plan.cluster}` (etcd_monitor_target_dir) "
            "with TLS files etcdkit does not manage: give it the new CA and a client certificate the new CA issued, or it "
            "stops scraping once the members trust only the new CA"
        )
    elif live.monitors.settings is not None:
        settings = live.monitors.settings
        for name in live.monitors.hosts:
            folder, user = tls_dir(settings, plan.cluster), settings.prometheus_user
            monitor = secrets.client_certificate("monitor")
            client(
                name,
                Place(folder, "root", user, "750"),
                Place(f"{folder}/ca.crt"),
                monitor,
                Place(f"{folder}/monitor.crt"),
                Place(f"{folder}/monitor.key", user, user, "600"),
            )
    admin = secrets.client_certificate("admin")  # the control node's own, for bin/etcd-status and the operator
    unique = list(dict.fromkeys([*requests, admin]))
    plan.control = ControlWork(secrets.ca, live.control.now, tuple(unique))
    plan.control_host = next(iter(plan.members))
