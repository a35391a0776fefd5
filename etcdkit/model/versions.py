"""etcd versions as etcd reports them ("3.5.16"), and the rules of a rolling upgrade.

etcdctl does not report the cluster version (only etcd's /version endpoint and a metric do): etcd
sets it to the lowest major.minor of its members once they all run, so it is computed from the
members' server versions of `endpoint status -w json`, the same for every SOP.
"""

import re

VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def parse(version: str | None) -> tuple[int, int, int] | None:
    """(major, minor, patch) of "3.5.16" (a suffix such as "-rc.0" or "+git" is ignored); None otherwise."""
    match = VERSION.match(version or "")
    return tuple(int(part) for part in match.groups()) if match else None  # type: ignore[return-value]


def cluster_version(versions: list[str | None]) -> str | None:
    """major.minor of the lowest server version, as etcd sets the cluster version."""
    numbers = [parsed[:2] for parsed in map(parse, versions) if parsed]
    return "{}.{}".format(*min(numbers)) if numbers else None


def upgrade_problem(target: str, running: list[str], cluster: str | None) -> str | None:
    """Why a rolling upgrade of members running these versions (cluster: their cluster version) to
    target is not allowed: a downgrade, or a step over a minor version (3.4 -> 3.6 goes through
    3.5, as etcd requires). None: allowed (members already at target included)."""
    wanted = parse(target)
    if wanted is None:
        return f"etcd_version {target!r} is not a version such as 3.5.16"
    newer = sorted({version for version in running if (parse(version) or (0, 0, 0)) > wanted}, key=parse)
    if newer:
        return (
            f"etcd_version {target} is older than the etcd that runs ({', '.join(newer)}): etcdkit does not downgrade "
            "(etcd supports a downgrade only one minor version back with `etcdctl downgrade`); set etcd_version to the running version or newer"
        )
    current = parse(f"{cluster}.0") if cluster else None
    if current is None:
        return "no member reports its server version: the cluster version is unknown"
    major, minor = current[:2]
    if wanted[:2] not in ((major, minor), (major, minor + 1)):
        step = f"{major}.{minor + 1}"
        return (
            f"etcd_version {target} skips a minor version: the cluster runs {cluster}, and etcd upgrades one minor version "
            f"at a time. Upgrade to the latest {step} release first (etcd_version={step}.x), then to {target}"
        )
    return None


# From these releases (CVE-2026-33413) etcd serves no call without a login while authentication is on:
# member list, endpoint status and alarm list included, which earlier releases answered anonymously;
# every later minor version too. Clients that list the members before they log in then fail: etcdctl's
# `--cluster` before 3.4.43, 3.5.29 and 3.6.10, Patroni before 4.1.1.
LOGIN_FOR_EVERY_CALL_FROM = {(3, 4): 42, (3, 5): 28, (3, 6): 9}


def login_for_every_call(version: str | None) -> bool:
    """Whether an etcd server of this version refuses the member list to a client that has not logged in."""
    parsed = parse(version)
    if parsed is None:
        return False
    floor = LOGIN_FOR_EVERY_CALL_FROM.get(parsed[:2])
    return parsed[2] >= floor if floor is not None else parsed[:2] > max(LOGIN_FOR_EVERY_CALL_FROM)
