"""What a parameter's value may be, checked before any host is touched.

Values end up in shell commands, in YAML files and in paths that SOPs create or delete: each check
returns the problem ("must be ...", with the fix) or None. Names must match as a whole (no
trailing newline slips through), paths are absolute and normalised and never a system tree,
numbers stay in sane ranges.
"""

import os
import re
from collections.abc import Callable
from typing import Any

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
UNIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9@_.:-]*")
USER = re.compile(r"[a-z_][a-z0-9_-]*")
PACKAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+_:=~-]*")
# etcd's periodic retention: hours as a number ("24"), or a Go duration ("24h", "1h30m", "90m")
RETENTION = re.compile(r"\d+|(?=\d)(\d+h)?(\d+m)?(\d+s)?")
ETCD_VERSION = re.compile(r"\d+\.\d+\.\d+")
SHA256 = re.compile(r"[0-9a-fA-F]{64}")
# systemd's OnCalendar, on one line of the characters its syntax uses ("daily", "Mon..Fri *-*-* 02:30:00", "*:0/15")
CALENDAR = re.compile(r"[A-Za-z0-9*~:/.,+-]+( [A-Za-z0-9*~:/.,+-]+)*")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Folders a data directory may never be (deleting one would take the system or other data with it).
SYSTEM_TREES = {
    "/", "/bin", "/boot", "/data", "/dev", "/etc", "/home", "/lib", "/lib64", "/media", "/mnt", "/opt", "/proc",
    "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/local", "/var", "/var/backups", "/var/lib", "/var/log",
    "/var/tmp",
}  # fmt: skip
# Names etcdkit gives client certificates and users of its own.
RESERVED_USERS = {"root", "admin", "monitor"}


def name(value: str) -> str | None:
    if not NAME.fullmatch(value) or len(value) > 63:
        return "must be letters, digits, '.', '_' or '-' (at most 63, starting with a letter or digit)"
    return None


def absolute_path(value: str) -> str | None:
    if CONTROL.search(value):
        return "must not hold control characters (a newline?)"
    if not value.startswith("/") or os.path.normpath(value) != value or "/../" in f"{value}/":
        return f"must be an absolute, normalised path (e.g. {os.path.normpath('/' + value.strip('/'))})"
    return None


def data_dir(value: str) -> str | None:
    problem = absolute_path(value)
    if problem:
        return problem
    if value in SYSTEM_TREES:
        return "is a system folder: give etcd a folder of its own, e.g. /data/etcd"
    return None


def overlap(path: str, other: str) -> str | None:
    """How the folder `path` meets the folder `other` (both absolute and normalised): "is",
    "contains" or "lies inside"; None when neither holds the other."""
    if path == other:
        return "is"
    if other.startswith(path.rstrip("/") + "/"):
        return "contains"
    if path.startswith(other.rstrip("/") + "/"):
        return "lies inside"
    return None


def calendar(value: str) -> str | None:
    if not CALENDAR.fullmatch(value) or len(value) > 100:
        return "must be one line of systemd's OnCalendar syntax, single spaces between words (e.g. daily, or '*-*-* 02:30:00')"
    return None


def word(value: str) -> str | None:
    if not value or re.search(r"\s", value) or CONTROL.search(value):
        return "must be non-empty, without whitespace or control characters (etcdctl reads it as one word)"
    return None


def in_range(low: int, high: int, unit: str = "") -> Callable[[int], str | None]:
    def check(value: int) -> str | None:
        return None if low <= value <= high else f"must be between {low} and {high}{unit}"

    return check


def matches(pattern: re.Pattern, example: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if pattern.fullmatch(value) else f"is not valid here (e.g. {example})"

    return check


def each(check: Callable[[Any], str | None]) -> Callable[[list], str | None]:
    def check_all(values: list) -> str | None:
        return next((f"{item!r} {problem}" for item in values for problem in [check(str(item))] if problem), None)

    return check_all


def link(value: str) -> str | None:
    if not value or re.search(r"\s", value) or CONTROL.search(value):
        return "must be a non-empty path or URL, without whitespace or control characters"
    return None


def no_control_characters(value: str) -> str | None:
    return "must not hold control characters (a newline?)" if CONTROL.search(value) else None


CHECKS: dict[str, Callable[[Any], str | None]] = {
    "etcd_cluster": name,
    "etcd_restore_from": name,
    "etcd_rotate_skip": each(word),
    "etcd_data": data_dir,
    "etcd_port": in_range(1, 65535),
    "etcd_peer_port": in_range(1, 65535),
    "etcd_join_timeout": in_range(5, 3600, " seconds"),
    "etcd_restart_timeout": in_range(5, 3600, " seconds"),
    "etcd_election_timeout": in_range(50, 50000, " ms"),
    "etcd_heartbeat_interval": in_range(10, 5000, " ms"),
    "etcd_quota_backend_bytes": in_range(64 << 20, 64 << 30, " bytes (64 MiB to 64 GiB)"),
    "etcd_bcrypt_cost": in_range(4, 31),
    "etcd_compaction_retention": matches(RETENTION, '"24h", "1h30m" or "24"'),
    "etcd_cert_days": in_range(31, 36500, " days"),
    "etcd_root_password": word,
    "pg_etcd_password": word,
    "pg_cluster": name,
    "etcd_client_group": name,
    "etcd_monitor_group": name,
    "patroni_config": absolute_path,
    "vip_manager_config": absolute_path,
    "prometheus_dir": absolute_path,
    "prometheus_sd_dir": absolute_path,
    "etcd_monitor_target_dir": absolute_path,
    "etcd_grafana_dir": absolute_path,
    "etcd_runbook_url": link,
    "patroni_service": matches(UNIT, "patroni"),
    "vip_manager_service": matches(UNIT, "vip-manager"),
    "prometheus_service": matches(UNIT, "prometheus"),
    "prometheus_user": matches(USER, "prometheus"),
    "etcd_packages": each(matches(PACKAGE, "etcd-server")),
    "etcd_version": matches(ETCD_VERSION, "3.5.16"),
    "etcd_compact_keep": in_range(0, 1 << 40),
    "etcd_tarball_sha256": matches(SHA256, "the 64 hex digits of the release's SHA256SUMS"),
    "etcd_backup_dir": no_control_characters,
    "etcd_backup_keep": in_range(0, 10000),
    "etcd_backup_schedule": calendar,
    "etcd_backup_dir_remote": data_dir,
    "etcd_backup_metric_dir": absolute_path,
    "etcd_restore": no_control_characters,
    "etcd_pki_dir": no_control_characters,
    "etcd_ca_cert": no_control_characters,
    "etcd_ca_key": no_control_characters,
    "etcd_tarball": no_control_characters,
    "etcd_root_password_file": no_control_characters,
    "pg_etcd_password_file": no_control_characters,
}


def problems(values: dict) -> list[str]:
    """`key value: problem` for every set value that fails its check."""
    found = []
    for key, check in CHECKS.items():
        value = values.get(key)
        if value is not None:
            problem = check(value)
            if problem:
                found.append(f"{key} {value!r} {problem}")
    return found
