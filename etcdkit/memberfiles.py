"""The files a member gets (certificates, password, etcd.conf, unit, etcdctl environment), and the
membership they describe, shared by every SOP that writes them.
"""

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from pyinfra import logger

from etcdkit import paths
from etcdkit.cluster import ClusterView
from etcdkit.discovery import HostState
from etcdkit.inventory import ClusterSpec, Member
from etcdkit.password import root_password
from etcdkit.pki import CertificateAuthority
from etcdkit.render import initial_cluster, render, runtime_settings


@dataclass
class HostPlan(HostState):
    """A member's host with the files it gets and why its running etcd must restart for them."""

    files: dict[str, str] = field(default_factory=dict)
    restart_reason: str | None = None


@dataclass(frozen=True)
class ClusterSecrets:
    """The CA, the root password and the cluster's PKI sub-folder on the control node."""

    ca: CertificateAuthority
    password: str
    folder: Path


def cluster_secrets(settings: dict, cluster: str) -> ClusterSecrets:
    pki_dir = Path(settings["etcd_pki_dir"]).expanduser()
    ca = CertificateAuthority.load_or_create(pki_dir, settings["etcd_ca_cert"], settings["etcd_ca_key"])
    ca.client_certificate(pki_dir / cluster, "admin", settings["etcd_cert_days"])
    password, notice = root_password(settings["etcd_root_password"], pki_dir / cluster)
    if notice:
        logger.warning(notice)
    return ClusterSecrets(ca, password, pki_dir / cluster)


@dataclass(frozen=True)
class Membership:
    """Who the members are, as etcd.conf and the etcdctl environment name them."""

    initial_cluster: str
    endpoints: str

    @classmethod
    def of_inventory(cls, spec: ClusterSpec) -> "Membership":
        return cls(
            initial_cluster([(m.name, m.peer_url) for m in spec.members]),
            ",".join(sorted(m.client_url for m in spec.members)),
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
        return cls(initial_cluster((name, url) for url, name in pairs.items() if name), ",".join(sorted(endpoints)))


def member_files(host: HostState, secrets: ClusterSecrets, membership: Membership, token: str, initial_state: str) -> dict[str, str]:
    member, settings = host.member, host.settings
    certificate, key = secrets.ca.member_certificate(secrets.folder, member.name, member.address, settings["etcd_cert_days"])
    conf = render(
        "etcd.conf.j2",
        member=member,
        data_dir=settings["etcd_data"],
        initial_cluster=membership.initial_cluster,
        token=token,
        initial_state=initial_state,
        heartbeat_interval=settings["etcd_heartbeat_interval"],
        election_timeout=settings["etcd_election_timeout"],
        quota_backend_bytes=settings["etcd_quota_backend_bytes"],
        compaction_retention=settings["etcd_compaction_retention"],
    )
    binary = "/usr/local/bin/etcd" if settings["etcd_tarball"] else "/usr/bin/etcd"
    return {
        paths.CA: secrets.ca.cert_pem,
        paths.CERT: certificate,
        paths.KEY: key,
        paths.PASS: secrets.password,
        paths.CONF: conf,
        paths.UNIT: render("etcd.service.j2", member=member, etcd_binary=binary),
        paths.ENV: etcdctl_env(member.cluster, membership.endpoints, paths.CA, paths.CERT, paths.KEY, paths.PASS),
    }


def etcdctl_env(cluster: str, endpoints: str, ca: str, cert: str, key: str, password_file: str) -> str:
    """/etc/profile.d/etcdctl.sh: etcdctl as root against the members, for whoever logs in as root."""
    return render("etcdctl.sh.j2", cluster=cluster, endpoints=endpoints, ca=ca, cert=cert, key=key, password_file=password_file)


def restart_reason(host: HostState, files: dict[str, str], conf_only: bool = False) -> str | None:
    """Why the running etcd must restart to take these files (only etcd.conf with conf_only), or
    None: certificates and keys are re-read by etcd on each new connection, bootstrap-only lines of
    etcd.conf are never re-read."""
    current = host.state["sha256"]
    changed = [
        label
        for label, path in (("the unit", paths.UNIT), ("the CA", paths.CA))
        if not conf_only and current.get(path) != hashlib.sha256(files[path].encode()).hexdigest()
    ]
    if runtime_settings(host.state["conf"]) != runtime_settings(files[paths.CONF]):
        changed.insert(0, "etcd.conf")
    return f"{' and '.join(changed)} changed" if changed else None


def cluster_token(hosts) -> str | None:
    """The initial-cluster-token the members were bootstrapped with (their etcd.conf says it)."""
    return next(filter(None, (host.conf_value("initial-cluster-token") for host in hosts)), None)
