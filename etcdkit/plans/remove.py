"""The remove SOP's decisions, made once per run before anything changes.

The departing member is the host of the run (`--limit IP`), or the address in etcd_remove (a run
over the survivors when its host is dead), or, with an inventory of just that host
(`@ssh/IP`), the member its own etcd.conf describes. It is found in the live member list by peer
URL, started or not, and removed through the surviving members: by its own host when that is
reachable, else by a surviving member of the run. Its host is cleaned only after the removal.
"""

from dataclasses import dataclass, field, replace
from pathlib import Path

from etcdkit.control.pki import issued_files
from etcdkit.control.store import cluster_folder
from etcdkit.facts.etcd import EtcdCluster, EtcdHost
from etcdkit.model import params, paths, values
from etcdkit.model.cluster import ClusterView, LiveMember
from etcdkit.model.host import Ownership
from etcdkit.model.inventory import GROUP, ClusterSpec, Member, host_address
from etcdkit.model.refusals import Problem, Refusal
from etcdkit.model.run import run_context
from etcdkit.model.settings import Settings
from etcdkit.plans import checks
from etcdkit.plans.gather import HostState, conf_values, host_settings, in_run, live_token, read_hosts, read_view, usable


@dataclass(frozen=True)
class InventoryFacts:
    """A run over the inventory's group `etcd`."""

    spec: ClusterSpec
    hosts: dict[str, HostState]
    named: str | None  # etcd_remove
    limited: bool  # the run has a --limit
    view: ClusterView | None  # seen through the members that stay, else through the departing one


@dataclass(frozen=True)
class OwnConfigFacts:
    """A run over the departing host alone: its etcd.conf names the member and the cluster."""

    host_name: str
    address: str
    settings: Settings
    conf: dict  # its etcd.conf, parsed
    view: ClusterView | None
    running: bool = False  # an etcd runs there
    data_problem: str | None = None  # its data dir holds more than etcd's member/


@dataclass
class Removal:
    host_name: str
    name: str  # the member name, <cluster>-<seq>
    address: str
    peer_url: str
    settings: Settings
    reachable: bool  # in this run and reachable
    has_credentials: bool  # its etcd.conf, certificate and password are there: it can run etcdctl
    clean: bool = False  # what etcd left on its host is provably this member's: it is cleaned
    entry: LiveMember | None = None  # None: not a member (any more): only the cleanup is left
    executor: str | None = None  # the host that runs `member remove`
    survivors: str = ""  # client URLs of the surviving started members
    leader_endpoint: str | None = None  # its client URL when it leads
    successor: str | None = None  # hex ID of the voter that takes the lead over
    certificates: list[Path] = field(default_factory=list)  # its certificate and key in the PKI folder
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def remove_plan(state, inventory) -> Removal | None:
    """The removal of this run, or None when the run has nothing to remove."""
    return run_context(state).once("remove", lambda: decide(gather(state, inventory)))


def gather(state, inventory) -> InventoryFacts | OwnConfigFacts:
    if not inventory.get_group(GROUP, default=None):
        return _gather_own_config(inventory)
    named = params.get(inventory.get_group(GROUP)[0].data, "etcd_remove")
    # a host named by etcd_remove but left out of the run is dead: it is not even tried
    left_out = [host_address(h) for h in inventory.get_group(GROUP) if host_address(h) == named and not in_run(state, h)]
    spec, hosts = read_hosts(inventory, state, skip=left_out)
    departing = _chosen(hosts, named, state.limit_hosts is not None)
    staying = [h for h in hosts.values() if h.ours and h not in departing]
    view = read_view(inventory, staying) or read_view(inventory, departing)
    return InventoryFacts(spec, hosts, named, state.limit_hosts is not None, view)


def _chosen(hosts: dict[str, HostState], named: str | None, limited: bool) -> list[HostState]:
    if named:
        return [h for h in hosts.values() if h.member.address == named]
    return [h for h in hosts.values() if h.in_run] if limited else []


