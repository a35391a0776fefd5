"""etcd versions as etcd reports them ("3.5.16"), and the one table of rules etcdkit keeps about them:
the minor versions it supports, the path between them, the release every member must run before
each minor step, what each minor version removed, and the known issues that etcd names.

Sources, all etcd's own:
- the upgrade guides (etcd.io/docs/v3.6/upgrades/upgrade_3_6/, etcd.io/docs/v3.7/upgrades/upgrade_3_7/,
  etcd.io/docs/v3.5/upgrades/upgrade_3_5/): one minor version at a time; every 3.5 member at 3.5.26 or
  later before 3.6 (the current guide: 3.5.32), `etcdutl check v2store` and no `enable-v2` before 3.6;
  every 3.6 member at 3.6.11 or later before 3.7; a rolling upgrade from 3.4 with authentication on
  is not supported, as 3.5 changed the WAL entries of users' passwords;
- the downgrade guides (etcd.io/docs/v3.6/downgrades/downgrade_3_6/, .../v3.7/downgrades/downgrade_3_7/,
  .../v3.5/downgrades/downgrade_3_5/): `etcdctl downgrade validate|enable` from 3.6, one minor back;
  3.5 -> 3.4 only by hand, with authentication off and every user deleted;
- the release announcements and change logs (github.com/etcd-io/etcd, CHANGELOG/CHANGELOG-3.4.md to
  CHANGELOG-3.7.md): the fixes named in KnownIssue, the commands 3.6 took out of etcdctl, the
  `experimental-*` flags 3.7 removed;
- etcd's source (server/embed/config.go, etcdctl/, etcdutl/ at each release): the configuration-file
  keys of each version (tests/unit/data/etcd_config_keys.json holds them, and a test checks
  removed_keys and etcdkit's etcd.conf against them) and the JSON etcdctl prints.

etcdctl does not report the cluster version (etcd's /version endpoint and a metric do): etcd sets it
to the lowest major.minor of its members once they all run, so it is computed from the members'
server versions of `endpoint status -w json`, the same for every SOP; while a downgrade is enabled
(3.6+), etcd has set it to the downgrade's target, which the members report in `downgradeInfo`.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from etcdkit.model.cluster import EndpointStatus

VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str | None) -> "Version | None":
        """The version of "3.5.16" (a suffix such as "-rc.0" or "+git" is ignored); None otherwise."""
        match = VERSION.match(text or "")
        return cls(*(int(part) for part in match.groups())) if match else None

    @property
    def minor_version(self) -> str:
        return f"{self.major}.{self.minor}"

    def next_minor(self) -> str:
        return f"{self.major}.{self.minor + 1}"

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


@dataclass(frozen=True)
class KnownIssue:
    """A defect of the releases of a minor version before fixed_in (None: every release of it has it)."""

    fixed_in: Version | None
    what: str


@dataclass(frozen=True)
class MinorVersion:
    """What etcdkit knows of one minor version of etcd."""

    name: str  # "3.5"
    floor: Version | None  # every member runs at least this release before the step to the next minor version
    floor_why: str = ""
    removed: tuple[str, ...] = ()  # what this minor version took away, as the operator meets it
    removed_keys: tuple[str, ...] = ()  # configuration keys it no longer reads; "experimental-*": every key of that prefix
    etcdutl: bool = True  # its releases ship etcdutl (offline snapshot restore and status)
    downgrades: bool = False  # `etcdctl downgrade` takes a cluster of this minor version one minor version back
    v2store_check: bool = False  # before the step to it, `etcdutl check v2store` must pass on every member
    step_issues: tuple[str, ...] = ()  # what to know while the members step up to it, side by side with older ones
    known_issues: tuple[KnownIssue, ...] = ()

    @property
    def number(self) -> tuple[int, int]:
        major, minor = self.name.split(".")
        return int(major), int(minor)

    def drops(self, key: str) -> bool:
        """Whether this minor version no longer reads the configuration key."""
        return any(key == name or (name.endswith("*") and key.startswith(name[:-1])) for name in self.removed_keys)


CVE_2026_33413 = "CVE-2026-33413: member list, endpoint status and other calls are answered without a login while authentication is on"
DEFRAG_CORRUPTION = "a defragmentation during a snapshot's apply may corrupt the data"

RULES = (
    MinorVersion(
        "3.4",
        floor=None,  # etcd's 3.5 upgrade guide names no 3.4 release
        etcdutl=False,
        known_issues=(
            KnownIssue(Version(3, 4, 42), CVE_2026_33413),
            KnownIssue(
                None,
                "etcd 3.4 reads no peer `allowed-hostname`: any certificate of the cluster's CA is accepted on the peer port "
                "(etcd 3.5.14 and later read it)",
            ),
        ),
    ),
    MinorVersion(
        "3.5",
        floor=Version(3, 5, 32),
        floor_why=(
            "etcd's 3.6 upgrade guide asks for 3.5.26 or later (3.5.20 to 3.5.26 fix learner promotions that were not "
            "persisted and zombie members, which break the step), its current one for 3.5.32: 3.5.31 no longer promotes "
            "a learner on a member update, and 3.5.32's `etcdutl check v2store`, run before the step, also reads the WAL"
        ),
        removed_keys=("debug", "log-output", "log-package-levels", "experimental-backend-bbolt-freelist-type"),
        step_issues=(
            "etcd 3.5 writes users' passwords to its log in a form 3.4 does not read (etcd's 3.5 upgrade guide supports no "
            "rolling upgrade from 3.4 with authentication on): add no user and change no password until every member "
            "runs 3.5",
        ),
        known_issues=(
            KnownIssue(Version(3, 5, 14), "etcd before 3.5.14 reads no peer `allowed-hostname`: any certificate of the CA is a peer"),
            KnownIssue(Version(3, 5, 23), DEFRAG_CORRUPTION),
            KnownIssue(Version(3, 5, 28), CVE_2026_33413),
        ),
    ),
    MinorVersion(
        "3.6",
        floor=Version(3, 6, 11),
        floor_why="etcd's 3.7 upgrade guide: earlier 3.6 releases may not be compatible with a rolling upgrade to 3.7",
        removed=(
            "`etcdctl snapshot restore` and `etcdctl snapshot status` (etcdutl has them)",
            "`etcdctl defrag --data-dir` (`etcdutl defrag`)",
            "the v2 store and its API (`enable-v2`)",
        ),
        removed_keys=("enable-v2", "experimental-enable-v2v3"),
        downgrades=True,
        v2store_check=True,
        known_issues=(KnownIssue(Version(3, 6, 5), DEFRAG_CORRUPTION), KnownIssue(Version(3, 6, 9), CVE_2026_33413)),
    ),
    MinorVersion(
        "3.7",
        floor=None,
        removed=("every `experimental-*` flag (3.6 named them without the prefix, or as feature gates)", "the v2 discovery"),
        removed_keys=("experimental-*", "discovery", "discovery-proxy"),
        downgrades=True,
    ),
)
BY_NAME = {rules.name: rules for rules in RULES}
SUPPORTED = f"{RULES[0].name} to {RULES[-1].name}"


def rules_of(version: Version) -> MinorVersion | None:
    """The rules of the version's minor version; None: etcdkit does not support it."""
    return BY_NAME.get(version.minor_version)


