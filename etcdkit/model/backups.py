"""Snapshots on the control node: their names, their sidecars, and which ones retention deletes.

A snapshot of cluster `etcd` taken at 12:00:00 UTC on 1 January 2025 is
`<etcd_backup_dir>/etcd-20250101T120000Z.db`, described by `etcd-20250101T120000Z.json` next to it.
Retention only ever considers files whose whole name has this form for this cluster and that have
their sidecar (a verified snapshot): another cluster's snapshots (`etcd-staging-...`), a snapshot
without its sidecar, and any other file, are never touched.
"""

import re
from datetime import UTC, datetime
from pathlib import Path

from etcdkit.model.cluster import ClusterView

TIME_FORMAT = "%Y%m%dT%H%M%SZ"


def utc_now() -> str:
    """The time that names a snapshot taken now."""
    return datetime.now(UTC).strftime(TIME_FORMAT)


def snapshot_path(backup_dir: str, cluster: str, now: str) -> Path:
    return Path(backup_dir).expanduser().resolve() / f"{cluster}-{now}.db"


def sidecar_path(snapshot: Path) -> Path:
    return snapshot.with_suffix(".json")


def _pattern(cluster: str) -> re.Pattern:
    return re.compile(re.escape(cluster) + r"-(\d{8}T\d{6}Z)\.db")


def grep_pattern(cluster: str) -> str:
    """The same exact-name rule as an extended regular expression for `grep -E`, for the members'
    scheduled backups (cluster names hold no character special to it but `.`)."""
    return "^" + cluster.replace(".", "[.]") + "-[0-9]{8}T[0-9]{6}Z[.]db$"


def snapshots_of(names: list[str], cluster: str) -> list[str]:
    """The names that are snapshots of this cluster, oldest first (their time sorts as text)."""
    pattern = _pattern(cluster)
    snapshots = [(match[1], name) for name in names if (match := pattern.fullmatch(name))]
    return [name for _, name in sorted(snapshots, key=lambda snapshot: snapshot[0])]


def verified(names: list[str], cluster: str) -> list[str]:
    """The snapshots of this cluster among names that have their sidecar, oldest first: a backup
    writes the sidecar last, once the snapshot verified, so any other is not a snapshot to count."""
    present = set(names)
    return [name for name in snapshots_of(names, cluster) if sidecar_path(Path(name)).name in present]


def unverified(names: list[str], cluster: str) -> list[str]:
    """The files named as snapshots of this cluster that have no sidecar (left by a run that failed
    before this version, or put there by hand): retention neither counts nor deletes them."""
    return sorted(set(snapshots_of(names, cluster)) - set(verified(names, cluster)))


def expired(names: list[str], cluster: str, keep: int) -> list[str]:
    """The verified snapshots of this cluster among names that go once a new one is saved and
    verified, so that the newest `keep` are left, the new one included; keep 0 keeps every snapshot."""
    if keep <= 0:
        return []
    ours = verified(names, cluster)
    return ours[: max(len(ours) - (keep - 1), 0)]


def about(cluster: str, view: ClusterView, endpoint: str, now: str) -> dict:
    """What a snapshot's sidecar says of the cluster it was taken from (the snapshot operation adds
    the revision, SHA-256 and size once it is verified)."""
    return {
        "cluster": cluster,
        "cluster_id": f"{view.cluster_id:x}",
        "members": [{"name": m.name, "peer_urls": list(m.peer_urls), "client_urls": list(m.client_urls)} for m in view.members],
        "etcd_version": status.version if (status := view.status.get(endpoint)) else None,
        "taken_from": endpoint,
        "taken_at": datetime.strptime(now, TIME_FORMAT).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
