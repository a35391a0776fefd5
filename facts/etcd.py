"""Facts about etcd on a host and about the live cluster, each gathered in one round trip."""

import json

from pyinfra.api import FactBase

from etcdkit.model.auth import AuthState, UserState
from etcdkit.model.cluster import Alarm, ClusterView, MemberMetrics
from etcdkit.model.data import DatabaseStatus, V2StoreCheck
from etcdkit.model.host import EtcdHostState, EtcdServiceState, FileStat, OwnStatus
from etcdkit.remote import auth, etcdctl, files
from etcdkit.remote import host as host_commands
from etcdkit.remote.recovery import database_status, metrics


class EtcdHost(FactBase):
    """
    What a host holds of etcd (etcdkit.model.host.EtcdHostState): the binary and the package it comes
    from, the unit's state and file, the data dir, the managed files' checksums, the restart marker,
    what its running etcd says it is and the current etcd.conf; the owner, group, mode and type of
    the managed files, of the config and data dirs and of the paths of `also`, so that the
    operations that write them need no round trip of their own (etcdkit.operations.known); the text
    of the member's certificate and CA (etcd-status and the CA rotation read their expiry and issuer).

    + data_dir: the member's data dir (etcd_data)
    + ports: the client and peer ports, to find instances that are not ours
    + also: more paths to report (the scheduled backups' folder and metric file)
    + own: ask the running etcd what it is (`own`); without, the run takes that from the cluster view
      (etcdkit.plans.gather.read_hosts), and the version of a binary that runs is left out

    .. code:: python

        EtcdHostState(
            version="3.5.16",  # None: no etcd binary
            binary="/usr/bin/etcd",  # the etcd of the PATH; None: none
            package="etcd-server",  # the package that installed it; None: none (a tarball, or copied by hand)
            package_manager="apt-get",
            active="active", enabled="enabled", pid=1234,
            unit="/etc/systemd/system/etcd.service",  # the unit file systemd runs etcd from; None: none
            unit_etcdkit="yes",  # that file says etcdkit wrote it; None: it does not
            restart_pending=1234,  # MainPID recorded when a restart became due
            data=("member",),  # entries of the data dir; None: no data dir
            listeners=2,  # sockets listening on the ports
            sha256={"/etc/etcd/etcd.conf": "..."},
            files={"/etc/etcd/etcd.conf": FileStat("root", "etcd", 644, "regular file"), "/etc/etcd/backup.sh": None},
            own=OwnStatus(cluster_id=1, member_id=2),  # what its running etcd says it is; None: no answer (or not asked)
            runs_binary=True,  # its running etcd runs the binary as that file is now
            conf="name: etcd-1\\n...",  # None: no etcd.conf
            pems={"/etc/etcd/server.crt": "-----BEGIN CERTIFICATE-----\\n...", "/etc/etcd/ca.crt": "..."},
        )
    """

    TEXT = ("version", "binary", "package", "package_manager", "unit", "unit_etcdkit", "active", "enabled", "conf")
    NUMBERS = ("pid", "restart_pending", "listeners")

    def command(self, data_dir: str, ports: tuple[int, int], also: tuple[str, ...] = (), own: bool = True):
        return host_commands.etcd_host(data_dir, ports, also=tuple(also), own=own)

    def process(self, output) -> EtcdHostState:
        found: dict = {}
        sha256 = {}
        files: dict[str, FileStat | None] = {}
        pems: dict[str, str] = {}
        lines = list(output)
        while lines:
            line = lines.pop(0)
            if line == "conf<<":
                found["conf"] = "\n".join(lines) + "\n"
                break
            key, _, value = line.partition("=")
            if key == "self":
                found["own"] = _own_status(value)
            elif key == "sha256":
                digest, _, path = value.partition("  ")
                sha256[path] = digest
            elif key == "stat":
                user, group, mode, kind, path = value.split(":", 4)
                files[path] = FileStat(user, group, int(mode) if mode.isdigit() else -1, kind)
            elif key == "absent":
                files[value] = None
            elif key == "pem":
                path, _, text = value.partition(":")
                pems[path] = pems.get(path, "") + text + "\n"
            elif key == "binary_runs":
                found["runs_binary"] = value == "yes"
            elif key == "data":
                found["data"] = tuple(value.split())
            elif key in self.NUMBERS:
                found[key] = int(value) if value.strip().isdigit() else 0
            elif key in self.TEXT:
                found[key] = value or None
        state = EtcdHostState(sha256=sha256, files=files, pems=pems, **found)
        return state.with_own(state.own) if state.own else state