def parsed(running: dict[str, str | None]) -> dict[str, Version]:
    """The members' server versions that are versions (member name -> version)."""
    return {name: version for name, text in running.items() if (version := Version.parse(text))}


def cluster_version(versions: Iterable[str | None]) -> str | None:
    """major.minor of the lowest server version, as etcd sets the cluster version."""
    numbers = [version for version in map(Version.parse, versions) if version]
    return min(numbers).minor_version if numbers else None


def downgrade_target(statuses: Iterable[EndpointStatus]) -> str | None:
    """The major.minor a downgrade enabled on the cluster goes to (3.6+ members report it in
    `endpoint status`, as downgradeInfo); None: none is enabled."""
    for status in statuses:
        target = Version.parse(status.downgrade)
        if target:
            return target.minor_version
    return None


def _members(names: Iterable[str]) -> str:
    names = sorted(names)
    return f"{names[0]} runs" if len(names) == 1 else f"{', '.join(names)} run"


def upgrade_problem(target: str, running: dict[str, str | None]) -> str | None:
    """Why a rolling upgrade of members running these versions (member name -> server version) to
    target breaks etcd's path; each refusal names the etcd_version to go to first. None: allowed
    (members at target already included)."""
    wanted = Version.parse(target)
    if wanted is None:
        return f"etcd_version {target!r} is not a version such as 3.5.16"
    if rules_of(wanted) is None:
        return f"etcd_version {target} is etcd {wanted.minor_version}, which etcdkit does not support (it supports etcd {SUPPORTED})"
    versions = parsed(running)
    newer = {name: version for name, version in versions.items() if version > wanted}
    if newer:
        newest = max(newer.values())
        newest_rules = rules_of(newest)
        instead = (
            f"to go back to {wanted.minor_version}, run the downgrade SOP (deploys/downgrade.py --data etcd_version={target})"
            if newest_rules and newest_rules.downgrades and wanted.minor == newest.minor - 1
            else "set etcd_version to the running version or newer"
        )
        return (
            f"etcd_version {target} is older than the etcd that runs ({', '.join(sorted(set(map(str, newer.values()))))}): "
            f"the upgrade SOP does not downgrade; {instead}"
        )
    if not versions:
        return "no member reports its server version: the cluster version is unknown"
    lowest = min(versions.values())
    current = rules_of(lowest)
    if current is None:
        return f"the cluster runs etcd {lowest.minor_version}, which etcdkit does not support (it supports etcd {SUPPORTED})"
    if wanted.minor_version == lowest.minor_version:
        return None
    step = BY_NAME.get(lowest.next_minor())
    below = {name: version for name, version in versions.items() if current.floor and version < current.floor}
    first = current.floor if below else (step.floor if step else None)
    then = f"upgrade to {first} first (etcd_version={first}), then to {target}" if first else f"upgrade to {lowest.next_minor()} first"
    if wanted.minor > lowest.minor + 1:
        return (
            f"etcd_version {target} skips a minor version: the cluster runs {lowest.minor_version}, and etcd upgrades one "
            f"minor version at a time. {then[0].upper()}{then[1:]}"
        )
    if below:
        running_below = ", ".join(sorted({str(version) for version in below.values()}))
        return (
            f"every member must run etcd {current.floor} or later before the step to {wanted.minor_version}, and "
            f"{_members(below)} {running_below} ({current.floor_why}): {then}"
        )
    return None