def _gather_own_config(inventory) -> OwnConfigFacts:
    hosts = list(inventory.iter_activated_hosts())
    if len(hosts) != 1:
        raise Refusal(
            "remove.no_group",
            f"without a group `{GROUP}` the inventory must be the departing host alone (pyinfra @ssh/IP deploys/remove.py)",
        )
    host = hosts[0]
    settings = host_settings(host)
    ports = (settings.etcd_port, settings.etcd_peer_port)
    facts = host.get_fact(EtcdHost, data_dir=settings.etcd_data, ports=ports)
    conf = conf_values(facts.conf)
    data_dir = conf.get("data-dir")
    if isinstance(data_dir, str) and data_dir != settings.etcd_data and not values.data_dir(data_dir):
        facts = host.get_fact(EtcdHost, data_dir=data_dir, ports=ports)  # what its own data dir holds
    _, _, endpoints = own_member(conf)
    view = usable(host.get_fact(EtcdCluster, endpoint=",".join(endpoints))) if endpoints else None
    own = HostState(
        Member(host.name, 0, "", host_address(host), settings.etcd_port, settings.etcd_peer_port),
        replace(settings, etcd_data=conf.get("data-dir", settings.etcd_data)),
        facts,
    )
    return OwnConfigFacts(host.name, host_address(host), settings, conf, view, own.running, own.data_problem())


def own_member(conf: dict) -> tuple[str, str, list[str]]:
    """(member name, peer URL, client URLs to ask: its own first) from a member's etcd.conf."""
    if not conf.get("name"):
        return "", "", []
    name, peer_url = str(conf["name"]), str(conf.get("initial-advertise-peer-urls", "")).split(",")[0]
    own_client = str(conf.get("advertise-client-urls", "")).split(",")[0]
    client_port = own_client.rsplit(":", 1)[-1]
    peers = [item.split("=", 1)[1] for item in str(conf.get("initial-cluster", "")).split(",") if "=" in item]
    return name, peer_url, [own_client] + [f"{url.rsplit(':', 1)[0]}:{client_port}" for url in peers if url != peer_url]


def decide(facts: InventoryFacts | OwnConfigFacts) -> Removal | None:
    run_hosts: list[HostState] = []
    if isinstance(facts, OwnConfigFacts):
        removal = _from_own_config(facts)
    else:
        removal, run_hosts = _from_inventory(facts)
    if removal is None:
        return None
    guarded = removal.settings.etcd_safeguard or (
        isinstance(facts, InventoryFacts) and any(h.settings.etcd_safeguard for h in facts.hosts.values())
    )
    if guarded:
        raise Refusal(
            "remove.safeguard",
            f"etcd_safeguard is on: refusing to remove {removal.address}",
            fix="Run with --data etcd_safeguard=false to remove it",
        )
    removal.certificates = issued_files(cluster_folder(removal.settings, removal.settings.etcd_cluster), [removal.name])
    view = checks.answering(facts.view, removal.settings.etcd_cluster, "remove.down", f"cannot remove {removal.address}")
    removal.entry = view.by_peer_url(removal.peer_url)
    if removal.entry is None:
        removal.notes.append(f"{removal.address} ({removal.peer_url}) is not a member of the cluster: only its cleanup is left")
        return removal
    problems = removal_problems(view, removal.entry)
    if problems:
        raise Refusal("remove.refused", problems, f"cannot remove {removal.address}")
    survivors = [m for m in view.started if m.id != removal.entry.id]
    removal.survivors = ",".join(sorted(url for m in survivors for url in m.client_urls))
    leader = view.leader()
    if leader is not None and leader.id == removal.entry.id:
        successor = view.successor(removal.entry.id)
        removal.leader_endpoint = removal.entry.client_urls[0] if removal.entry.client_urls else None
        removal.successor = successor.hex_id if successor else None
    own_host = removal.reachable and removal.has_credentials
    removal.executor = removal.host_name if own_host else _surviving_executor(run_hosts, survivors)
    if removal.executor is None:
        raise Refusal(
            "remove.no_survivor",
            f"{removal.address} {'holds no etcd credentials' if removal.reachable else 'cannot be reached'} and no "
            "surviving member is in this run to remove its entry through",
            fix=f"Run over the whole inventory with --data etcd_remove={removal.address} (bin/etcd-rm does)",
        )
    if not removal.reachable:
        removal.warnings.append(f"{removal.address} cannot be reached: it is removed from the cluster, its cleanup is skipped")
    return removal


def removal_problems(view: ClusterView, entry: LiveMember) -> list[Problem]:
    if len(view.members) == 1:
        return [
            Problem("remove.last", "it is the last member: destroy the cluster with deploys/destroy.py (bin/etcd-rm --destroy CLUSTER)")
        ]
    if view.leader() is None:
        return [Problem("cluster.unhealthy", "the cluster has no leader (no quorum) now: bring its members back first")]
    voters_after = len(view.voters) - (0 if entry.is_learner else 1)
    healthy_after = len([m for m in view.healthy_voters if m.id != entry.id])
    return checks.quorum_after(voters_after, healthy_after)