class HostFiles(FactBase):
    """
    The owner, group, mode and type of each path (None: absent) and the SHA-256 of the regular
    files among them, as an EtcdHostState whose `files` and `sha256` alone are filled in: the part
    of EtcdHost that the operations writing files read again once the host changed.

    + paths: the files and folders to report
    """

    def command(self, paths: tuple[str, ...]):
        return files.states(tuple(paths))

    def process(self, output) -> EtcdHostState:
        return EtcdHost().process(output)


def _own_status(text: str) -> OwnStatus | None:
    """The cluster and member IDs and the server version from `endpoint status -w json` of a member's own endpoint."""
    try:
        status = json.loads(text)[0]["Status"]
        header = status["header"]
        return OwnStatus(int(header["cluster_id"]), int(header["member_id"]), str(status.get("version") or "") or None)
    except (ValueError, LookupError, TypeError):
        return None


def _view_sections(output) -> dict[str, str]:
    """The sections of a cluster view's output (etcdctl.cluster_view), its AUTH section included."""
    return sections(output, (*etcdctl.VIEW, *etcdctl.HEALTH, etcdctl.AUTH))


def _view(found: dict[str, str]) -> ClusterView | None:
    return ClusterView.parse(found.get("members", ""), found.get("status", ""), found.get("health", ""))


def sections(output, names: tuple[str, ...]) -> dict[str, str]:
    """The first line after each section's name (side_by_side's output)."""
    found, current = {}, None
    for line in output:
        if line in names:
            current = line
        elif current and line.strip() and current not in found:
            found[current] = line
    return found


class EtcdCluster(FactBase):
    """
    The live cluster as seen through one endpoint: member list, each endpoint's status and health.
    None when the endpoint does not answer.

    + endpoint: client URL to ask (usually the member's own)
    """

    def command(self, endpoint: str):
        return etcdctl.cluster_view(endpoint)

    def process(self, output):
        return _view(_view_sections(output))


class EtcdClusterAuth(FactBase):
    """
    EtcdCluster, and what EtcdAuth finds out through the same endpoint, in one round trip and without
    a login of its own: root logs in when the member list, asked with the password of
    /etc/etcd/etcd.pass, answers; a request without credentials tells whether authentication is off.
    (None, None) when the endpoint does not answer (EtcdAuth then tells whether it refuses root).

    + endpoint: client URL to ask
    """

    def command(self, endpoint: str):
        return etcdctl.cluster_view(endpoint, auth=True)

    @staticmethod
    def default() -> tuple[ClusterView | None, AuthState | None]:
        return None, None

    def process(self, output) -> tuple[ClusterView | None, AuthState | None]:
        found = _view_sections(output)
        view = _view(found)
        if view is None:
            return None, None
        auth_words = found.get(etcdctl.AUTH, "").split()
        return view, AuthState(anonymous="served" in auth_words, root="password" in auth_words)


class EtcdMembership(FactBase):
    """
    The member list and each answering endpoint's status (leader, raft index) through the given
    endpoints, without the health checks of EtcdCluster: quick enough to poll. None when no
    endpoint answers.

    + endpoint: client URLs to ask, comma-separated
    """

    def command(self, endpoint: str):
        return etcdctl.membership_view(endpoint)

    def process(self, output):
        found = sections(output, tuple(etcdctl.VIEW))
        return ClusterView.parse(found.get("members", ""), found.get("status", ""), "")


class EtcdVersion(FactBase):
    """The installed etcd server version, e.g. "3.5.16"; None when there is no etcd binary."""

    def command(self):
        return host_commands.version()

    def process(self, output):
        return output[0].strip() if output and output[0].strip() else None