def step_warnings(target: str, running: dict[str, str | None]) -> list[str]:
    """What to know about the minor step of this upgrade while it runs (the table's step_issues)."""
    wanted, versions = Version.parse(target), parsed(running)
    if wanted is None or not versions or min(versions.values()).minor_version == wanted.minor_version:
        return []
    rules = rules_of(wanted)
    return (
        [f"etcd {min(versions.values()).minor_version} -> {wanted.minor_version}: {issue}" for issue in rules.step_issues] if rules else []
    )


def needs_v2store_check(target: str, version: str | None) -> bool:
    """Whether a member running `version` must pass `etcdutl check v2store` before it steps to target."""
    wanted, current = Version.parse(target), Version.parse(version)
    rules = rules_of(wanted) if wanted else None
    return bool(wanted and rules and rules.v2store_check and current and current.minor_version != wanted.minor_version)


def dropped_keys(keys: Iterable[str], target: str, running: dict[str, str | None]) -> dict[str, str]:
    """The configuration keys (key -> the minor version that removed it) that a step from the lowest
    running version up to target leaves unread."""
    wanted, versions = Version.parse(target), parsed(running)
    if wanted is None or not versions:
        return {}
    lowest = min(versions.values())
    steps = [rules for rules in RULES if (lowest.major, lowest.minor) < rules.number <= (wanted.major, wanted.minor)]
    return {key: rules.name for key in keys for rules in steps if rules.drops(key)}


