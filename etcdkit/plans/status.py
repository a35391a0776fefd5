"""The status of a cluster, for any inventory: its members, their health, the leader, alarms,
authentication and certificates, as one JSON document, with the problems found and the exit code
they mean (see etcdkit/cli/status.py for the document's schema and the exit codes).

`report(inventory)` runs once per pyinfra run (the status SOP): it reads facts, logs the table and
returns the document, which the run keeps in its RunContext, where etcd-status (which runs pyinfra in
its own process, etcdkit/cli/run.py) reads it. It never fails for a sick cluster: the etcd-status
command decides from the document, so that a run that fails (no inventory, no host reachable) is
told apart from a cluster that is degraded. Everything below `report` and `gather` is plain data
in, plain data out.
"""

from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from gevent.pool import Group
from pyinfra import logger
from pyinfra.api.exceptions import ConnectError

from etcdkit.facts.etcd import EtcdAlarms, EtcdAuth
from etcdkit.model.auth import AuthState
from etcdkit.model.cluster import Alarm, ClusterView, EndpointStatus, Role, quorum, size_text
from etcdkit.model.run import run_context
from etcdkit.model.versions import SUPPORTED, Version, advice, cluster_version, downgrade_target, rules_of
from etcdkit.plans.gather import HostState, read_hosts, read_view

CERT_WARN_DAYS = 30

HEALTHY, DEGRADED, NO_QUORUM, UNCHECKED = 0, 1, 2, 3
STATUS_NAMES = {HEALTHY: "healthy", DEGRADED: "degraded", NO_QUORUM: "no quorum", UNCHECKED: "not checked"}


def report(inventory) -> dict:
    """The status document of the run's inventory, checked now; its table logged for an operator
    who runs the status deploy (etcd-status captures pyinfra's output and shows its own)."""
    doc = gather(inventory, datetime.now(UTC))
    logger.info(format_report(decide(doc)))
    return doc


def gather(inventory, now: datetime) -> dict:
    """The status document from the facts of the inventory's hosts, checked at `now`. One phase of
    round trips: each host's EtcdHost (its certificates included), and through the first member by
    etcd_seq its view of the cluster, its alarms and the authentication state, all at once
    (read_hosts). Only when another member answers the member list are the alarms and the
    authentication state asked again, of that member."""
    spec, hosts = read_hosts(inventory, inventory.state, auth=True, alarms=True)
    view = read_view(inventory, hosts.values(), strict=False)
    alarms = auth = None
    asker = _answering(view, hosts.values())
    if asker is not None:
        context, key = run_context(inventory.state), (asker.member.host_name, asker.member.client_url)
        if key in context.early_alarms and key in context.early_auth:
            alarms, auth = context.early_alarms[key], context.early_auth[key]
        else:
            alarms, auth = _cluster_facts(inventory.get_host(key[0]), key[1])
    held = {name: host_state.state.certificates for name, host_state in hosts.items() if host_state.state is not None}
    certificates = {name: {"server": not_after(pems.cert), "ca": not_after(pems.ca)} for name, pems in held.items()}
    return build(spec.cluster, [host_info(h) for h in hosts.values()], view, alarms, auth, certificates, now)


def _cluster_facts(host, endpoint: str) -> tuple[tuple[Alarm, ...] | None, AuthState | None]:
    """The alarms and the authentication state, through the member at endpoint (read side by side)."""
    alarms, auth = Group().map(lambda fact: _fact(host, fact, endpoint=endpoint), (EtcdAlarms, EtcdAuth))
    return alarms, auth


def _answering(view: ClusterView | None, hosts) -> HostState | None:
    """The host whose member answered the member list (else the first running one)."""
    if view is None:
        return None
    hosts = [h for h in hosts if h.running]
    member = view.by_id(view.answered_by)
    same = [h for h in hosts if member is not None and h.member.peer_url in member.peer_urls]
    return (same or hosts or [None])[0]


def _fact(host, fact, **kwargs):
    try:
        return host.get_fact(fact, **kwargs)
    except ConnectError:
        return None


def host_info(host_state: HostState) -> dict:
    member = host_state.member
    return {
        "host": member.host_name,
        "name": member.name,
        "peer_url": member.peer_url,
        "reachable": host_state.reachable,
        "service": host_state.state.active if host_state.state else None,
    }


