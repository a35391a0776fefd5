"""A member's host as its facts describe it: whether its etcd runs, and whose etcd it is."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum

from etcdkit.model import paths

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


@dataclass(frozen=True)
class EtcdServiceState:
    """The etcd unit as systemd reports it (the EtcdService fact)."""

    active: str  # systemd's ActiveState
    enabled: str  # its UnitFileState
    pid: int  # its MainPID (0: not running)
    restart_pending: int  # the MainPID recorded when a restart became due (0: none)

    @property
    def restart_due(self) -> bool:
        """A restart was recorded for the running etcd, and it has not restarted since."""
        return bool(self.pid) and self.restart_pending == self.pid


@dataclass(frozen=True)
class HeldCertificates:
    """The PEM text of a member's certificate and of the CA it trusts, as its host holds them (read
    with the EtcdHost fact); None for a file that is missing."""

    cert: str | None  # paths.CERT
    ca: str | None  # paths.CA


@dataclass(frozen=True)
class OwnStatus:
    """What a member's running etcd says it is (`endpoint status` of its own endpoint)."""

    cluster_id: int
    member_id: int
    version: str | None = None  # its server version


@dataclass(frozen=True)
class FileStat:
    """A path on a host as `stat` reports it (without following a symbolic link)."""

    user: str
    group: str
    mode: int  # the permission bits' octal digits read as a number (644), as pyinfra's File fact gives them
    kind: str  # stat's file type: "regular file", "regular empty file", "directory", "symbolic link", ...

    def of_kind(self, kind: str) -> bool:
        """It is a file (kind "file") or a folder (kind "directory")."""
        return self.kind in (("regular file", "regular empty file") if kind == "file" else (kind,))

    def is_(self, kind: str, user: str, group: str, mode: str | int) -> bool:
        """It is a file (kind "file") or a folder (kind "directory") of this owner, group and mode."""
        return self.of_kind(kind) and (self.user, self.group, self.mode) == (user, group, int(mode))


@dataclass(frozen=True)
class EtcdHostState:
    """What a host holds of etcd, as the EtcdHost fact reads it; the defaults: a host without any of it."""

    version: str | None = None  # None: no etcd binary
    binary: str | None = None  # the etcd of the PATH
    package: str | None = None  # the package that installed it (None: a tarball, or copied by hand)
    package_manager: str | None = None
    unit: str | None = None  # the unit file systemd runs etcd from
    unit_etcdkit: str | None = None  # "yes": that file says etcdkit wrote it
    active: str | None = None  # systemd's ActiveState of etcd.service
    enabled: str | None = None
    pid: int = 0  # 0: not running
    restart_pending: int = 0  # the MainPID recorded when a restart became due (0: none)
    data: tuple[str, ...] | None = None  # the entries of the data dir (None: no data dir)
    listeners: int = 0  # sockets listening on the member's ports
    sha256: Mapping[str, str | None] = field(default_factory=dict)  # path -> digest of the managed files it holds
    files: Mapping[str, FileStat | None] = field(default_factory=dict)  # path -> its stat, None: absent (the paths asked about)
    own: OwnStatus | None = None  # what its running etcd says it is (None: no answer, or not asked)
    runs_binary: bool = False  # its running etcd runs the binary of the PATH as that file is now
    conf: str | None = None  # the text of its etcd.conf (None: none)
    pems: Mapping[str, str] = field(default_factory=dict)  # path -> text of the member's certificate and CA (missing: no file)

    @property
    def may_answer(self) -> bool:
        """Its etcd may say what it is: an etcd.conf is there and the unit is active (the EtcdHost
        script asks it only then)."""
        return self.conf is not None and self.active == "active"

    def with_own(self, own: OwnStatus) -> "EtcdHostState":
        """With what its running etcd says it is; the installed version is the one that etcd reports
        when it runs the binary as that file is now."""
        version = own.version if self.runs_binary and own.version else self.version
        return replace(self, own=own, version=version)

    @property
    def service(self) -> EtcdServiceState:
        return EtcdServiceState(self.active or "", self.enabled or "", self.pid, self.restart_pending)

    @property
    def certificates(self) -> HeldCertificates:
        return HeldCertificates(self.pems.get(paths.CERT), self.pems.get(paths.CA))

    def holds_file(self, path: str, sha256: str, user: str, group: str, mode: str | int) -> bool:
        """The host holds this content at path, as a file of this owner, group and mode."""
        stat = self.files.get(path)
        return stat is not None and stat.is_("file", user, group, mode) and self.sha256.get(path) == sha256

    def holds_folder(self, path: str, user: str, group: str, mode: str | int) -> bool:
        stat = self.files.get(path)
        return stat is not None and stat.is_("directory", user, group, mode)

    def lacks(self, path: str) -> bool:
        """The host was asked about the path, and holds nothing there."""
        return path in self.files and self.files[path] is None
