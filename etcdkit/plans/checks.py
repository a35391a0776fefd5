"""Cluster checks the membership SOPs share. Each returns the problems that stop a change, each
worded with the reason and the fix (an empty list means the change is safe), or raises the Refusal
itself where the check alone stops the run.
"""

import hashlib
from collections.abc import Iterable
from pathlib import Path

from etcdkit.model import paths
from etcdkit.model.cluster import ClusterView, LiveMember, quorum, size_text
from etcdkit.model.refusals import Problem, Refusal
from etcdkit.model.settings import Settings
from etcdkit.plans.gather import ControlState, HostState
from etcdkit.remote.render import runtime_settings


def answering(view: ClusterView | None, cluster: str, code: str, refused: str) -> ClusterView:
    """The live cluster; refused with `code` when no member answers (refused: "cannot back up")."""
    if view is None:
        raise Refusal(
            code, f"{refused}: no member of cluster `{cluster}` answers", fix="Start its members (systemctl start etcd) or create it first"
        )
    return view


def healthy(view: ClusterView, ignoring: LiveMember | None = None) -> list[Problem]:
    """Every member serves and there is one leader; `ignoring` is the member being changed."""
    return [
        Problem("cluster.unhealthy", f"the cluster is not healthy: {p}") for p in view.health_problems(ignoring.id if ignoring else None)
    ]


def nothing_pending(view: ClusterView, allowed: LiveMember | None = None) -> list[Problem]:
    """No learner or unstarted member is waiting, except `allowed` (the member being changed):
    etcd allows one learner, and a pending entry means an unfinished join."""
    return [
        Problem(
            "cluster.pending",
            f"member {member.describe()} is pending (an unfinished join): finish it with the join SOP "
            f"for its host, or remove it with the remove SOP (bin/etcd-rm {_address(member)})",
        )
        for member in view.pending
        if allowed is None or member.id != allowed.id
    ]


def quorum_after(voters_after: int, healthy_after: int) -> list[Problem]:
    """After the change, the healthy voters must still be a quorum of the voters."""
    needed = quorum(voters_after)
    if healthy_after >= needed:
        return []
    return [
        Problem(
            "cluster.quorum",
            f"after the change {healthy_after} of {voters_after} voting members would be healthy, "
            f"fewer than the quorum of {needed}: bring the failed members back first",
        )
    ]


def restart_allowed(plans: Iterable, view: ClusterView) -> None:
    """Members that must restart (plans with a restart_reason) restart only in a healthy cluster."""
    restarts = [plan for plan in plans if plan.restart_reason]
    if restarts and view.health_problems():
        raise Refusal(
            "restart.unhealthy",
            view.health_problems(),
            f"{', '.join(p.member.host_name for p in restarts)} need a restart "
            f"({'; '.join(sorted({p.restart_reason for p in restarts}))}), but the cluster is not healthy",
        )


def quota_fits(plans: Iterable, view: ClusterView) -> None:
    """A member whose etcd.conf gets a smaller quota than its database already takes would raise
    NOSPACE when it restarts and refuse every write: refused before any change."""
    problems = []
    for plan in plans:
        live = view.by_peer_url(plan.member.peer_url) if plan.restart_reason else None
        status = view.status_of(live) if live else None
        size = status.db_size if status else None
        quota = runtime_settings(plan.files[paths.CONF]).get("quota-backend-bytes")
        current = runtime_settings(plan.conf_text).get("quota-backend-bytes")
        if size and isinstance(quota, int) and quota < size and quota != current:
            problems.append(
                f"{plan.member.host_name}: its database takes {size_text(size)}, more than etcd_quota_backend_bytes={quota} "
                f"({size_text(quota)}): on its restart etcd would raise NOSPACE and refuse every write. Set "
                f"etcd_quota_backend_bytes to at least {size} (its etcd.conf has {current}), "
                "or shrink the database first (deploys/maintain.py)"
            )
    if problems:
        raise Refusal("restart.quota", problems, "the new quota is below the data")


def control_node_matches(
    control: ControlState, running: list[HostState], cluster: str, settings: Settings, may_rotate: bool = False, new_ca: bool = False
) -> bool:
    """Members already run: the control node must hold the CA and the root password they were
    given, or it would hand them a CA their running peers reject, or lock etcdctl out (new_ca: the
    CA rotation, which brings the members to the control node's CA step by step). True when the
    root password is to be rotated: etcd_root_password is set to a new one (may_rotate: only
    create rotates), or a rotation was interrupted (the control node keeps the new one)."""
    if not running:
        return False
    names, pki = ", ".join(h.member.host_name for h in running), settings.etcd_pki_dir
    fix = (
        f"Copy the PKI folder ({pki}/) of the control node that created the cluster here, "
        "or point etcd_ca_cert/etcd_ca_key at its CA and set etcd_root_password_file to a file holding its root password (docs/control-node.md)"
    )
    if control.ca_pem is None:
        raise Refusal(
            "control.no_ca",
            f"cluster `{cluster}` runs on {names}, but the control node has no CA in {pki}/ (a fresh clone or another admin machine?)",
            fix=fix,
        )
    ca_sha = hashlib.sha256(control.ca_pem.encode()).hexdigest()
    other_ca = [] if new_ca else [h.member.host_name for h in running if h.digest(paths.CA) not in (None, ca_sha)]
    if other_ca:
        raise Refusal(
            "control.other_ca",
            f"the control node's CA is not the one {', '.join(other_ca)} hold (another control node's pki/, or a new etcd_ca_cert?)",
            "members given it would be rejected by their running peers",
            f"{fix}. To move the cluster to a new CA, or to finish such a move, run deploys/rotate_ca.py (docs/control-node.md)",
        )
    held = {h.digest(paths.PASS) for h in running} - {None}
    if not held or held == {control.root_sha}:
        return False
    if control.root_sha is not None and (control.root_configured or control.root_sha in held):
        if may_rotate:
            return True
        raise Refusal(
            "control.root_changing",
            f"the root password of cluster `{cluster}` is being changed",
            fix="Finish with the create SOP (deploys/create.py, same new root password) first",
        )
    if control.root_sha is None:
        raise Refusal(
            "control.no_root",
            f"cluster `{cluster}` runs on {names}, but the control node has no root password for it ({pki}/{cluster}/root.password)",
            fix=fix,
        )
    raise Refusal(
        "control.other_root",
        f"the root password in {pki}/{cluster}/root.password is not the one in /etc/etcd/etcd.pass of {names}",
        fix=fix,
    )


def _address(member: LiveMember) -> str:
    url = member.peer_urls[0] if member.peer_urls else ""
    return url.split("//")[-1].rsplit(":", 1)[0]


def tarballs(hosts: Iterable[HostState]) -> None:
    """A release tarball must exist on the control node and match its checksum before anything runs."""
    for tarball, expected in {(h.settings.etcd_tarball, h.settings.etcd_tarball_sha256) for h in hosts}:
        if not tarball:
            continue
        path = Path(tarball).expanduser()
        if not path.is_file():
            raise Refusal("tarball.missing", f"etcd_tarball {path} does not exist on the control node")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != (expected or "").lower():
            raise Refusal("tarball.checksum", f"etcd_tarball {path} has SHA-256 {digest}, not {expected}: refusing it")
