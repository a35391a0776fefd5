"""Builders for the plans' decide functions (no SSH, no pyinfra run): an inventory of members on
the lab's addresses (member <seq> at 10.10.10.<9+seq>, as `inventories/lab.py`), the EtcdHost fact
of their hosts (as data/host_member.txt and data/host_bare.txt hold it) and the live cluster in the
JSON etcdctl 3.5 prints (as data/cluster_healthy.txt holds it).
"""

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from etcdkit.facts.etcd import EtcdHost

from etcdkit.model import paths
from etcdkit.model.cluster import ClusterView, EndpointHealth
from etcdkit.model.host import EtcdHostState, OwnStatus
from etcdkit.model.inventory import ClusterSpec, Member, default_bcrypt_cost
from etcdkit.model.refusals import Refusal
from etcdkit.model.settings import Settings
from etcdkit.plans.gather import ControlState, HostState
from etcdkit.plans.memberfiles import Membership, member_files
from etcdkit.plans.monitoring import Monitors
from etcdkit.remote.memberfiles import PACKAGE_BINARY, TARBALL_BINARY

DATA = Path(__file__).parent / "data"
NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)  # the tests' clock: no test reads the real one

TOKEN = "etcd-ba4666ca"  # the initial-cluster-token the running members were bootstrapped with
NEW_TOKEN = "etcd-0badf00d"  # the token a bootstrap of this run would use
CA_PEM = "-----BEGIN CERTIFICATE-----\nthe control node's CA\n-----END CERTIFICATE-----\n"
CLUSTER_ID = 5842096680786441214
DOWN = "context deadline exceeded"
UNREACHABLE = None  # the state read_hosts gives a host it cannot reach


@contextmanager
def refused(*codes: str, match: str | None = None) -> Iterator[pytest.ExceptionInfo[Refusal]]:
    """The block raises a Refusal whose codes include every one of `codes` (tests match codes, not
    prose; `match`, a regular expression, for the host or value it must name)."""
    with pytest.raises(Refusal, match=match) as raised:
        yield raised
    assert set(codes) <= raised.value.codes, f"{sorted(raised.value.codes)} lacks {codes}: {raised.value}"


def address(seq: int) -> str:
    return f"10.10.10.{9 + seq}"


def member_id(seq: int) -> int:
    return 0xA000000000000000 + seq


def hex_id(seq: int) -> str:
    return f"{member_id(seq):x}"


def client_url(seq: int) -> str:
    return f"https://{address(seq)}:2379"


def peer_url(seq: int) -> str:
    return f"https://{address(seq)}:2380"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_settings(tmp_path: Path, **overrides) -> Settings:
    """Every parameter at its default, the control node's folders under tmp_path."""
    return replace(Settings(), etcd_pki_dir=str(tmp_path / "pki"), etcd_backup_dir=str(tmp_path / "backups"), **overrides)


# The EtcdHost fact of a host.


def bare(**changes) -> EtcdHostState:
    """A host with nothing of etcd (data/host_bare.txt), as the fact itself parses one."""
    return replace(EtcdHost().process(["package_manager=apt-get", "active=inactive", "enabled=not-found"]), **changes)


def foreign_etcd() -> EtcdHostState:
    """An etcd that runs with a configuration of another cluster."""
    conf = "name: legacy-1\ndata-dir: /var/lib/etcd/default\n"
    return bare(version="3.4.30", active="active", enabled="enabled", pid=812, data=("member",), listeners=2, conf=conf)


def squatter() -> EtcdHostState:
    """Another process listens on the member's ports."""
    return bare(listeners=1)


def foreign_data() -> EtcdHostState:
    """A data dir with data this cluster did not write, nothing running."""
    return bare(version="3.5.16", enabled="disabled", data=("member", "lost+found"))


@dataclass
class Inventory:
    spec: ClusterSpec
    settings: Settings

    @property
    def pki_dir(self) -> Path:
        return Path(self.settings.etcd_pki_dir)

    def member(self, seq: int) -> Member:
        return next(member for member in self.spec.members if member.seq == seq)

    def name(self, seq: int) -> str:
        return self.member(seq).host_name

    def files(self, seq: int, token: str = TOKEN, initial_state: str = "new", peers: Iterable[int] | None = None, **changes) -> dict:
        """The files etcdkit renders for member seq with these settings and an initial cluster of
        `peers` (default: the inventory)."""
        host = HostState(self.member(seq), replace(self.settings, **changes), None)
        members = self.spec.members if peers is None else [self.member(peer) for peer in peers]
        membership = Membership.of_inventory(ClusterSpec(self.spec.cluster, tuple(members), (), self.spec.bcrypt_cost))
        return member_files(host, membership, token, initial_state)

    def ours(
        self,
        seq: int,
        *,
        running: bool = True,
        data: bool = True,
        ca_pem: str | None = CA_PEM,
        cluster_id: int = CLUSTER_ID,
        root: str | None = None,
        **files,
    ) -> EtcdHostState:
        """The fact of member seq's host, its files as self.files(seq, **files) renders them (the
        defaults: up to date), the CA ca_pem, and, running, the cluster ID its etcd reports."""
        rendered = self.files(seq, **files)
        checksums = {path: sha256(text) for path, text in rendered.items()}
        if ca_pem is not None:
            checksums[paths.CA] = sha256(ca_pem)
        if root is not None:
            checksums[paths.PASS] = sha256(root)
        tarball = bool(files.get("etcd_tarball", self.settings.etcd_tarball))
        return bare(
            version="3.5.16",
            binary=TARBALL_BINARY if tarball else PACKAGE_BINARY,
            package=None if tarball else "etcd-server",
            unit=paths.UNIT,
            unit_etcdkit="yes",
            active="active" if running else "inactive",
            enabled="enabled",
            pid=2671 if running else 0,
            data=("member",) if data else None,
            listeners=3 if running else 0,
            sha256=checksums,
            own=OwnStatus(cluster_id, member_id(seq)) if running else None,
            conf=rendered[paths.CONF],
        )

    def hosts(
        self, states: dict[int, EtcdHostState | None] | None = None, in_run: Iterable[int] | None = None, **changes
    ) -> dict[str, HostState]:
        """The HostState of every member, by host name: states[seq], else an up-to-date running
        member; in the run when its seq is in in_run (default: all); settings with changes."""
        states = states or {}
        run = None if in_run is None else set(in_run)
        return {
            m.host_name: HostState(
                m,
                replace(self.settings, **changes),
                states[m.seq] if m.seq in states else self.ours(m.seq),
                run is None or m.seq in run,
            )
            for m in self.spec.members
        }