@dataclass(frozen=True)
class NewMemberVersion:
    """The etcd a new member gets, and why (for the preview); version None: refused, why says so."""

    version: str | None
    why: str


def new_member_version(running: dict[str, str | None], named: str | None) -> NewMemberVersion:
    """The version a member joining a cluster whose members run these versions gets: the one they
    run (the newest, while an upgrade is unfinished), unless etcd_version (named) names another one
    of a minor version the members run."""
    versions = parsed(running)
    if not versions:
        return NewMemberVersion(None, "no member reports its server version, so the version a new member needs is unknown")
    newest = max(versions.values())
    distinct = sorted(set(versions.values()))
    runs = (
        f"the version the cluster's members run ({newest})"
        if len(distinct) == 1
        else f"the newest of the versions the members run ({', '.join(map(str, distinct))}: an upgrade is unfinished)"
    )
    if named is None:
        return NewMemberVersion(str(newest), runs)
    wanted = Version.parse(named)
    if wanted is None:
        return NewMemberVersion(None, f"etcd_version {named!r} is not a version such as 3.5.16")
    minors = sorted({version.minor_version for version in distinct})
    if wanted.minor_version not in minors:
        return NewMemberVersion(
            None,
            f"etcd_version {named} is etcd {wanted.minor_version}, but the cluster runs {' and '.join(minors)}: a new member "
            f"joins on a minor version the cluster runs. Unset etcd_version (the new member then gets {runs}), or name a "
            f"{' or '.join(minors)} release; to move the cluster to {wanted.minor_version}, run the upgrade SOP first",
        )
    if wanted == newest and len(distinct) == 1:
        return NewMemberVersion(named, runs)
    return NewMemberVersion(named, f"etcd_version names it (the cluster runs {', '.join(map(str, distinct))}, the same minor version)")


def downgrade_problem(target: str, running: dict[str, str | None], enabled: str | None) -> str | None:
    """Why the downgrade SOP must not take members running these versions to target (enabled: the
    target minor version of a downgrade enabled on the cluster already). None: allowed, members at
    target already included."""
    wanted = Version.parse(target)
    if wanted is None:
        return f"etcd_version {target!r} is not a version such as 3.5.32"
    versions = parsed(running)
    if not versions:
        return "no member reports its server version: the cluster version is unknown"
    newest, lowest = max(versions.values()), min(versions.values())
    if newest <= wanted and lowest == wanted and enabled in (None, wanted.minor_version):
        return None  # every member runs target: nothing to do
    rules = rules_of(newest)
    if rules is None or rules_of(wanted) is None:
        return f"the cluster runs etcd {newest.minor_version} and etcd_version is {target}: etcdkit supports etcd {SUPPORTED}"
    if not rules.downgrades:
        return (
            f"the cluster runs etcd {newest.minor_version} ({', '.join(sorted({str(v) for v in versions.values()}))}): etcd has no "
            f"downgrade before 3.6 (`etcdctl downgrade` came with 3.6), its 3.5 -> 3.4 path by hand needs authentication off "
            f"and every user deleted, and an older binary cannot start on the data of a newer minor version (a 3.5 etcd on "
            f"3.6 data). To go back, restore a snapshot taken before the upgrade on members that run the older etcd: "
            f"bin/etcd-rm --destroy CLUSTER (with etcd_rm_pkg: true), then bin/etcd-restore FILE with etcd_version set to "
            f"the release its sidecar names"
        )
    if enabled is None and lowest.minor_version != newest.minor_version:
        return (
            f"members run etcd {lowest.minor_version} and {newest.minor_version} and no downgrade is enabled (an upgrade "
            f"was not finished, or a downgrade cancelled): finish the upgrade first (deploys/upgrade.py --data "
            f"etcd_version={newest}), then downgrade"
        )
    if enabled is not None and enabled != wanted.minor_version:
        return (
            f"a downgrade of the cluster to {enabled} is enabled already: finish it with etcd_version set to a {enabled} "
            f"release, or cancel it (etcdctl downgrade cancel) first"
        )
    if wanted.minor != newest.minor - 1 or wanted.major != newest.major:
        if (wanted.major, wanted.minor) >= (newest.major, newest.minor):
            return f"etcd_version {target} is not older than the etcd that runs ({newest}): that is the upgrade SOP's (deploys/upgrade.py)"
        return (
            f"etcd_version {target} is more than one minor version back from {newest.minor_version}: etcd downgrades one "
            f"minor version at a time (to a {newest.major}.{newest.minor - 1} release)"
        )
    rules = rules_of(wanted)
    floor = rules.floor if rules else None
    if rules and floor and wanted < floor:
        return (
            f"etcd_version {target} is below {floor}: during the downgrade {wanted.minor_version} and {newest.minor_version} "
            f"members run side by side, which etcd supports from {floor} on ({rules.floor_why}); downgrade to "
            f"{floor} or later (etcd_version={floor})"
        )
    return None


