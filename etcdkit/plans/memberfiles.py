"""What a member gets (files rendered from the plan, files from the control node) and whether its
running etcd must restart for them, shared by every SOP that writes them. Pure functions.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from etcdkit.control.passwords import Secret, user_secret
from etcdkit.control.pki import CASource, CertRequest
from etcdkit.control.store import ControlWork, ca_source, cluster_folder
from etcdkit.model import paths
from etcdkit.model.cluster import ClusterView
from etcdkit.model.inventory import ClusterSpec, Member
from etcdkit.model.settings import Settings
from etcdkit.plans.gather import HostState
from etcdkit.remote.memberfiles import backup_files, etcd_conf, etcd_unit, etcdctl_env
from etcdkit.remote.render import initial_cluster, runtime_settings


@dataclass
class MemberPlan(HostState):
    """A member's host with the rendered files it gets and why its running etcd must restart."""

    files: dict[str, str] = field(default_factory=dict)
    restart_reason: str | None = None

    @classmethod
    def of(cls, host: HostState) -> "MemberPlan":
        return cls(host.member, host.settings, host.state, host.in_run)


def peer_name(cluster: str) -> str:
    """The name only member certificates carry (a DNS SAN): the members accept a peer only with it
    (peer `allowed-hostname`), so that no client certificate of the same CA can act as a peer."""
    return f"{cluster}.peers.etcd"


@dataclass(frozen=True)
class ClusterSecrets:
    """Where the CA, the certificates and the root password of a cluster are on the control node."""

    ca: CASource
    folder: Path
    root: Secret
    days: int

    @classmethod
    def of(cls, settings: Settings, cluster: str) -> "ClusterSecrets":
        folder = cluster_folder(settings, cluster)
        return cls(ca_source(settings), folder, user_secret(settings.etcd_root_password, folder, "root"), settings.etcd_cert_days)

    def member_certificate(self, member: Member) -> CertRequest:
        return CertRequest(self.folder, member.name, member.address, self.days, peer_name(member.cluster))

    def client_certificate(self, name: str) -> CertRequest:
        return CertRequest(self.folder, name, None, self.days)

    def work(self, certificates, now: datetime, passwords=(), rotating_root: bool = False) -> ControlWork:
        """The control node's work for these certificates, the admin certificate and the passwords
        (a root password being rotated is kept only once the cluster has taken it)."""
        requests = (*certificates, self.client_certificate("admin"))
        secrets = (*(() if rotating_root else (self.root,)), *passwords)
        return ControlWork(self.ca, now, requests, tuple(p for p in secrets if p.generated), tuple(p for p in secrets if not p.generated))

    def member_sources(self, member: Member) -> dict:
        """path on the member -> its source on the control node (read when the upload runs)."""
        request = self.member_certificate(member)
        return {paths.CA: self.ca.files[0], paths.CERT: request.cert_path, paths.KEY: request.key_path, paths.PASS: self.root}


@dataclass(frozen=True)
class Membership:
    """Who the members are, as etcd.conf and the etcdctl environment name them."""

    initial_cluster: str
    endpoints: str
    bcrypt_cost: int | None = None  # the cluster's (ClusterSpec.bcrypt_cost)

    @classmethod
    def of_inventory(cls, spec: ClusterSpec) -> "Membership":
        return cls(
            initial_cluster([(m.name, m.peer_url) for m in spec.members]),
            ",".join(sorted(m.client_url for m in spec.members)),
            spec.bcrypt_cost,
        )

    @classmethod
    def of_live_cluster(cls, view: ClusterView, spec: ClusterSpec, joining: Member | None = None) -> "Membership":
        """The live member list (plus a member about to join): unstarted members have no name
        yet, so the inventory names them by their peer URL."""
        names = {member.peer_url: member.name for member in spec.members}
        pairs = {m.peer_urls[0]: m.name or names.get(m.peer_urls[0], "") for m in view.members if m.peer_urls}
        endpoints = {url for m in view.members for url in m.client_urls}
        if joining is not None:
            pairs[joining.peer_url] = joining.name
            endpoints.add(joining.client_url)
        return cls(initial_cluster((name, url) for url, name in pairs.items() if name), ",".join(sorted(endpoints)), spec.bcrypt_cost)