def _from_inventory(facts: InventoryFacts) -> tuple[Removal | None, list[HostState]]:
    hosts = facts.hosts
    run_hosts = [h for h in hosts.values() if h.in_run]
    if facts.named:
        if not any(h.member.address == facts.named for h in hosts.values()):
            raise Refusal("remove.unknown", f"etcd_remove={facts.named} is not a host of group `{GROUP}`")
    elif not facts.limited:
        raise Refusal(
            "remove.unnamed",
            "name the member to remove: --limit IP (or bin/etcd-rm IP)",
            fix="To remove the whole cluster use deploys/destroy.py",
        )
    chosen = _chosen(hosts, facts.named, facts.limited)
    if len(chosen) > 1:
        raise Refusal(
            "remove.several",
            f"{len(chosen)} hosts would leave ({' '.join(h.member.address for h in chosen)}): members leave one at a time",
            fix="Limit the run to one host, or use bin/etcd-rm, which removes them one after another",
        )
    if not chosen:
        return None, run_hosts
    host = chosen[0]
    stranger = host.stranger(facts.view, live_token(hosts.values(), facts.view)) if host.ours else None
    removal = Removal(
        host.member.host_name,
        host.member.name,
        host.member.address,
        host.member.peer_url,
        host.settings,
        reachable=host.in_run and host.reachable,
        has_credentials=host.ours and not stranger,
    )
    if removal.reachable:
        removal.clean = _cleanup(host, stranger)
    return removal, [h for h in run_hosts if h.reachable]


def _cleanup(host: HostState, stranger: str | None) -> bool:
    """Whether the departing host is cleaned: only what is provably this member's; anything else
    stops the run (a running etcd that is not this cluster's member is never stopped)."""
    kind, reason = host.ownership()
    problem = None
    if kind is Ownership.FOREIGN:
        problem = f"it holds an etcd or data that is not this member's ({reason})"
    elif stranger:
        problem = stranger
    elif kind is Ownership.OURS and host.settings.etcd_rm_data:
        problem = host.data_problem()
    if problem:
        raise Refusal(
            "remove.foreign",
            f"cannot remove {host.member.address}: {problem}",
            "nothing there is this cluster's to stop or delete",
            f"If its member must leave, remove its entry over the others (--data etcd_remove={host.member.address})",
        )
    return kind is Ownership.OURS


def _surviving_executor(run_hosts: list[HostState], survivors: list[LiveMember]) -> str | None:
    """A reachable host of the run that is a surviving member."""
    surviving_urls = {url for member in survivors for url in member.peer_urls}
    return next((h.member.host_name for h in run_hosts if h.member.peer_url in surviving_urls), None)


def _from_own_config(facts: OwnConfigFacts) -> Removal | None:
    name, peer_url, _ = own_member(facts.conf)
    if not name:
        if facts.running:
            raise Refusal(
                "remove.not_a_member",
                f"{facts.host_name} runs an etcd, but has no {paths.CONF} of a member",
                "it is not a member this toolkit knows, so it is not stopped",
            )
        return None
    settings = replace(facts.settings, etcd_cluster=name.rsplit("-", 1)[0], etcd_data=facts.conf.get("data-dir", facts.settings.etcd_data))
    removal = Removal(facts.host_name, name, facts.address, peer_url, settings, reachable=True, has_credentials=True, clean=True)
    if settings.etcd_rm_data:
        problem = own_data_dir_problem(facts.conf)
        if problem:
            raise Refusal(
                "remove.data_dir",
                f"{facts.address}: {problem}",
                "its data is deleted only from a data dir the inventory would take as etcd_data",
                f"Remove it with an inventory that lists it (bin/etcd-rm {facts.address}), or keep its data (--data etcd_rm_data=false)",
            )
        if facts.data_problem:
            raise Refusal("remove.foreign", f"cannot remove {facts.address}: {facts.data_problem}")
    return removal


def own_data_dir_problem(conf: dict) -> str | None:
    """What is wrong with the data-dir a host's own etcd.conf names, checked as the inventory's
    etcd_data is (None: nothing)."""
    data_dir = conf.get("data-dir")
    if data_dir is None:
        return f"{paths.CONF} names no data-dir"
    problem = values.data_dir(str(data_dir))
    return f"data-dir {str(data_dir)!r} of {paths.CONF} {problem}" if problem else None
