"""The etcd group of an inventory, validated before any host is touched.

Every problem becomes one line naming the host and the fix; all problems are reported at once.
"""

import ipaddress
from dataclasses import dataclass
from pathlib import PurePosixPath

from etcdkit.model import params, paths, values
from etcdkit.model.refusals import Refusal

GROUP = "etcd"
# The folders etcdkit writes on a member for another purpose than the scheduled snapshots, which make
# their folder root's and 0700: what each is, and the parameter that sets it or its fixed path.
MANAGED_FOLDERS = (
    ("the data dir", "etcd_data"),
    ("etcd's configuration folder", paths.CONF_DIR),
    ("the clients' folder of etcdkit", paths.CLIENT_DIR),
    ("the node exporter's textfile folder", "etcd_backup_metric_dir"),
    ("systemd's unit folder", str(PurePosixPath(paths.UNIT).parent)),
    ("the login scripts' folder", str(PurePosixPath(paths.ENV).parent)),
    ("the folder of a release tarball's binaries", "/usr/local/bin"),
    ("Prometheus' folder", "prometheus_dir"),
    ("Prometheus' target folder", "prometheus_sd_dir"),
    ("the site's target folder", "etcd_monitor_target_dir"),
    ("Grafana's dashboard folder", "etcd_grafana_dir"),
)
RELOAD_PARTS = ("conf", "env", "patroni", "vip", "monitor", "restart")
MAINTAIN_PARTS = ("compact", "defrag", "disarm")


