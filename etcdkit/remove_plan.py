"""The remove SOP's decisions, made once per run before anything changes.

The departing member is the host of the run (`--limit IP`), or the address in etcd_remove (a run
over the survivors when its host is dead), or, with an inventory of just that host
(`@ssh/IP`), the member its own etcd.conf describes. It is found in the live member list by peer
URL, started or not, and removed through the surviving members: by its own host when that is
reachable, else by a surviving member of the run. Its host is cleaned only after the removal.
"""

from dataclasses import dataclass, field

from pyinfra import logger
from pyinfra.api.exceptions import DeployError

from etcdkit import checks, params
from etcdkit.cluster import ClusterView, LiveMember
from etcdkit.discovery import HostState, conf_values, host_settings, live_view, once_per_run, survey
from etcdkit.inventory import GROUP, host_address
from etcdkit.pki import issued_files
from facts.etcd import EtcdCluster, EtcdHost


@dataclass
class Departing:
    host_name: str
    name: str  # the member name, <cluster>-<seq>
    address: str
    peer_url: str
    settings: dict
    reachable: bool  # in this run and reachable: its host is cleaned
    has_credentials: bool  # its etcd.conf, certificate and password are there: it can run etcdctl
    entry: LiveMember | None = None  # None: not a member (any more): only the cleanup is left
    executor: str | None = None  # the host that runs `member remove`
    survivors: str = ""  # client URLs of the surviving started members
    leader_endpoint: str | None = None  # its client URL when it leads
    successor: str | None = None  # hex ID of the voter that takes the lead over
    certificates: list = field(default_factory=list)  # its certificate and key in the PKI folder


def remove_plan(state, inventory) -> Departing | None:
    """The departing member, or None when the run has nothing to remove."""
    return once_per_run(state, "remove", lambda: _make_plan(state, inventory))