def not_after(pem: str | None) -> datetime | None:
    """When the first certificate of the PEM text expires (UTC); None: no text, or not a certificate."""
    if not pem:
        return None
    try:
        return x509.load_pem_x509_certificate(pem.encode()).not_valid_after_utc
    except ValueError:
        return None


def days_left(expires: datetime | None, now: datetime) -> int | None:
    return None if expires is None else int((expires - now).total_seconds() // 86400)


def build(
    cluster: str,
    hosts: list[dict],
    view: ClusterView | None,
    alarms: tuple[Alarm, ...] | None,
    auth: AuthState | None,
    certificates: dict[str, dict],
    now: datetime,
) -> dict:
    """The status document (see etcdkit/cli/status.py) from plain data: the inventory's hosts
    (host_info), the live cluster (None: no member answers), its alarms and EtcdAuth (None: not
    asked), and host name -> {"server": expiry, "ca": expiry} of the hosts that could be read."""
    doc: dict[str, Any] = {
        "cluster": cluster,
        "checked_at": now.isoformat(timespec="seconds"),
        "cluster_id": None,
        "cluster_version": None,
        "downgrade": None,
        "leader": None,
        "leader_id": None,
        "auth": None if auth is None or not auth.answered else not auth.anonymous,
        "ca_expires": None,
        "ca_days": None,
        "hosts": hosts,
        "members": [],
        "alarms": [],
        "refused_urls": [],
    }
    ca = [c["ca"] for c in certificates.values() if c.get("ca")]
    if ca:
        doc["ca_expires"] = min(ca).isoformat(timespec="seconds")
        doc["ca_days"] = days_left(min(ca), now)
    if view is not None:
        leader = view.leader()
        doc["cluster_id"] = f"{view.cluster_id:x}"
        doc["refused_urls"] = list(view.refused_urls)
        doc["leader"] = (leader.name or leader.hex_id) if leader else None
        doc["leader_id"] = leader.hex_id if leader else None
        by_peer_url = {h["peer_url"]: h["host"] for h in hosts}
        for member in sorted(view.members, key=lambda m: m.peer_urls):
            status = view.status_of(member) or EndpointStatus()
            host = next((by_peer_url[url] for url in member.peer_urls if url in by_peer_url), None)
            expires = certificates.get(host, {}).get("server") if host else None
            errors = view.health_errors(member)
            doc["members"].append(
                {
                    "name": member.name or None,
                    "id": member.hex_id,
                    "host": host,
                    "peer_urls": list(member.peer_urls),
                    "client_urls": list(member.client_urls),
                    "state": "started" if member.started else "unstarted",
                    "role": view.role(member),
                    "health": "healthy" if view.is_healthy(member) else "unhealthy",
                    "error": "; ".join(errors) or (None if view.is_healthy(member) else "no answer"),
                    "version": status.version,
                    "db_size": status.db_size,
                    "db_size_in_use": status.db_size_in_use,
                    "raft_term": status.raft_term,
                    "raft_index": status.raft_index,
                    "alarms": sorted(a.alarm for a in alarms or () if a.member_id == member.id),
                    "cert_expires": expires.isoformat(timespec="seconds") if expires else None,
                    "cert_days": days_left(expires, now),
                }
            )
        doc["downgrade"] = downgrade_target(view.status.values())
        doc["cluster_version"] = doc["downgrade"] or cluster_version([m["version"] for m in doc["members"]])
        doc["alarms"] = [{"member_id": f"{a.member_id:x}", "alarm": a.alarm} for a in alarms or ()]
    return decide(doc)


def decide(doc: dict) -> dict:
    """The document with its problems, status and exit code, from its other fields."""
    problems = find_problems(doc)
    code = max((p["severity"] for p in problems), default=HEALTHY)
    return {**doc, "problems": problems, "advice": version_advice(doc), "status": STATUS_NAMES[code], "exit_code": code}


def unchecked(cluster: str | None, reason: str, now: datetime, inventory: str | None = None) -> dict:
    """The document of a check that could not be made."""
    return {
        "cluster": cluster,
        "inventory": inventory,
        "checked_at": now.isoformat(timespec="seconds"),
        "cluster_id": None,
        "cluster_version": None,
        "downgrade": None,
        "leader": None,
        "leader_id": None,
        "auth": None,
        "ca_expires": None,
        "ca_days": None,
        "hosts": [],
        "members": [],
        "alarms": [],
        "refused_urls": [],
        "problems": [{"severity": UNCHECKED, "message": reason}],
        "advice": [],
        "status": STATUS_NAMES[UNCHECKED],
        "exit_code": UNCHECKED,
    }


def find_problems(doc: dict) -> list[dict]:
    """What keeps the cluster from being fully healthy, each with the exit code it means:
    3 no host reachable; 2 no member answers, no leader, or fewer healthy voters than a quorum;
    1 anything else (a member down, unstarted or a learner, an alarm, auth off, a certificate
    with CERT_WARN_DAYS or fewer left, a host unreachable, inventory and cluster that differ, a
    member on a minor version etcdkit does not support, members on different minor versions, a
    downgrade enabled)."""
    problems = []

    def problem(severity: int, message: str) -> None:
        problems.append({"severity": severity, "message": message})

    hosts, members = doc.get("hosts") or [], doc.get("members") or []
    if hosts and not any(h["reachable"] for h in hosts):
        problem(UNCHECKED, f"no host of the inventory can be reached over SSH ({', '.join(h['host'] for h in hosts)})")
        return problems
    if doc.get("cluster_id") is None:
        down = ", ".join(f"{h['host']} ({h['service'] or 'no etcd'})" for h in hosts if h["reachable"])
        problem(NO_QUORUM, f"no member answers: {down}")
    else:
        if doc.get("leader") is None:
            problem(NO_QUORUM, "the cluster has no leader")
        voters = [m for m in members if m["role"] != Role.LEARNER]
        healthy = [m for m in voters if m["health"] == "healthy"]
        if len(healthy) < quorum(len(voters)):
            problem(NO_QUORUM, f"{len(healthy)} of {len(voters)} voting members are healthy: no quorum")
    for host in hosts:
        if not host["reachable"]:
            problem(DEGRADED, f"{host['host']} cannot be reached over SSH")
        elif doc.get("cluster_id") is not None and not any(host["peer_url"] in m["peer_urls"] for m in members):
            problem(DEGRADED, f"{host['host']} is in the inventory but not a member of the cluster (the join SOP adds it)")
    for member in members:
        label = member["name"] or f"{member['id']} ({', '.join(member['peer_urls'])})"
        if member["state"] == "unstarted":
            problem(DEGRADED, f"member {label} was added but never started")
        elif member["health"] != "healthy":
            problem(DEGRADED, f"member {label} is not healthy: {member['error'] or 'no answer'}")
        if member["role"] == Role.LEARNER:
            problem(DEGRADED, f"member {label} is a learner waiting for promotion")
        if member["host"] is None:
            problem(DEGRADED, f"member {label} is not in the inventory")
        elif member["cert_days"] is not None and member["cert_days"] <= CERT_WARN_DAYS:
            problem(DEGRADED, f"the certificate of member {label} expires in {member['cert_days']} days")
    for refused in doc.get("refused_urls") or []:
        problem(DEGRADED, f"{refused}: every SOP that changes something refuses to run")
    names = {m["id"]: m["name"] or m["id"] for m in members}
    for alarm in doc.get("alarms") or []:
        problem(DEGRADED, f"alarm {alarm['alarm']} on member {names.get(alarm['member_id'], alarm['member_id'])}")
    if doc.get("auth") is False:
        problem(DEGRADED, "authentication is off: anonymous requests are served")
    if doc.get("ca_days") is not None and doc["ca_days"] <= CERT_WARN_DAYS:
        problem(DEGRADED, f"the CA certificate expires in {doc['ca_days']} days")
    for message in version_problems(members, doc.get("downgrade")):
        problem(DEGRADED, message)
    return problems


def _runs(members: list[dict]) -> dict[Version, list[str]]:
    """The members' server versions, each with the members that run it."""
    versions: dict[Version, list[str]] = {}
    for member in members:
        version = Version.parse(member["version"])
        if version:
            versions.setdefault(version, []).append(member["name"] or member["id"])
    return versions


def version_problems(members: list[dict], downgrade: str | None) -> list[str]:
    """Versions that put the cluster off etcd's path: a minor version etcdkit does not support,
    members on different minor versions (an unfinished upgrade or downgrade), a downgrade enabled."""
    runs, problems = _runs(members), []
    for version, names in sorted(runs.items()):
        if rules_of(version) is None:
            problems.append(
                f"{', '.join(names)} run{'s' if len(names) == 1 else ''} etcd {version}, which etcdkit does not support (etcd {SUPPORTED})"
            )
    minors: dict[str, list[str]] = {}
    for version, names in sorted(runs.items()):
        minors.setdefault(version.minor_version, []).extend(names)
    if len(minors) > 1:
        which = "; ".join(f"{minor}: {', '.join(names)}" for minor, names in minors.items())
        problems.append(
            f"members run different minor versions ({which}): an upgrade or a downgrade is unfinished; "
            "finish it (deploys/upgrade.py, deploys/downgrade.py)"
        )
    if downgrade:
        problems.append(
            f"a downgrade of the cluster to {downgrade} is enabled: finish it (deploys/downgrade.py --data etcd_version={downgrade}.x), "
            "or cancel it (etcdctl downgrade cancel)"
        )
    return problems


def version_advice(doc: dict) -> list[str]:
    """What the table of etcdkit/model/versions.py says of the versions the members run (a release
    under the one etcd asks for before the next minor step, known issues), one line per version:
    advice, which leaves the exit code as it is."""
    lines = []
    for version, names in sorted(_runs(doc.get("members") or []).items()):
        said = advice(str(version))
        if said:
            move = f" Move to etcd_version={said.move_to} or later (deploys/upgrade.py)." if said.move_to else ""
            lines.append(f"etcd {version} ({', '.join(names)}): {'; '.join(said.reasons)}.{move}")
    return lines


COLUMNS = (
    ("MEMBER", lambda m: m["name"] or "(unstarted)"),
    ("ID", lambda m: m["id"]),
    ("PEER URL", lambda m: ",".join(m["peer_urls"])),
    ("STATE", lambda m: m["state"]),
    ("ROLE", lambda m: m["role"]),
    ("HEALTH", lambda m: m["health"] if m["state"] == "started" else "-"),
    ("VERSION", lambda m: m["version"] or "-"),
    ("DB SIZE", lambda m: size_text(m["db_size"])),
    ("IN USE", lambda m: _in_use(m["db_size"], m["db_size_in_use"])),
    ("RAFT TERM", lambda m: _number(m["raft_term"])),
    ("RAFT INDEX", lambda m: _number(m["raft_index"])),
    ("ALARMS", lambda m: ",".join(m["alarms"]) or "-"),
    ("CERT DAYS", lambda m: _number(m["cert_days"])),
)


def format_report(doc: dict) -> str:
    """The document as the operator reads it: a summary, the members' table and the problems."""
    if doc["exit_code"] == UNCHECKED and not doc.get("hosts"):
        return "NOT CHECKED (exit 3):\n" + "\n".join(f"  - {p['message']}" for p in doc["problems"])
    auth = {True: "on", False: "OFF", None: "unknown"}[doc.get("auth")]
    ca = f"{doc['ca_days']} days" if doc.get("ca_days") is not None else "unknown"
    members = doc.get("members") or []
    lines = [
        f"cluster {doc.get('cluster') or '?'} (id {doc.get('cluster_id') or '?'}): {len(members)} members, "
        f"leader {doc.get('leader') or 'none'}, {doc['status'] if doc['exit_code'] == HEALTHY else doc['status'].upper()}",
        f"  cluster version {doc.get('cluster_version') or '?'} "
        f"({'downgrading to it' if doc.get('downgrade') else 'lowest server version'}), auth {auth}, CA expires in {ca}",
    ]
    if members:
        rows = [tuple(title for title, _ in COLUMNS)] + [tuple(cell(m) for _, cell in COLUMNS) for m in members]
        widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
        lines += ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    if doc["problems"]:
        lines.append(f"{doc['status'].upper()} (exit {doc['exit_code']}):")
        lines += [f"  - {p['message']}" for p in doc["problems"]]
    if doc.get("advice"):
        lines.append("VERSION ADVICE (no effect on the exit code):")
        lines += [f"  - {line}" for line in doc["advice"]]
    return "\n".join(lines)


def _in_use(size: int | None, in_use: int | None) -> str:
    """The size in use and its share of the file: a low share is fragmentation (deploys/maintain.py)."""
    share = f" ({100 * in_use // size}%)" if size and in_use is not None else ""
    return size_text(in_use) + share


def _number(value) -> str:
    return "-" if value is None else str(value)