class EtcdV2Store(FactBase):
    """
    What `etcdutl check v2store` says of a member's data dir before its step to etcd 3.6, which no
    longer reads the v2 store and cannot start on one that holds more than membership data (nor
    replay such v2 requests from the WAL). The check reads the data dir of the running member: it
    opens the WAL read-only (no lock, a partly written last record allowed), and etcdkit never enables
    the v2 API, so nothing it checks is written meanwhile. None: no etcdutl on the host.

    + data_dir: the member's data dir (etcd_data)

    .. code:: python

        V2StoreCheck(passed=True, output="No custom content found in both v2store and WAL records.")
    """

    def command(self, data_dir: str):
        return host_commands.v2store_check(data_dir)

    def process(self, output) -> V2StoreCheck | None:
        lines = [line for line in output if line.strip()]
        if not lines or lines[0] not in ("passed", "failed"):
            return None
        return V2StoreCheck(lines[0] == "passed", "\n".join(lines[1:]))


class EtcdctlVersion(FactBase):
    """The installed etcdctl's version, e.g. "3.5.30"; None when there is no etcdctl."""

    def command(self):
        return host_commands.etcdctl_version()

    def process(self, output):
        return output[0].strip() if output and output[0].strip() else None


class EtcdService(FactBase):
    """
    The etcd unit (etcdkit.model.host.EtcdServiceState): active and enabled state, MainPID (0: not
    running), and the MainPID recorded when a restart became due (0: none).
    """

    def command(self):
        return host_commands.service_state()

    def process(self, output) -> EtcdServiceState:
        active, enabled, pid, pending = (list(output) + ["", "", "0", "0"])[:4]
        number = lambda text: int(text) if text.strip().isdigit() else 0  # noqa: E731
        return EtcdServiceState(active, enabled, number(pid), number(pending))


class EtcdAuth(FactBase):
    """
    What authentication does, checked by behaviour (etcd 3.4 has no `auth status`), as an
    etcdkit.model.auth.AuthState: anonymous when a request without credentials is served (auth
    disabled), root when root logs in with the password of /etc/etcd/etcd.pass, refused when the
    member answers but refuses that password. All False: the member does not answer (yet).

    + endpoint: client URL to ask
    """

    def command(self, endpoint: str):
        return auth.state(endpoint)

    @staticmethod
    def default() -> AuthState:
        return AuthState()

    def process(self, output) -> AuthState:
        return AuthState(*(key in output for key in ("anonymous", "root", "refused")))


class EtcdUser(FactBase):
    """
    What is in place of an etcd user limited to a key prefix: the user, its role of the same name
    with readwrite on the prefix, the grant, and a login with the password in password_file.

    + endpoint: client URL to ask
    + user: the user and role name
    + prefix: the key prefix of the role
    + password_file: the user's password on this host

    .. code:: python

        UserState(user=True, permission=True, role=True, login=True)
    """

    def command(self, endpoint: str, user: str, prefix: str, password_file: str):
        return auth.user_state(endpoint, user, prefix, password_file)

    @staticmethod
    def default() -> UserState:
        return UserState()

    def process(self, output) -> UserState:
        return UserState(*(key in output for key in ("user", "permission", "role", "login")))


class EtcdCompacted(FactBase):
    """
    Whether the history before `revision` is compacted already: etcdctl does not report the
    compacted revision, but a read at revision - 1 is then refused as compacted. False when the
    read works (or the member does not answer).

    + endpoint: client URL to ask
    + revision: the revision a compaction would keep the history from (>= 2)
    """

    def command(self, endpoint: str, revision: int):
        return etcdctl.compacted(endpoint, int(revision) - 1)

    @staticmethod
    def default():
        return False

    def process(self, output):
        return any("required revision has been compacted" in line for line in output)


ALARM_NAMES = {0: "NONE", 1: "NOSPACE", 2: "CORRUPT"}


class EtcdAlarms(FactBase):
    """
    The cluster's active alarms, from `etcdctl alarm list -w json` through one endpoint: a tuple of
    Alarm(member_id, alarm="NOSPACE" | "CORRUPT" | ...), empty when there is none; None when the
    endpoint does not answer.

    + endpoint: client URL to ask
    """

    def command(self, endpoint: str):
        return etcdctl.alarms(endpoint)

    def process(self, output):
        text = next((line for line in output if line.strip().startswith("{")), "")
        return parse_alarms(text)


