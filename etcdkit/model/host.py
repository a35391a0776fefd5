"""A member's host as its facts describe it: whether its etcd runs, and whose etcd it is."""

from enum import Enum

# systemd's ActiveState of etcd.service while a process of it exists ("deactivating": it is stopping)
RUNNING_STATES = frozenset({"active", "activating", "reloading", "deactivating"})


def running(active: str | None) -> bool:
    """etcd runs on the host (by systemd's ActiveState of its unit): its ports and its data are in use."""
    return active in RUNNING_STATES


def start_needed(active: str | None) -> bool:
    """`systemctl start` would start etcd: it does not run, or it is stopping (the start then waits
    for the stop and starts it again)."""
    return not running(active) or active == "deactivating"


class Ownership(Enum):
    """Whose etcd a member's host holds, as the SOPs judge it before they touch anything."""

    BARE = "bare"  # nothing of etcd runs there and its data dir holds nothing
    OURS = "ours"  # its etcd.conf is this member's, of this cluster and data dir
    FOREIGN = "foreign"  # an etcd, a process on its ports or data that this inventory did not make
    UNREACHABLE = "unreachable"  # it cannot be reached over SSH: nothing is known
