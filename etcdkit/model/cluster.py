"""The live cluster as etcdctl reports it, and the health checks every SOP shares.

Members are matched by peer URL, never by name: a member added but not started has no name yet.
The URLs come from the members themselves (each publishes its own): only those of the form etcdkit
gives members, https://<IPv4 address or DNS name>:<port>, are kept, and the others are named in
`refused_urls`, which stops every SOP that changes something.
"""

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

# A member's database is defragmented when less than this share of its file holds data and the
# free part is at least DEFRAG_MIN_FREE bytes: below that a defragmentation, which blocks the
# member while it runs, gains nothing.
DEFRAG_IN_USE = 0.8
DEFRAG_MIN_FREE = 1 << 20

URL = re.compile(r"https://([A-Za-z0-9.-]+):([0-9]{1,5})")
DNS_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
URL_FORM = "https://<IPv4 address or DNS name>:<port>"


class Role(StrEnum):
    """A started member's part in the cluster (its name in etcd-status' document)."""

    LEADER = "leader"
    FOLLOWER = "follower"  # a voter that does not lead
    LEARNER = "learner"  # not a voter: it catches up before its promotion


def quorum(voters: int) -> int:
    """How many of this many voting members must be healthy for the cluster to have a leader and take writes."""
    return voters // 2 + 1


