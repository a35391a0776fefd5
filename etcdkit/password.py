"""Passwords of etcd users (root; the user of each PostgreSQL cluster's Patroni and vip-manager):
the inventory's value, or one generated once and kept.

A generated password lives in the cluster's PKI sub-folder (0600) and is reused by every later run,
so members, clients and the operator agree on it. There is never a well-known default.
"""

import secrets
from pathlib import Path

from etcdkit.pki import write_private

WELL_KNOWN = {"Etcd.Root"}


def password_file(cluster_dir: Path, user: str = "root") -> Path:
    return cluster_dir / f"{user}.password"


def root_password(configured: str | None, cluster_dir: Path) -> tuple[str, str | None]:
    """(password, notice): the notice tells the operator where a generated password was saved."""
    if configured in WELL_KNOWN:
        return configured, "etcd_root_password is the reference role's well-known default: set a strong one"
    return user_password(configured, cluster_dir, "root")


def user_password(configured: str | None, cluster_dir: Path, user: str) -> tuple[str, str | None]:
    """(password, notice) of an etcd user, as root_password."""
    if configured:
        return configured, None
    path = password_file(cluster_dir, user)
    if path.exists():
        return path.read_text().strip(), None
    password = secrets.token_urlsafe(24)
    write_private(path, password.encode())
    return password, f"generated the password of etcd user `{user}` and saved it in {path} (0600): keep it safe"
