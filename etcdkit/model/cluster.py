"""The live cluster as etcdctl reports it, and the health checks every SOP shares.

Members are matched by peer URL, never by name: a member added but not started has no name yet.
The URLs come from the members themselves (each publishes its own): only those of the form etcdkit
gives members, https://<IPv4 address or DNS name>:<port>, are kept, and the others are named in
`refused_urls`, which stops every SOP that changes something.
"""

import ipaddress
import json
import re
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


@dataclass
class ClusterView:
    cluster_id: int
    # the member whose endpoint answered the member list
    answered_by: int
    members: list[LiveMember]
    # client URL -> status (leader, raftIndex, isLearner, version ...) for the endpoints that answered
    status: dict[str, dict] = field(default_factory=dict)
    # client URL -> error text, or "" when healthy
    health: dict[str, str] = field(default_factory=dict)
    # the URLs members advertise that are not of the form etcdkit uses, each named with its member:
    # left out of `members`, and a reason to stop
    refused_urls: list[str] = field(default_factory=list)

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
        view = cls(cluster_id=int(header["cluster_id"]), answered_by=int(header["member_id"]), members=members, refused_urls=refused)
        for entry in _json_list(status_json):
            if not url_problem(str(entry.get("Endpoint"))):
                view.status[entry["Endpoint"]] = entry["Status"]
        for entry in _json_list(health_json):
            if not url_problem(str(entry.get("endpoint"))):
                view.health[entry["endpoint"]] = "" if entry.get("health") else (entry.get("error") or "unhealthy")
        return view

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
        return any(self.health.get(url) == "" for url in member.client_urls)

    def serves(self, peer_url: str) -> bool:
        """The member with this peer URL is healthy."""
        member = self.by_peer_url(peer_url)
        return member is not None and self.is_healthy(member)

    def leaders(self) -> set[int]:
        return {status["leader"] for status in self.status.values() if status.get("leader")}

    def by_id(self, member_id: int) -> LiveMember | None:
        return next((member for member in self.members if member.id == member_id), None)

    def leader(self) -> LiveMember | None:
        leaders = self.leaders()
        return self.by_id(next(iter(leaders))) if len(leaders) == 1 else None

    def successor(self, member_id: int) -> LiveMember | None:
        """A healthy voter other than member_id to hand leadership to, the most caught-up first."""
        candidates = [m for m in self.healthy_voters if m.id != member_id]
        index = lambda m: max((self.status.get(url, {}).get("raftIndex", 0) for url in m.client_urls), default=0)  # noqa: E731
        return max(candidates, key=index, default=None)

    @property
    def healthy_voters(self) -> list[LiveMember]:
        return [member for member in self.voters if self.is_healthy(member)]

    def role(self, member: LiveMember) -> Role:
        leader = self.leader()
        if leader is not None and member.id == leader.id:
            return Role.LEADER
        return Role.LEARNER if member.is_learner else Role.FOLLOWER

    def status_of(self, member: LiveMember) -> dict:
        """The member's `endpoint status` (version, dbSize, dbSizeInUse, header ...); empty when it did not answer."""
        return next((self.status[url] for url in member.client_urls if url in self.status), {})

    def versions(self) -> dict[str, str | None]:
        """Each started member's server version, by name (None: it did not answer)."""
        return {member.name: self.status_of(member).get("version") for member in self.started}

    def silence_problems(self) -> list[str]:
        """Why not every member answers `endpoint status` with one leader: empty when all do. Health
        aside, on purpose: an active alarm makes `endpoint health` fail on every member."""
        problems = [
            f"member {member.describe()} does not answer" for member in self.members if not self.status_of(member) or not member.started
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
                errors = {error for url in member.client_urls if (error := self.health.get(url))}
                problems.append(
                    f"member {member.name} ({', '.join(member.client_urls)}) is not healthy: {'; '.join(sorted(errors)) or 'no answer'}"
                )
        return problems + self.leader_problems()

    def summary(self) -> str:
        return "\n".join(f"  {member.describe()}" for member in self.members)


def fragmented(status: dict) -> bool:
    """Whether a member's database (its `endpoint status`) is worth defragmenting (DEFRAG_IN_USE, DEFRAG_MIN_FREE)."""
    size, in_use = status.get("dbSize"), status.get("dbSizeInUse")
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


def db_sizes(status: dict) -> str:
    """A member's database as its `endpoint status` reports it: "20 kB, 16 kB in use"."""
    return f"{size_text(status.get('dbSize'))}, {size_text(status.get('dbSizeInUse'))} in use"


def _json_list(text: str) -> list[dict]:
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return value if isinstance(value, list) else []
