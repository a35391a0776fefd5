"""A readable status of the cluster: its members, their health and the leader, for any inventory."""

from pyinfra.api.exceptions import DeployError

from etcdkit.model.cluster import ClusterView
from etcdkit.plans.gather import read_hosts, read_view


def report(inventory) -> None:
    """Print the status to stdout; raise when the cluster is not fully healthy."""
    spec, hosts = read_hosts(inventory)
    view = read_view(inventory, hosts.values())
    if view is None:
        down = ", ".join(
            f"{h.member.host_name} ({h.state.get('active') or ('no etcd' if h.reachable else 'unreachable')})" for h in hosts.values()
        )
        print(f"cluster {spec.cluster}: no member answers\n  {down}")
        raise DeployError(f"cluster `{spec.cluster}` does not answer")
    print(format_view(spec.cluster, view))
    known = {h.member.peer_url for h in hosts.values()}
    strangers = [m for m in view.members if not known & set(m.peer_urls)]
    missing = [h.member.host_name for h in hosts.values() if view.by_peer_url(h.member.peer_url) is None]
    if missing:
        print(f"in the inventory but not members: {', '.join(missing)} (the join SOP adds them)")
    if strangers:
        print(f"members not in the inventory: {', '.join(m.name or m.hex_id for m in strangers)}")
    problems = view.health_problems()
    if problems:
        raise DeployError(f"cluster `{spec.cluster}` is not healthy:\n" + "\n".join(f"  - {p}" for p in problems))


def format_view(cluster: str, view: ClusterView) -> str:
    leader = view.leader()
    problems = view.health_problems()
    lines = [
        f"cluster {cluster} (id {view.cluster_id:x}): {len(view.members)} members, "
        f"leader {leader.name if leader else 'none'}, {'healthy' if not problems else 'NOT HEALTHY'}"
    ]
    rows = [("MEMBER", "ID", "PEER URL", "STATE", "ROLE", "HEALTH", "VERSION", "DB SIZE", "RAFT INDEX")]
    for member in sorted(view.members, key=lambda m: m.peer_urls):
        status = next((view.status[url] for url in member.client_urls if url in view.status), {})
        role = "leader" if leader and member.id == leader.id else ("learner" if member.is_learner else "voter")
        health = "healthy" if view.is_healthy(member) else ("-" if not member.started else "UNHEALTHY")
        rows.append(
            (
                member.name or "(unstarted)",
                member.hex_id,
                ",".join(member.peer_urls),
                "started" if member.started else "unstarted",
                role,
                health,
                status.get("version", "-"),
                _size(status.get("dbSize")),
                str(status.get("raftIndex", "-")),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines += ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


def _size(size: int | None) -> str:
    if size is None:
        return "-"
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000:
            return f"{size:.0f} {unit}"
        size /= 1000
    return f"{size:.0f} TB"