def _make_plan(state, inventory) -> Departing | None:
    if inventory.get_group(GROUP, default=None):
        departing, view, run_hosts = _from_inventory(state, inventory)
    else:
        departing, view = _from_own_config(inventory)
        run_hosts = []
    if departing is None:
        return None
    if departing.settings["etcd_safeguard"]:
        raise DeployError(
            f"etcd_safeguard is on: refusing to remove {departing.address}; nothing was changed. "
            "Run with --data etcd_safeguard=false to remove it"
        )
    departing.certificates = issued_files(departing.settings, departing.settings["etcd_cluster"], [departing.name])
    if not departing.peer_url:
        return departing
    problems = checks.answers(view, departing.settings["etcd_cluster"])
    if problems:
        raise DeployError(f"cannot remove {departing.address}: {problems[0]}; nothing was changed")
    departing.entry = view.by_peer_url(departing.peer_url)
    if departing.entry is None:
        logger.info(f"{departing.address} ({departing.peer_url}) is not a member of the cluster: only its cleanup is left")
        return departing
    problems = _removal_problems(view, departing.entry)
    if problems:
        raise DeployError(
            f"cannot remove {departing.address}; nothing was changed:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    survivors = [m for m in view.started if m.id != departing.entry.id]
    departing.survivors = ",".join(sorted(url for m in survivors for url in m.client_urls))
    leader = view.leader()
    if leader is not None and leader.id == departing.entry.id:
        successor = view.successor(departing.entry.id)
        departing.leader_endpoint = departing.entry.client_urls[0] if departing.entry.client_urls else None
        departing.successor = successor.hex_id if successor else None
    own_host = departing.reachable and departing.has_credentials
    departing.executor = departing.host_name if own_host else _surviving_executor(run_hosts, survivors)
    if departing.executor is None:
        raise DeployError(
            f"{departing.address} {'holds no etcd credentials' if departing.reachable else 'cannot be reached'} and no "
            f"surviving member is in this run to remove its entry through: run over the whole inventory with "
            f"--data etcd_remove={departing.address} (bin/etcd-rm does); nothing was changed"
        )
    if not departing.reachable:
        logger.warning(f"{departing.address} cannot be reached: it is removed from the cluster, its cleanup is skipped")
    return departing


def _removal_problems(view: ClusterView, entry: LiveMember) -> list[str]:
    if len(view.members) == 1:
        return ["it is the last member: destroy the cluster with deploys/destroy.py (bin/etcd-rm without addresses)"]
    if view.leader() is None:
        return ["the cluster has no leader (no quorum) now: bring its members back first"]
    voters_after = len(view.voters) - (0 if entry.is_learner else 1)
    healthy_after = len([m for m in view.healthy_voters if m.id != entry.id])
    return checks.quorum_after(view, voters_after, healthy_after)


def _from_inventory(state, inventory) -> tuple[Departing | None, ClusterView | None, list[HostState]]:
    in_run = lambda host: state.limit_hosts is None or host in state.limit_hosts  # noqa: E731
    named = params.get(inventory.get_group(GROUP)[0].data, "etcd_remove")
    # a host named by etcd_remove but left out of the run is dead: it is not even tried
    left_out = [host_address(h) for h in inventory.get_group(GROUP) if host_address(h) == named and not in_run(h)]
    spec, hosts = survey(inventory, skip=left_out)
    run_hosts = [h for name, h in hosts.items() if in_run(inventory.get_host(name))]
    if named:
        chosen = [h for h in hosts.values() if h.member.address == named]
        if not chosen:
            raise DeployError(f"etcd_remove={named} is not a host of group `{GROUP}`: nothing was changed")
    elif state.limit_hosts is None:
        raise DeployError(
            "name the member to remove: --limit IP (or bin/etcd-rm IP); to remove the whole cluster use "
            "deploys/destroy.py. Nothing was changed"
        )
    else:
        chosen = run_hosts
    if len(chosen) > 1:
        raise DeployError(
            f"{len(chosen)} hosts would leave ({' '.join(h.member.address for h in chosen)}): members leave one at a "
            "time; limit the run to one host, or use bin/etcd-rm, which removes them one after another"
        )
    if not chosen:
        return None, None, run_hosts
    host_state = chosen[0]
    view = live_view(inventory, [h for h in hosts.values() if h.ownership()[0] == "ours" and h is not host_state])
    view = view or live_view(inventory, [host_state])
    departing = Departing(
        host_state.member.host_name, host_state.member.name, host_state.member.address, host_state.member.peer_url,
        host_state.settings,
        reachable=any(h is host_state for h in run_hosts) and host_state.reachable, has_credentials=host_state.ownership()[0] == "ours",
    )
    return departing, view, [h for h in run_hosts if h.reachable]


def _surviving_executor(run_hosts: list[HostState], survivors: list[LiveMember]) -> str | None:
    """A reachable host of the run that is a surviving member."""
    surviving_urls = {url for member in survivors for url in member.peer_urls}
    return next((h.member.host_name for h in run_hosts if h.member.peer_url in surviving_urls), None)


def _from_own_config(inventory) -> tuple[Departing | None, ClusterView | None]:
    """The inventory is the departing host alone: its etcd.conf names the member and the cluster."""
    hosts = list(inventory.iter_activated_hosts())
    if len(hosts) != 1:
        raise DeployError(
            f"without a group `{GROUP}` the inventory must be the departing host alone (pyinfra @ssh/IP deploys/remove.py)"
        )
    host = hosts[0]
    settings = host_settings(host)
    state = host.get_fact(EtcdHost, data_dir=settings["etcd_data"], ports=(settings["etcd_port"], settings["etcd_peer_port"]))
    conf = conf_values(state["conf"])
    if not conf.get("name"):
        logger.info(f"{host.name} has no etcd.conf of a member: only its cleanup is left")
        return Departing(host.name, "", host_address(host), "", settings, reachable=True, has_credentials=False), None
    name, peer_url = str(conf["name"]), str(conf.get("initial-advertise-peer-urls", "")).split(",")[0]
    own_client = str(conf.get("advertise-client-urls", "")).split(",")[0]
    client_port = own_client.rsplit(":", 1)[-1]
    peers = [item.split("=", 1)[1] for item in str(conf.get("initial-cluster", "")).split(",") if "=" in item]
    endpoints = [own_client] + [f"{url.rsplit(':', 1)[0]}:{client_port}" for url in peers if url != peer_url]
    settings = {**settings, "etcd_cluster": name.rsplit("-", 1)[0], "etcd_data": conf.get("data-dir", settings["etcd_data"])}
    view = host.get_fact(EtcdCluster, endpoint=",".join(endpoints))
    return Departing(host.name, name, host_address(host), peer_url, settings, reachable=True, has_credentials=True), view

