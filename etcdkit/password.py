"""The etcd root password: the inventory's etcd_root_password, or one generated once and kept.

A generated password lives in the cluster's PKI sub-folder (0600) and is reused by every later run,
so members, clients and the operator agree on it. There is never a well-known default.
"""

import secrets
from pathlib import Path

from etcdkit.pki import write_private

WELL_KNOWN = {"Etcd.Root"}


def password_file(cluster_dir: Path) -> Path:
    return cluster_dir / "root.password"


def root_password(configured: str | None, cluster_dir: Path) -> tuple[str, str | None]:
    """(password, notice): the notice tells the operator where a generated password was saved."""
    if configured:
        notice = None
        if configured in WELL_KNOWN:
            notice = "etcd_root_password is the reference role's well-known default: set a strong one"
        return configured, notice
    path = password_file(cluster_dir)
    if path.exists():
        return path.read_text().strip(), None
    password = secrets.token_urlsafe(24)
    write_private(path, password.encode())
    return password, f"generated the etcd root password and saved it in {path} (0600): keep it safe"