class InventoryError(Refusal):
    """Bad input, refused before any host changes: one line per host and key."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("inventory.invalid", self.problems, "the inventory cannot be used")

    def __reduce__(self):
        return (InventoryError, (self.problems,))


@dataclass(frozen=True)
class Member:
    """A member as the inventory describes it."""

    host_name: str
    seq: int
    cluster: str
    address: str
    port: int
    peer_port: int

    @property
    def name(self) -> str:
        return f"{self.cluster}-{self.seq}"

    @property
    def peer_url(self) -> str:
        return f"https://{self.address}:{self.peer_port}"

    @property
    def client_url(self) -> str:
        return f"https://{self.address}:{self.port}"


@dataclass(frozen=True)
class ClusterSpec:
    cluster: str
    members: tuple[Member, ...]
    warnings: tuple[str, ...]
    bcrypt_cost: int | None = None  # the bcrypt-cost of the members' etcd.conf (None: etcd's default; see gather.read_hosts)

    def member(self, host_name: str) -> Member:
        return next(member for member in self.members if member.host_name == host_name)

    def by_peer_url(self, peer_url: str) -> Member | None:
        return next((member for member in self.members if member.peer_url == peer_url), None)


def host_address(host) -> str:
    """The address the member is reached and named by: `ssh_hostname` (for @ssh/IP) or the host name."""
    return str(host.data.get("ssh_hostname") or host.name)


def cluster_spec(inventory, group: str = GROUP) -> ClusterSpec:
    hosts = inventory.get_group(group, default=None)
    if not hosts:
        raise InventoryError([f"no hosts in group `{group}`: list the members under `{group}` with an etcd_seq each"])
    problems: list[str] = []
    members: list[Member] = []
    seqs: dict[int, str] = {}
    clusters: dict[str, list[str]] = {}
    named_members: dict[tuple[str, str], str] = {}
    for host in hosts:
        label = f"host {host.name}"
        values = {}
        for name in params.BY_NAME:
            try:
                values[name] = params.get(host.data, name)
            except params.ParamError as error:
                problems.append(f"{label}: {error}")
        seq = values.get("etcd_seq")
        if "etcd_seq" in values and seq is None:
            problems.append(f"{label}: etcd_seq is missing: give it a unique integer, e.g. `etcd_seq: {len(seqs) + 1}`")
        elif isinstance(seq, int) and seq < 0:
            problems.append(f"{label}: etcd_seq {seq} is negative: use an integer >= 0")
        elif isinstance(seq, int):
            if seq in seqs:
                problems.append(f"{label}: etcd_seq {seq} is already used by {seqs[seq]}: every member needs its own etcd_seq")
            seqs.setdefault(seq, host.name)
        address = host_address(host)
        problem = address_problem(address)
        if problem:
            problems.append(f"{label}: {problem}")
        cluster = values.get("etcd_cluster")
        if cluster is not None:
            clusters.setdefault(cluster, []).append(host.name)
        problems += _setting_problems(label, values)
        for key in ("etcd_recover_lost", "etcd_join"):
            for named in values.get(key) or []:
                named_members.setdefault((key, named), label)
        if seq is not None and not problem and cluster and all(k in values for k in ("etcd_port", "etcd_peer_port")):
            members.append(Member(host.name, seq, cluster, address, values["etcd_port"], values["etcd_peer_port"]))
    if len(clusters) > 1:
        listing = "; ".join(f"{name!r} on {', '.join(names)}" for name, names in clusters.items())
        problems.append(f"group `{group}` mixes clusters ({listing}): one inventory group is one cluster, set one etcd_cluster")
    addresses = {member.address for member in members}
    what = {"etcd_recover_lost": "the members gone for good", "etcd_join": "the hosts to join"}
    problems += [
        f"{label}: {key} names {named}, which is not a member of group `{group}`: name {what[key]} by their inventory address"
        for (key, named), label in named_members.items()
        if not address_problem(named) and named not in addresses
    ]
    problems += _client_problems(inventory, hosts, {member.name for member in members})
    if problems:
        raise InventoryError(problems)
    warnings = []
    if len(members) % 2 == 0:
        warnings.append(f"{len(members)} members: an even count tolerates no more failures than {len(members) - 1}; use 3 or 5")
    members.sort(key=lambda member: member.seq)
    return ClusterSpec(members[0].cluster, tuple(members), tuple(warnings), explicit_bcrypt_cost(hosts))


# bcrypt's least cost: for passwords so long that key stretching adds nothing that matters
LEAST_BCRYPT_COST = 4
LONG_PASSWORD = 24  # characters; etcdkit generates 32 random URL-safe ones (192 bits)


def explicit_bcrypt_cost(members) -> int | None:
    """etcd_bcrypt_cost as the members set it (None: unset): one value for the cluster."""
    explicit = {params.get(host.data, "etcd_bcrypt_cost") for host in members} - {None}
    if len(explicit) > 1:
        raise InventoryError(
            [f"etcd_bcrypt_cost differs between the members ({', '.join(map(str, sorted(explicit)))}): set one value for the cluster"]
        )
    return explicit.pop() if explicit else None


def default_bcrypt_cost(passwords) -> int | None:
    """The bcrypt cost when etcd_bcrypt_cost is unset: the least when every password of the cluster's
    users is long (None in passwords: one etcdkit is about to generate), else etcd's default (None)."""
    return LEAST_BCRYPT_COST if all(password is None or len(password) >= LONG_PASSWORD for password in passwords) else None