def url_problem(url: str) -> str | None:
    """Why a URL a member advertises is not https://<IPv4 address or DNS name>:<port> (None: it is)."""
    match = URL.fullmatch(url)
    if not match:
        return f"not {URL_FORM}"
    host, port = match.groups()
    if not 1 <= int(port) <= 65535:
        return f"port {port} is not between 1 and 65535"
    if re.fullmatch(r"[0-9.]+", host):
        try:
            if str(ipaddress.IPv4Address(host)) == host:
                return None
        except ValueError:
            pass
        return f"{host} is not an IPv4 address"
    labels = host.split(".")
    if len(host) > 253 or not all(DNS_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        return f"{host} is not a DNS name"
    return None


@dataclass(frozen=True)
class Alarm:
    """An active alarm of the cluster (`etcdctl alarm list`)."""

    member_id: int
    alarm: str  # NOSPACE, CORRUPT, ...


@dataclass(frozen=True)
class MemberMetrics:
    """What a member says of itself in its metrics (`/metrics`), which it serves without quorum."""

    member_id: int
    leader: int  # 1: it has a leader
    applied_index: int
    raft_index: int
    revision: int | None  # None: not reported


@dataclass(frozen=True)
class EndpointStatus:
    """What a member says of itself in `endpoint status -w json`, parsed once. etcdctl leaves out a
    field that is zero; the fields the status document shows, and those older releases lack
    (etcd 3.4 has no downgradeInfo), are None when left out."""

    member_id: int = 0
    cluster_id: int = 0
    revision: int = 0
    leader: int = 0  # the member ID of its leader (0: none)
    raft_term: int | None = None
    raft_index: int | None = None
    raft_applied_index: int | None = None
    db_size: int | None = None
    db_size_in_use: int | None = None
    version: str | None = None
    is_learner: bool = False
    errors: tuple[str, ...] = ()
    downgrade: str | None = None  # the target version of a downgrade enabled on the cluster (downgradeInfo, 3.6+)

    @classmethod
    def parse(cls, status: dict) -> "EndpointStatus":
        header, info = status.get("header") or {}, status.get("downgradeInfo") or {}
        return cls(
            member_id=int(header.get("member_id", 0)),
            cluster_id=int(header.get("cluster_id", 0)),
            revision=int(header.get("revision", 0)),
            leader=int(status.get("leader", 0)),
            raft_term=_number(status.get("raftTerm")),
            raft_index=_number(status.get("raftIndex")),
            raft_applied_index=_number(status.get("raftAppliedIndex")),
            db_size=_number(status.get("dbSize")),
            db_size_in_use=_number(status.get("dbSizeInUse")),
            version=status.get("version"),
            is_learner=bool(status.get("isLearner")),
            errors=tuple(status.get("errors") or ()),
            downgrade=info.get("targetVersion") if info.get("enabled") else None,
        )


@dataclass(frozen=True)
class EndpointHealth:
    """What `endpoint health -w json` says of an endpoint, parsed once."""

    healthy: bool
    took: str = ""  # how long the check took, as etcdctl prints it
    error: str = ""  # why it is not healthy ("" when it is)

    @classmethod
    def parse(cls, entry: dict) -> "EndpointHealth":
        healthy = bool(entry.get("health"))
        return cls(healthy, entry.get("took") or "", "" if healthy else (entry.get("error") or "unhealthy"))


@dataclass(frozen=True)
class LiveMember:
    id: int
    name: str
    peer_urls: tuple[str, ...]
    client_urls: tuple[str, ...]
    is_learner: bool

    @property
    def hex_id(self) -> str:
        return f"{self.id:x}"

    @property
    def started(self) -> bool:
        return bool(self.name)

    def describe(self) -> str:
        role = "learner" if self.is_learner else "voter"
        state = "started" if self.started else "unstarted"
        return f"{self.name or '(no name yet)'} {self.hex_id} {state} {role} {', '.join(self.peer_urls)}"


@dataclass(frozen=True)
class ClusterView:
    cluster_id: int
    # the member whose endpoint answered the member list
    answered_by: int
    members: tuple[LiveMember, ...]
    # client URL -> its status, for the endpoints that answered
    status: Mapping[str, EndpointStatus] = field(default_factory=dict)
    # client URL -> its health, for the endpoints that were checked
    health: Mapping[str, EndpointHealth] = field(default_factory=dict)
    # the URLs members advertise that are not of the form etcdkit uses, each named with its member:
    # left out of `members`, and a reason to stop
    refused_urls: tuple[str, ...] = ()

    @classmethod
    def parse(cls, members_json: str, status_json: str, health_json: str) -> "ClusterView | None":
        try:
            listing = json.loads(members_json)
        except ValueError:
            return None
        if "members" not in listing:
            return None
        members, refused = [], []
        for member in listing["members"]:
            member_id, name = int(member["ID"]), member.get("name", "")
            urls: dict[str, list[str]] = {}
            for kind, key in (("peer", "peerURLs"), ("client", "clientURLs")):
                urls[kind] = []
                for url in member.get(key) or ():
                    problem = url_problem(str(url))
                    if problem:
                        refused.append(f"member {name or '(no name yet)'} ({member_id:x}) advertises the {kind} URL {url!r}: {problem}")
                    else:
                        urls[kind].append(url)
            members.append(LiveMember(member_id, name, tuple(urls["peer"]), tuple(urls["client"]), bool(member.get("isLearner"))))
        header = listing["header"]
        status = {
            e["Endpoint"]: EndpointStatus.parse(e["Status"]) for e in _json_list(status_json) if not url_problem(str(e.get("Endpoint")))
        }
        health = {e["endpoint"]: EndpointHealth.parse(e) for e in _json_list(health_json) if not url_problem(str(e.get("endpoint")))}
        return cls(int(header["cluster_id"]), int(header["member_id"]), tuple(members), status, health, tuple(refused))

    def url_refusal(self) -> str | None:
        """Why no change may run while a member advertises a URL of another form (None: every URL is
        of the form): each such URL named with its member, and the fix."""
        if not self.refused_urls:
            return None
        return (
            "; ".join(self.refused_urls) + f". etcdkit only uses {URL_FORM} and never passes another URL to a shell: correct the member's "
            "advertise-client-urls (or initial-advertise-peer-urls) in its etcd.conf and restart it, or take it out "
            "with `etcdctl member remove <ID>`"
        )

    def by_peer_url(self, url: str) -> LiveMember | None:
        return next((member for member in self.members if url in member.peer_urls), None)

    @property
    def started(self) -> list[LiveMember]:
        return [member for member in self.members if member.started]

    @property
    def voters(self) -> list[LiveMember]:
        return [member for member in self.members if not member.is_learner]

    @property
    def pending(self) -> list[LiveMember]:
        """Members a finished join leaves none of: unstarted entries and learners."""
        return [member for member in self.members if not member.started or member.is_learner]

    def has_voter(self, peer_url: str) -> bool:
        """The member with this peer URL is a started voting member: its join is finished."""
        member = self.by_peer_url(peer_url)
        return member is not None and member.started and not member.is_learner

    def is_healthy(self, member: LiveMember) -> bool:
        return any(health.healthy for url in member.client_urls if (health := self.health.get(url)))

    def health_errors(self, member: LiveMember) -> list[str]:
        """Why the member's endpoints are not healthy, each reason once."""
        return sorted({health.error for url in member.client_urls if (health := self.health.get(url)) and health.error})

    def serves(self, peer_url: str) -> bool:
        """The member with this peer URL is healthy."""
        member = self.by_peer_url(peer_url)
        return member is not None and self.is_healthy(member)

    def leaders(self) -> set[int]:
        return {status.leader for status in self.status.values() if status.leader}

    def by_id(self, member_id: int) -> LiveMember | None:
        return next((member for member in self.members if member.id == member_id), None)

    def leader(self) -> LiveMember | None:
        leaders = self.leaders()
        return self.by_id(next(iter(leaders))) if len(leaders) == 1 else None

    def successor(self, member_id: int) -> LiveMember | None:
        """A healthy voter other than member_id to hand leadership to, the most caught-up first."""
        candidates = [m for m in self.healthy_voters if m.id != member_id]
        index = lambda m: max((status.raft_index or 0 for url in m.client_urls if (status := self.status.get(url))), default=0)  # noqa: E731
        return max(candidates, key=index, default=None)

    @property
    def healthy_voters(self) -> list[LiveMember]:
        return [member for member in self.voters if self.is_healthy(member)]

    def role(self, member: LiveMember) -> Role:
        leader = self.leader()
        if leader is not None and member.id == leader.id:
            return Role.LEADER
        return Role.LEARNER if member.is_learner else Role.FOLLOWER

    def status_of(self, member: LiveMember) -> EndpointStatus | None:
        """The member's `endpoint status`; None when it did not answer."""
        return next((self.status[url] for url in member.client_urls if url in self.status), None)

    def version_of(self, member: LiveMember) -> str | None:
        """The member's server version (None: it did not answer)."""
        status = self.status_of(member)
        return status.version if status else None

    def versions(self) -> dict[str, str | None]:
        """Each started member's server version, by name (None: it did not answer)."""
        return {member.name: self.version_of(member) for member in self.started}

    def silence_problems(self) -> list[str]:
        """Why not every member answers `endpoint status` with one leader: empty when all do. Health
        aside, on purpose: an active alarm makes `endpoint health` fail on every member."""
        problems = [
            f"member {member.describe()} does not answer" for member in self.members if self.status_of(member) is None or not member.started
        ]
        return problems + self.leader_problems()

    def leader_problems(self) -> list[str]:
        leaders = self.leaders()
        return [] if len(leaders) == 1 else [f"the cluster has {'no leader' if not leaders else f'{len(leaders)} leaders'}"]

    def health_problems(self, ignoring: int | None = None) -> list[str]:
        """Why the cluster is not fully healthy: empty when every member (but `ignoring`, a member
        id) serves and there is one leader."""
        problems = []
        for member in self.members:
            if member.id == ignoring:
                continue
            if not member.started:
                problems.append(f"member {member.describe()} was added but never started")
            elif not self.is_healthy(member):
                problems.append(
                    f"member {member.name} ({', '.join(member.client_urls)}) is not healthy: "
                    f"{'; '.join(self.health_errors(member)) or 'no answer'}"
                )
        return problems + self.leader_problems()

    def summary(self) -> str:
        return "\n".join(f"  {member.describe()}" for member in self.members)


def fragmented(status: EndpointStatus) -> bool:
    """Whether a member's database (its `endpoint status`) is worth defragmenting (DEFRAG_IN_USE, DEFRAG_MIN_FREE)."""
    size, in_use = status.db_size, status.db_size_in_use
    if not size or in_use is None:
        return False
    return in_use < DEFRAG_IN_USE * size and size - in_use >= DEFRAG_MIN_FREE


def size_text(size: int | None) -> str:
    """Bytes as the operator reads them: "20 kB"; "-" when unknown."""
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000:
            return f"{value:.0f} {unit}"
        value /= 1000
    return f"{value:.0f} TB"


def db_sizes(status: EndpointStatus | None) -> str:
    """A member's database as its `endpoint status` reports it: "20 kB, 16 kB in use" ("-, - in use": no answer)."""
    size, in_use = (status.db_size, status.db_size_in_use) if status else (None, None)
    return f"{size_text(size)}, {size_text(in_use)} in use"


def _number(value) -> int | None:
    return None if value is None else int(value)


def _json_list(text: str) -> list[dict]:
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return value if isinstance(value, list) else []
