"""Passwords of etcd users (root; the user of each PostgreSQL cluster's Patroni and vip-manager):
the inventory's value, or one generated once and kept in the cluster's PKI sub-folder (0600), so
that members, clients and the operator agree on it. There is never a well-known default.

A Secret is read when it is needed: a generated password exists only once the run that generates
it has executed, so plans and previews see None and say it will be generated.
"""

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from etcdkit.control.pki import write_private

WELL_KNOWN = {"Etcd.Root"}


@dataclass(frozen=True)
class Secret:
    """A password: the inventory's value, else the file it is generated into."""

    path: Path
    value: str | None = field(default=None, repr=False)

    @property
    def generated(self) -> bool:
        return self.value is None

    def read(self) -> str | None:
        if self.value is not None:
            return self.value
        return self.path.read_text().strip() if self.path.exists() else None

    def ensure(self) -> bool:
        """Generate the password if it is neither configured nor kept yet; True when written."""
        if self.read() is not None:
            return False
        write_private(self.path, secrets.token_urlsafe(24).encode())
        return True

    @property
    def stored(self) -> str | None:
        """The password kept in the file (None: no file)."""
        return self.path.read_text().strip() if self.path.exists() else None

    def store(self) -> bool:
        """Keep a configured password in the file too (the next run needs no --data); True when written."""
        if self.value is None or self.stored == self.value:
            return False
        write_private(self.path, self.value.encode())
        return True


def user_secret(configured: str | None, cluster_dir: Path, user: str) -> Secret:
    return Secret(cluster_dir / f"{user}.password", configured or None)