def address_problem(address: str) -> str | None:
    """Members are named and reached by their IPv4 address."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return f"`{address}` is not an IP address: name members by their IP (e.g. 10.10.10.10)"
    if parsed.version == 6:
        return f"`{address}` is an IPv6 address: members need an IPv4 address (IPv6 is not supported yet)"
    if str(parsed) != address:
        return f"`{address}` is not written as an IP address is: use {parsed}"
    return None


def _client_problems(inventory, members, member_names: set[str]) -> list[str]:
    """The other hosts of the inventory: their values, and PostgreSQL cluster names that would take
    an etcd user or certificate name etcdkit uses for itself."""
    problems = []
    for host in inventory:
        label = f"host {host.name}"
        settings = {}
        for name in (
            "pg_cluster",
            "pg_etcd_password",
            "pg_etcd_password_file",
            "patroni_config",
            "vip_manager_config",
            "patroni_service",
            "vip_manager_service",
        ):
            try:
                settings[name] = params.get(host.data, name)
            except params.ParamError as error:
                problems.append(f"{label}: {error}")
        if host not in members:
            problems += [f"{label}: {problem}" for problem in values.problems(settings)]
        pg_cluster = settings.get("pg_cluster")
        if pg_cluster in values.RESERVED_USERS or pg_cluster in member_names:
            problems.append(
                f"{label}: pg_cluster {pg_cluster!r} is the name of an etcd user or certificate of the cluster itself: "
                "rename the PostgreSQL cluster"
            )
    return problems


def _setting_problems(label: str, settings: dict) -> list[str]:
    problems = [f"{label}: {problem}" for problem in values.problems(settings)]
    if settings.get("etcd_port") is not None and settings.get("etcd_port") == settings.get("etcd_peer_port"):
        problems.append(f"{label}: etcd_port and etcd_peer_port are both {settings['etcd_port']}: give them different ports")
    heartbeat, election = settings.get("etcd_heartbeat_interval"), settings.get("etcd_election_timeout")
    if heartbeat is not None and election is not None and election < 5 * heartbeat:
        problems.append(f"{label}: etcd_election_timeout ({election} ms) must be at least 5x etcd_heartbeat_interval ({heartbeat} ms)")
    if settings.get("etcd_init") not in (None, "new", "existing"):
        problems.append(f"{label}: etcd_init must be `new` or `existing`, not {settings['etcd_init']!r}")
    unknown = sorted(set(settings.get("etcd_reload") or []) - set(RELOAD_PARTS))
    if unknown:
        problems.append(f"{label}: etcd_reload lists {', '.join(unknown)}: choose among {', '.join(RELOAD_PARTS)}")
    unknown = sorted(set(settings.get("etcd_maintain") or []) - set(MAINTAIN_PARTS))
    if unknown:
        problems.append(f"{label}: etcd_maintain lists {', '.join(unknown)}: choose among {', '.join(MAINTAIN_PARTS)}")
    if settings.get("etcd_tarball") and not settings.get("etcd_tarball_sha256"):
        problems.append(f"{label}: etcd_tarball needs etcd_tarball_sha256 (the checksum from the release page) to verify it")
    problems += _backup_folder_problems(label, settings)
    for named in settings.get("etcd_recover_lost") or []:
        if address_problem(named):
            problems.append(f"{label}: etcd_recover_lost lists {named!r}: name each member gone for good by its IP address")
    for named in settings.get("etcd_join") or []:
        if address_problem(named):
            problems.append(f"{label}: etcd_join lists {named!r}: name each host to join by its IP address")
    removing = settings.get("etcd_remove")
    if removing is not None and address_problem(removing):
        problems.append(f"{label}: etcd_remove {removing!r} must be the IP address of the member to remove")
    return problems


def _backup_folder_problems(label: str, settings: dict) -> list[str]:
    """The scheduled snapshots' folder becomes root's, 0700, on every member: it must be none of the
    folders etcdkit writes for something else, contain none and lie in none."""
    backup_dir = settings.get("etcd_backup_dir_remote")
    if not settings.get("etcd_backup_schedule") or not backup_dir or values.data_dir(backup_dir):
        return []
    for what, where in MANAGED_FOLDERS:
        folder = where if where.startswith("/") else settings.get(where)
        if not folder or values.absolute_path(folder):
            continue
        relation = values.overlap(backup_dir, folder)
        if relation:
            named = folder if where.startswith("/") else f"{where} {folder}"
            return [
                f"{label}: etcd_backup_dir_remote {backup_dir!r} {relation} {what} ({named}): "
                "give the scheduled snapshots a folder of their own, e.g. /var/backups/etcd"
            ]
    return []