def offline_tool(version: str | None, etcdutl_installed: bool) -> str | None:
    """The tool of offline operations on a snapshot or data dir (snapshot restore, snapshot status):
    etcdutl, or etcdctl on an etcd 3.4 host without etcdutl (3.6 took them out of etcdctl). None:
    neither (an etcd 3.5+ host without etcdutl, or no etcd at all)."""
    if etcdutl_installed:
        return "etcdutl"
    parsed_version = Version.parse(version)
    rules = rules_of(parsed_version) if parsed_version else None
    return "etcdctl" if rules is not None and not rules.etcdutl else None


@dataclass(frozen=True)
class Advice:
    """What the table says of one server version: a reason to move, and the release to move to."""

    version: str
    reasons: tuple[str, ...]
    move_to: str | None  # the etcd_version that settles the reasons within its minor version; None: none does


def advice(version: str | None) -> Advice | None:
    """The table's advice for a member running this version; None: nothing to say."""
    current = Version.parse(version)
    rules = rules_of(current) if current else None
    if current is None or rules is None:
        return None
    reasons, targets = [], []
    if rules.floor and current < rules.floor:
        reasons.append(f"below {rules.floor}, the release every member needs before the step to {current.next_minor()}")
        targets.append(rules.floor)
    for issue in rules.known_issues:
        if issue.fixed_in is None or current < issue.fixed_in:
            fixed = (
                f" (fixed in {issue.fixed_in})"
                if issue.fixed_in
                else f" (no {rules.name} release fixes it: upgrade to {current.next_minor()})"
            )
            reasons.append(issue.what + fixed)
            if issue.fixed_in:
                targets.append(issue.fixed_in)
    if not reasons:
        return None
    return Advice(str(current), tuple(reasons), str(max(targets)) if targets else None)


# From these releases (CVE-2026-33413) etcd serves no call without a login while authentication is on:
# member list, endpoint status and alarm list included, which earlier releases answered anonymously;
# every later minor version too. Clients that list the members before they log in then fail: etcdctl's
# `--cluster` before 3.4.43, 3.5.29 and 3.6.10, Patroni before 4.1.1.
LOGIN_FOR_EVERY_CALL_FROM = {(3, 4): 42, (3, 5): 28, (3, 6): 9}


def login_for_every_call(version: str | None) -> bool:
    """Whether an etcd server of this version refuses the member list to a client that has not logged in."""
    current = Version.parse(version)
    if current is None:
        return False
    floor = LOGIN_FOR_EVERY_CALL_FROM.get((current.major, current.minor))
    return current.patch >= floor if floor is not None else (current.major, current.minor) > max(LOGIN_FOR_EVERY_CALL_FROM)