def parse_alarms(text: str) -> tuple[Alarm, ...] | None:
    """The alarms of an `alarm list -w json` answer (etcdctl prints the alarm type as a number and
    leaves out an empty list; etcd 3.4's leaves out the header too: `{}`); None when the text is not
    such an answer (etcdctl failed and printed nothing)."""
    try:
        answer = json.loads(text)
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    alarms = []
    for entry in answer.get("alarms") or []:
        kind = entry.get("alarm", 0)
        name = ALARM_NAMES.get(kind, str(kind)) if isinstance(kind, int) else str(kind)
        if name != "NONE":
            alarms.append(Alarm(int(entry.get("memberID", 0)), name))
    return tuple(alarms)


class EtcdMetrics(FactBase):
    """
    What members say of themselves in their metrics (`/metrics` on their client ports, over TLS
    with this host's member certificate), asked side by side from this host: a member without
    quorum that served before still serves them, while etcd 3.5's `endpoint status` wants a login,
    and logging in needs quorum. A member that started without quorum (etcd 3.4 and 3.5 serve their
    client port only once they have one) and a member this host cannot reach are left out.

    + endpoints: client URLs to ask (the member's own and its peers')

    .. code:: python

        {"https://10.10.10.11:2379": MemberMetrics(member_id=2, leader=0, applied_index=2410, raft_index=2411, revision=1200)}
    """

    def command(self, endpoints: tuple[str, ...]):
        return etcdctl.side_by_side({f"endpoint {url}": metrics(url) for url in endpoints})

    def process(self, output):
        lines: dict[str, list[str]] = {}
        current = None
        for line in output:
            if line.startswith("endpoint "):
                current = lines.setdefault(line[len("endpoint ") :], [])
            elif current is not None:
                current.append(line)
        found = {url: parse_metrics(text) for url, text in lines.items()}
        return {url: status for url, status in found.items() if status is not None}


def parse_metrics(lines) -> MemberMetrics | None:
    """What a member's metrics lines say of it; None when they are not a member's."""
    values = {}
    for line in lines:
        name, _, value = line.strip().rpartition(" ")
        metric, _, labels = name.partition("{")
        if metric == "etcd_server_id":
            values[metric] = labels.partition('"')[2].partition('"')[0]
        else:
            values[metric] = value
    try:
        revision = values.get("etcd_debugging_mvcc_current_revision")
        return MemberMetrics(
            member_id=int(values["etcd_server_id"], 16),
            leader=int(float(values["etcd_server_has_leader"])),
            applied_index=int(float(values["etcd_server_proposals_applied_total"])),
            raft_index=int(float(values["etcd_server_proposals_committed_total"])),
            revision=int(float(revision)) if revision is not None else None,
        )
    except (KeyError, ValueError):
        return None


class EtcdDatabase(FactBase):
    """
    What a member's database holds, read offline (without starting etcd, and without touching the
    live file: a copy is read, see etcdkit.remote.recovery.database_status): its revision, keys and
    size; DatabaseStatus(error=why) when it cannot be read; None when there is no database.

    + data_dir: the member's data dir (etcd_data)
    + tool: etcdutl, or etcdctl on an etcd 3.4 host without it (etcdkit.model.versions.offline_tool)

    .. code:: python

        DatabaseStatus(revision=1200, keys=310, size=20480)
    """

    def command(self, data_dir: str, tool: str):
        return database_status(data_dir, tool)

    def process(self, output) -> DatabaseStatus | None:
        for line in output:
            key, _, value = line.partition("=")
            if key == "error":
                return DatabaseStatus(error=value.strip() or "no reason given")
            if key == "status":
                try:
                    status = json.loads(value)
                    return DatabaseStatus(int(status["revision"]), int(status["totalKey"]), int(status["totalSize"]))
                except (ValueError, LookupError, TypeError):
                    return DatabaseStatus(error=f"unexpected snapshot status: {value.strip()[:200]}")
        return None