def member_files(host: HostState, membership: Membership, token: str, initial_state: str) -> dict[str, str]:
    """The rendered files of a member: etcd.conf, the unit and the etcdctl environment, and with
    etcd_backup_schedule the script, service and timer of its scheduled backups."""
    member, settings = host.member, host.settings
    return {
        paths.CONF: etcd_conf(
            member, settings, membership.initial_cluster, token, initial_state, peer_name(member.cluster), membership.bcrypt_cost
        ),
        paths.UNIT: etcd_unit(member, bool(settings.etcd_tarball)),
        paths.ENV: etcdctl_env(member.cluster, membership.endpoints, paths.CA, paths.CERT, paths.KEY, paths.PASS),
        **(backup_files(member, settings) if settings.etcd_backup_schedule else {}),
    }


def restart_reason(host: HostState, files: dict[str, str], conf_only: bool = False) -> str | None:
    """Why the running etcd must restart to take these files (only etcd.conf with conf_only), or
    None: certificates and keys are re-read by etcd on each new connection, bootstrap-only lines of
    etcd.conf are never re-read, and a CA other than the members' is refused before (checks)."""
    changed = []
    if runtime_settings(host.conf_text) != runtime_settings(files[paths.CONF]):
        changed.append("etcd.conf")
    if not conf_only and changes_file(host, files, paths.UNIT):
        changed.append("the unit")
    return f"{' and '.join(changed)} changed" if changed else None


# The etcd.conf settings a parameter sets; the other differences are etcdkit's own choices.
CONF_PARAMS = {
    "heartbeat-interval": "etcd_heartbeat_interval",
    "election-timeout": "etcd_election_timeout",
    "quota-backend-bytes": "etcd_quota_backend_bytes",
    "auto-compaction-retention": "etcd_compaction_retention",
    "bcrypt-cost": "etcd_bcrypt_cost",
}


def setting_changes(current_conf: str | None, new_conf: str) -> list[str]:
    """The running settings that a new etcd.conf changes, adds or drops, each with the parameter
    that keeps it, for the preview: a site's own choices (Pigsty's log file, its 16 GiB quota) are
    seen before the restart. The TLS sections are not listed: they name etcdkit's own files."""
    old, new = runtime_settings(current_conf), runtime_settings(new_conf)
    if "unreadable" in old:
        return []
    changes = []
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before == after or isinstance(before, dict) or isinstance(after, dict):
            continue
        keep = f"{CONF_PARAMS[key]} keeps it" if key in CONF_PARAMS else "etcdkit does not set it" if after is None else "etcdkit's"
        changes.append(f"{key} {_shown(before)} -> {_shown(after)} ({keep})")
    return changes


def conf_warnings(plans) -> list[str]:
    """What the restarts change in the running members' settings, one line for the members that
    share the same changes."""
    by_changes: dict[tuple[str, ...], list[str]] = {}
    for plan in plans:
        if plan.restart_reason and "etcd.conf" in plan.restart_reason:
            changes = tuple(setting_changes(plan.conf_text, plan.files[paths.CONF]))
            if changes:
                by_changes.setdefault(changes, []).append(plan.member.host_name)
    return [f"{', '.join(names)}: etcd.conf changes {'; '.join(changes)}" for changes, names in by_changes.items()]


def _shown(value) -> str:
    return "unset" if value is None else json.dumps(value) if isinstance(value, list) else str(value)


def changes_file(host: HostState, files: dict[str, str], path: str) -> bool:
    """Whether the host gets another content for this file than it holds."""
    return host.digest(path) != _sha256(files[path])


def cluster_token(hosts) -> str | None:
    """The initial-cluster-token the members were bootstrapped with (their etcd.conf says it)."""
    return next(filter(None, (host.conf_value("initial-cluster-token") for host in hosts)), None)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
