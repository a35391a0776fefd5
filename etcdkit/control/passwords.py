"""Passwords of etcd users (root; the user of each PostgreSQL cluster's Patroni and vip-manager):
the configured value (from the inventory, --data, or a file of the control node named by
`<key>_file`), or one generated once and kept in the cluster's PKI sub-folder (0600), so that
members, clients and the operator agree on it. There is never a well-known default.

A Secret is read when it is needed: a generated password exists only once the run that generates
it has executed, so plans and previews see None and say it will be generated.
"""

import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from etcdkit.control.pki import write_private
from etcdkit.model import values
from etcdkit.model.params import Password

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
            return Password(self.value)
        return self.stored

    def ensure(self) -> bool:
        """Generate the password if it is neither configured nor kept yet; True when written."""
        if self.read() is not None:
            return False
        write_private(self.path, secrets.token_urlsafe(24).encode())
        return True

    @property
    def stored(self) -> str | None:
        """The password kept in the file (None: no file)."""
        return Password(self.path.read_text().strip()) if self.path.exists() else None

    def store(self) -> bool:
        """Keep a configured password in the file too (the next run needs no --data); True when written."""
        if self.value is None or self.stored == self.value:
            return False
        write_private(self.path, self.value.encode())
        return True


def user_secret(configured: str | None, cluster_dir: Path, user: str) -> Secret:
    return Secret(cluster_dir / f"{user}.password", configured or None)


# password parameter -> the parameter naming a control-node file that holds it
FILES = {"etcd_root_password": "etcd_root_password_file", "pg_etcd_password": "pg_etcd_password_file"}


class PasswordFileError(ValueError):
    pass


def with_password_files(settings: dict) -> dict:
    """The settings, with each password that a file names read from it, so that no password need be
    on a command line; a problem is one line naming the key and the fix."""
    resolved = dict(settings)
    for key, file_key in FILES.items():
        path = settings.get(file_key)
        if path is None:
            continue
        if settings.get(key) is not None:
            raise PasswordFileError(f"{key} and {file_key} are both set: keep {file_key} and drop {key} (inventory or --data)")
        resolved[key] = read_password_file(file_key, path)
    return resolved


def read_password_file(file_key: str, path: str) -> Password:
    """The password in a file only its owner may read; its trailing newline is not part of it."""
    file = Path(path).expanduser()
    try:
        mode = stat.S_IMODE(file.stat().st_mode)
        if mode & 0o077:
            raise PasswordFileError(f"{file_key} {path} can be read by group or others (mode {mode:04o}): run chmod 600 {path}")
        text = file.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as error:
        raise PasswordFileError(f"{file_key} {path} cannot be read ({error.strerror}): name a file of the control node") from None
    except UnicodeDecodeError:
        raise PasswordFileError(f"{file_key} {path} is not UTF-8 text: write the password as text") from None
    if not text:
        raise PasswordFileError(f"{file_key} {path} is empty: write the password into it")
    problem = values.word(text)
    if problem:
        raise PasswordFileError(f"{file_key} {path}: the password {problem}")
    return Password(text)
