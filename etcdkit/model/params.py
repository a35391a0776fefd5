"""Every parameter the SOPs read: name, default, meaning, and which SOPs use it.

Names follow Pigsty's etcd role so its users feel at home. Values come from pyinfra host data
(inventory host vars, group vars, `--data key=value`); strings from the command line are coerced
to the parameter's type, and a value that cannot be is an error naming the host and the key.
"""

from dataclasses import dataclass
from typing import Any

ALL_SOPS = (
    "create", "join", "remove", "destroy", "reload", "rotate_ca", "backup", "restore", "maintain", "upgrade", "downgrade", "recover",
)  # fmt: skip


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    kind: type
    meaning: str
    sops: tuple[str, ...] = ALL_SOPS
    secret: bool = False  # a password: its value is a Password, hidden wherever it is shown


class Password(str):
    """A password as a parameter holds it: itself wherever it is used, hidden wherever it is shown
    (its repr, so the reprs of the settings, facts and plans that carry it, and error messages)."""

    def __repr__(self) -> str:
        return "'<hidden>'"


PARAMS = [
    Param("etcd_seq", None, int, "Member number, required per host, unique, >= 0: the member is `<etcd_cluster>-<etcd_seq>`."),
    Param("etcd_cluster", "etcd", str, "Cluster name: member name prefix, initial-cluster token, PKI sub-folder."),
    Param("etcd_data", "/data/etcd", str, "Data directory (etcd:etcd 0700)."),
    Param("etcd_port", 2379, int, "Client port (https)."),
    Param("etcd_peer_port", 2380, int, "Peer port (https)."),
    Param(
        "etcd_init",
        "new",
        str,
        "`new` bootstraps a cluster; `existing` on a host makes create join it to the live cluster.",
        ("create", "join"),
    ),
    Param(
        "etcd_learner",
        True,
        bool,
        "Join new members as learners and promote them once caught up; false adds voting members at once (what Pigsty's role does).",
        ("join",),
    ),
    Param(
        "etcd_join_timeout",
        120,
        int,
        "Seconds a joining member may take to start, catch up and be promoted before the join is undone.",
        ("join",),
    ),
    Param(
        "etcd_restart_timeout",
        60,
        int,
        "Seconds a restarted member may take to serve again in a rolling restart; past it, its previous etcd.conf is put back "
        "and no other member restarts. recover: the seconds its survivor may take to serve alone.",
        ("create", "reload", "rotate_ca", "upgrade", "downgrade", "maintain", "recover"),
    ),
    Param(
        "etcd_reload",
        ["conf", "env", "patroni", "vip", "monitor"],
        list,
        "What reload refreshes: `conf` (etcd.conf from the live member list), `env` (the etcdctl environment), `patroni` (the etcd3 section of Patroni's config), `vip` (vip-manager's endpoints), `monitor` (the Prometheus targets), `restart` (a rolling restart of every member, on request only).",
        ("reload",),
    ),
    Param(
        "etcd_client_group",
        "etcd_clients",
        str,
        "reload: the inventory group of admin hosts that get the etcdctl environment (as root, with the control node's admin certificate) besides the members.",
        ("reload", "rotate_ca"),
    ),
    Param(
        "patroni_config",
        "/etc/patroni/patroni.yml",
        str,
        "reload: Patroni's YAML config on the hosts with a `pg_cluster` (Pigsty's /pg/conf/<instance>.yml is linked from it).",
        ("reload", "rotate_ca"),
    ),
    Param("patroni_service", "patroni", str, "reload: Patroni's systemd unit.", ("reload",)),
    Param(
        "etcd_patroni_restart_primary",
        False,
        bool,
        "reload: when Patroni's etcd TLS settings change, restart the Patroni of a primary too (after every replica; "
        "PostgreSQL stops there). False: the primary's config is written and a warning names the host and the "
        "switchover and restart to do by hand.",
        ("reload",),
    ),
    Param(
        "vip_manager_config",
        "/etc/default/vip-manager.yml",
        str,
        "reload: vip-manager's YAML config on the hosts with a `pg_cluster`.",
        ("reload", "rotate_ca"),
    ),
    Param("vip_manager_service", "vip-manager", str, "reload: vip-manager's systemd unit.", ("reload", "rotate_ca")),
    Param(
        "pg_cluster",
        None,
        str,
        "The PostgreSQL cluster of a host running Patroni (and vip-manager): its etcd user and role are named after it, limited to the prefix /pg/<pg_cluster>/.",
        ("reload", "rotate_ca"),
    ),
    Param(
        "pg_etcd_password",
        None,
        str,
        "Password of the etcd user of a PostgreSQL cluster. Unset: generated once and kept in the PKI folder (pki/<etcd_cluster>/<pg_cluster>.password, 0600). "
        "Prefer pg_etcd_password_file: a value given with --data is visible in the process list and your shell's history.",
        ("reload",),
        secret=True,
    ),
    Param(
        "pg_etcd_password_file",
        None,
        str,
        "A file on the control node holding pg_etcd_password (mode 0600 or stricter; a trailing newline is not part of it), "
        "read when the plan is made. Not with pg_etcd_password.",
        ("reload",),
    ),
    Param(
        "etcd_election_timeout",
        1000,
        int,
        "Election timeout in ms (>= 5x the heartbeat interval).",
        ("create", "join", "reload", "restore"),
    ),
    Param("etcd_heartbeat_interval", 100, int, "Heartbeat interval in ms.", ("create", "join", "reload", "restore")),
    Param(
        "etcd_quota_backend_bytes",
        8 << 30,
        int,
        "Backend quota in bytes (8 GiB, etcd's suggested maximum; Pigsty's role sets 16 GiB: set it to keep that).",
        ("create", "join", "reload", "restore"),
    ),
    Param("etcd_compaction_retention", "24h", str, "Periodic auto-compaction retention.", ("create", "join", "reload", "restore")),
    Param(
        "etcd_bcrypt_cost",
        None,
        int,
        "bcrypt cost of the passwords etcd stores (4 to 31; etcd's own default is 10), which every login pays. "
        "Unset: 4 when every password of the cluster's users (root's, each PostgreSQL cluster's) is one etcdkit "
        "generates (32 random characters) or has at least 24 characters, to which key stretching adds nothing that "
        "matters: a login then takes a few ms instead of 0.1-0.2 s; else etcd's default. It applies to the passwords "
        "set after it (docs/performance.md).",
        ("create", "join", "reload", "restore"),
    ),
    Param(
        "etcd_root_password",
        None,
        str,
        "Password of the etcd `root` user. Unset: a strong one is generated once and kept in the PKI folder (0600). "
        "Prefer etcd_root_password_file: a value given with --data is visible in the process list and your shell's history.",
        secret=True,
    ),
    Param(
        "etcd_root_password_file",
        None,
        str,
        "A file on the control node holding etcd_root_password (mode 0600 or stricter; a trailing newline is not part of it), "
        "read when the plan is made. Not with etcd_root_password.",
    ),
    Param(
        "etcd_safeguard",
        False,
        bool,
        "Refuse to wipe or remove live etcd instances (clean, remove, destroy, recover).",
        ("create", "remove", "destroy", "recover"),
    ),
    Param(
        "etcd_clean",
        False,
        bool,
        "create: wipe live instances and their data and bootstrap a new cluster (needs etcd_safeguard false).",
        ("create",),
    ),
    Param("etcd_purge", False, bool, "destroy: override etcd_safeguard (Pigsty's `-t etcd_purge`).", ("destroy",)),
    Param("etcd_backup", True, bool, "destroy: save a snapshot to the control node first.", ("destroy",)),
    Param(
        "etcd_backup_dir",
        "backups",
        str,
        "Control-node folder (0700) of the snapshots, `<cluster>-<UTC time>.db` (0600), each with its sidecar `<cluster>-<UTC time>.json`.",
        ("destroy", "backup"),
    ),
    Param(
        "etcd_backup_keep",
        7,
        int,
        "backup: after a verified snapshot, keep the newest N snapshots of the cluster (the new one included) and delete the older ones "
        "with their sidecars; 0 keeps every snapshot. The scheduled backups on the members keep as many in etcd_backup_dir_remote.",
        ("backup", "create", "join", "restore"),
    ),
    Param(
        "etcd_backup_schedule",
        None,
        str,
        "When every member takes a verified snapshot of its own into etcd_backup_dir_remote (a systemd timer etcd-backup.timer), "
        "in systemd's OnCalendar syntax, e.g. `daily` or `*-*-* 02:30:00`. Unset: no scheduled backups, and create removes the timer.",
        ("create", "join", "restore"),
    ),
    Param(
        "etcd_backup_dir_remote",
        "/var/backups/etcd",
        str,
        "The members' folder (root's, 0700) of their scheduled snapshots, `<cluster>-<UTC time>.db` (0600), the newest etcd_backup_keep kept.",
        ("create", "join", "restore"),
    ),
    Param(
        "etcd_backup_metric_dir",
        "/var/lib/prometheus/node-exporter",
        str,
        "The node exporter's textfile-collector folder on the members (Debian's prometheus-node-exporter reads this one): each "
        "scheduled backup writes etcd_backup.prom there, etcd_backup_last_success_timestamp_seconds{cls=...}, for EtcdBackupTooOld.",
        ("create", "join", "restore"),
    ),
    Param(
        "etcd_restore",
        None,
        str,
        "restore: the snapshot to restore, a path on the control node (e.g. backups/etcd-20250101T120000Z.db); its sidecar must be next to it.",
        ("restore",),
    ),
    Param(
        "etcd_restore_from",
        None,
        str,
        "restore: the cluster the snapshot was taken from, when it is not this inventory's etcd_cluster (its sidecar names it): "
        "restore refuses another cluster's snapshot unless it is named here, for the run that means it (`--data etcd_restore_from=staging`).",
        ("restore",),
    ),
    Param(
        "etcd_join",
        None,
        list,
        "join: the addresses of the hosts to join, comma-separated, in order (bin/etcd-add sets it): a run over the whole "
        "inventory joins the first of them that is not yet a started member, then reloads the members and their clients "
        "in the same run; without it, the run's --limit host joins and nothing is reloaded.",
        ("join",),
    ),
    Param(
        "etcd_remove",
        None,
        str,
        "remove: the address of the member to remove, for a run over the surviving members when its host is dead (bin/etcd-rm sets it); else the run's --limit host departs.",
        ("remove",),
    ),
    Param(
        "etcd_recover_lost",
        None,
        list,
        "recover: the addresses of the members that are gone for good (their host dead or its disk lost), comma-separated "
        "(e.g. 10.10.10.11,10.10.10.12). recover refuses unless every other member of the group is reached and inspected; "
        "a member named here must not answer, over SSH or on its etcd port. Leave them out of the run with --exclude.",
        ("recover",),
    ),
    Param("etcd_rm_data", True, bool, "remove/destroy: delete the data directory.", ("remove", "destroy")),
    Param("etcd_rm_pkg", False, bool, "remove/destroy: uninstall the etcd packages.", ("remove", "destroy")),
    Param(
        "etcd_rotate_skip",
        [],
        list,
        "rotate_ca: client hosts of the inventory (admin, Patroni/vip-manager, Prometheus hosts, by their inventory name) left "
        "behind on purpose, comma-separated: the rotation refuses to start while a client host is out of the run (--limit) or "
        "does not answer, unless it is named here. A host left behind keeps the old CA and loses etcd once the members trust "
        "only the new one: run the rotation again, without it here, once it is back.",
        ("rotate_ca",),
    ),
    Param(
        "etcd_monitor_group",
        "infra",
        str,
        "The inventory group of the Prometheus hosts that scrape the members (none: no monitoring).",
        ("create", "reload", "destroy", "rotate_ca", "restore"),
    ),
    Param(
        "prometheus_dir",
        "/etc/prometheus",
        str,
        "Prometheus' folder: the scrape job goes to scrape/etcd-<cluster>.yml, the rules to rules/etcdkit-<cluster>.yml (never rules/etcd.yml, which may be the site's), the TLS files to etcd-<cluster>/.",
        ("create", "reload", "rotate_ca", "restore"),
    ),
    Param(
        "prometheus_sd_dir",
        "/etc/prometheus/targets/etcd",
        str,
        "The file-based service-discovery folder of the members, one <member>.yml each.",
        ("create", "reload", "destroy", "restore"),
    ),
    Param(
        "etcd_monitor_target_dir",
        None,
        str,
        "A site whose own Prometheus already scrapes etcd from a folder of target files, one <member>.yml each (Pigsty: "
        "/infra/targets/etcd): the monitoring hosts that have this folder get the members' targets there (mode 0644, for "
        "the site's scraper), and nothing else: no scrape job, TLS files, monitor certificate, rules, Prometheus reload nor "
        "dashboard. Unset: etcdkit's own job (prometheus_dir, prometheus_sd_dir).",
        ("create", "reload", "destroy", "rotate_ca", "restore"),
    ),
    Param(
        "prometheus_user",
        "prometheus",
        str,
        "The user Prometheus runs as (it reads the monitoring key).",
        ("create", "reload", "rotate_ca", "restore"),
    ),
    Param(
        "prometheus_service",
        "prometheus",
        str,
        "Prometheus' systemd unit, reloaded when its job or rules change.",
        ("create", "reload", "restore"),
    ),
    Param(
        "etcd_runbook_url",
        "docs/runbook.md",
        str,
        "Where the alert rules' `runbook_url` annotations point: `<etcd_runbook_url>#<alert name in lower case>`. The default is the runbook's path in this repository; give the address your team reads it at (e.g. docs/runbook.md on your Git server).",
        ("create", "reload", "restore"),
    ),
    Param(
        "etcd_grafana_dir",
        None,
        str,
        "A folder of Grafana's file-provisioned dashboards on the monitoring hosts (e.g. /var/lib/grafana/dashboards): the etcd dashboard goes there as etcd-dashboard.json. Unset: no dashboard is installed.",
        ("create", "reload", "restore"),
    ),
    Param(
        "etcd_packages",
        None,
        list,
        "Packages to install (default: etcd-server, etcd-client with apt; etcd with dnf).",
        ("create", "join", "restore", "upgrade", "downgrade"),
    ),
    Param(
        "etcd_version",
        None,
        str,
        "The etcd version to run (e.g. 3.5.16): create installs it (packages pinned to it: `etcd-server=3.5.16*` with apt, `etcd-3.5.16` with dnf) and warns of a member that runs another one; upgrade and downgrade bring every member to it. join gives a new member the version the cluster runs, unless this names another release of the same minor version. Unset: the distribution's version for create; upgrade and downgrade refuse to run.",
        ("create", "join", "restore", "upgrade", "downgrade"),
    ),
    Param(
        "etcd_tarball",
        None,
        str,
        "Path on the control node to an official etcd release tarball to install instead of packages (for upgrade: the release of etcd_version).",
        ("create", "join", "restore", "upgrade", "downgrade"),
    ),
    Param(
        "etcd_tarball_sha256",
        None,
        str,
        "Expected SHA-256 of etcd_tarball (required with it).",
        ("create", "join", "restore", "upgrade", "downgrade"),
    ),
    Param(
        "etcd_maintain",
        ["compact", "defrag", "disarm"],
        list,
        "What maintain does: `compact` (the history up to etcd_compact_keep revisions ago), `defrag` (each fragmented member's database, one at a time, followers first, the leader last), `disarm` (a NOSPACE alarm, once the space is free).",
        ("maintain",),
    ),
    Param(
        "etcd_compact_keep",
        1000,
        int,
        "maintain: revisions of history kept by the compaction (the current revision minus this is compacted).",
        ("maintain",),
    ),
    Param("etcd_pki_dir", "pki", str, "Control-node folder of the CA, member certificates and generated secrets."),
    Param("etcd_ca_cert", None, str, "Path to your own CA certificate (with etcd_ca_key) instead of the generated CA."),
    Param("etcd_ca_key", None, str, "Path to your own CA private key."),
    Param(
        "etcd_cert_days",
        730,
        int,
        "Validity of member certificates; create renews those expiring within 30 days.",
        ("create", "join", "rotate_ca", "restore"),
    ),
]

BY_NAME = {param.name: param for param in PARAMS}

TRUE, FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


class ParamError(ValueError):
    pass


def coerce(param: Param, value: Any) -> Any:
    """Bring a value to the parameter's type; `--data` gives strings."""
    if value is None:
        return None
    if param.kind is bool:
        if isinstance(value, bool):
            return value
        if str(value).strip().lower() in TRUE | FALSE:
            return str(value).strip().lower() in TRUE
        raise ParamError(f"{param.name} must be true or false, not {value!r}")
    if param.kind is int:
        if isinstance(value, bool):
            raise ParamError(f"{param.name} must be an integer, not {value!r}")
        try:
            return int(str(value).strip())
        except ValueError:
            raise ParamError(f"{param.name} must be an integer, not {value!r}") from None
    if param.kind is list:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return list(value)
    return Password(value) if param.secret else str(value)


def get(data, name: str) -> Any:
    """A parameter from pyinfra host data (or any mapping-like `.get`), with its default."""
    param = BY_NAME[name]
    value = data.get(name)
    return param.default if value is None else coerce(param, value)