def control(ca_pem: str | None = CA_PEM, root: str | None = None, configured: bool = False) -> ControlState:
    """What the control node holds: its CA, and the root password (configured or kept in pki/)."""
    return ControlState(ca_pem, sha256(root) if root is not None else None, configured, now=NOW)


def inventory(tmp_path: Path, seqs: Iterable[int] = (1, 2, 3), cluster: str = "etcd", warnings=(), **overrides) -> Inventory:
    """Members seqs of cluster `cluster`, with make_settings(tmp_path, **overrides)."""
    members = tuple(Member(address(seq), seq, cluster, address(seq), 2379, 2380) for seq in seqs)
    passwords = [overrides.get("etcd_root_password"), overrides.get("pg_etcd_password")]  # as gather.read_hosts decides
    spec = ClusterSpec(cluster, members, tuple(warnings), overrides.get("etcd_bcrypt_cost", default_bcrypt_cost(passwords)))
    return Inventory(spec, make_settings(tmp_path, etcd_cluster=cluster, **overrides))


def assert_control_node_untouched(inv: Inventory) -> None:
    """Deciding writes nothing on the control node: no PKI folder, no backup folder."""
    assert not inv.pki_dir.exists()
    assert not Path(inv.settings.etcd_backup_dir).exists()


# The live cluster: `etcdctl member list`, `endpoint status --cluster`, `endpoint health --cluster`.


def entry(seq: int, *, started: bool = True, learner: bool = False, cluster: str = "etcd") -> dict:
    """A member of `member list -w json`: an unstarted one has no name and no client URLs yet."""
    listed = {"ID": member_id(seq), "peerURLs": [peer_url(seq)]}
    if started:
        listed.update(name=f"{cluster}-{seq}", clientURLs=[client_url(seq)])
    if learner:
        listed["isLearner"] = True
    return listed


def view_json(
    *members,
    leader: int | None = 1,
    down: Iterable[int] = (),
    raft: dict[int, int] | None = None,
    db_size: int = 20480,
    revision: int = 2,
    version: str = "3.5.16",
) -> tuple[str, str, str]:
    """The three JSON outputs for these members (a seq: a started voter; or an entry()), each running
    etcd `version`; members in `down` do not answer; leader is the seq every answering member names
    (None: no leader)."""
    entries = [entry(m) if isinstance(m, int) else m for m in members]
    down = {member_id(seq) for seq in down}
    raft = raft or {}
    header = {"cluster_id": CLUSTER_ID, "member_id": entries[0]["ID"], "raft_term": 5}
    status, health = [], []
    for listed in entries:
        if not listed.get("clientURLs"):
            continue
        url, answers = listed["clientURLs"][0], listed["ID"] not in down
        if answers:
            seq = listed["ID"] - member_id(0)
            status.append(
                {
                    "Endpoint": url,
                    "Status": {
                        "header": {"cluster_id": CLUSTER_ID, "member_id": listed["ID"], "revision": revision, "raft_term": 5},
                        "version": version,
                        "dbSize": db_size,
                        "leader": member_id(leader) if leader else 0,
                        "raftIndex": raft.get(seq, 238),
                        "raftTerm": 5,
                        "raftAppliedIndex": raft.get(seq, 238),
                        "dbSizeInUse": 16384,
                        **({"isLearner": True} if listed.get("isLearner") else {}),
                    },
                }
            )
            health.append({"endpoint": url, "health": True, "took": "1.006671ms"})
        else:
            health.append({"endpoint": url, "health": False, "took": "", "error": DOWN})
    return json.dumps({"header": header, "members": entries}), json.dumps(status), json.dumps(health)


def view(*members, **details) -> ClusterView:
    """The ClusterView of view_json(...), parsed as the EtcdCluster fact parses it."""
    return ClusterView.parse(*view_json(*members, **details))


def with_status(live: ClusterView, url: str, **changes) -> ClusterView:
    """The view with the `endpoint status` of this client URL changed (EndpointStatus fields)."""
    return replace(live, status={**live.status, url: replace(live.status[url], **changes)})


def with_health(live: ClusterView, url: str, error: str | None) -> ClusterView:
    """The view with this client URL's endpoint unhealthy for this error (None: its health not checked)."""
    health = {other: checked for other, checked in live.health.items() if other != url}
    if error is not None:
        health[url] = EndpointHealth.parse({"endpoint": url, "health": False, "error": error})
    return replace(live, health=health)


def monitors(tmp_path: Path, *hosts: str, without: Iterable[str] = (), **settings) -> Monitors:
    """The monitoring hosts of the run (with their folder: Prometheus', or etcd_monitor_target_dir in
    the settings) and those without it."""
    values = make_settings(tmp_path, **settings)
    folder = values.etcd_monitor_target_dir or values.prometheus_dir
    return Monitors(tuple(hosts), values if hosts else None, {name: folder for name in without})


NO_MONITORS = Monitors((), None)
