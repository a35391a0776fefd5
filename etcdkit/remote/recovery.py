"""The recover SOP's commands on a member: how its state is read without starting it (its
metrics, a copy of its database), and its one start with force-new-cluster.

etcd ignores command-line flags when it reads a --config-file, so the flag goes into a copy of
etcd.conf in /run, and a drop-in in /run/systemd/system points the unit at that copy for one
restart. Both are deleted by the same command right after that restart, whatever happens (and a
reboot clears /run): /etc/etcd/etcd.conf and the unit never hold force-new-cluster, so no later
start of etcd can throw members out again.
"""

import os
import shlex

from etcdkit.model import paths
from etcdkit.model.inventory import Member
from etcdkit.remote.render import render

FORCED_CONF = "/run/etcd-force-new-cluster.conf"
FORCED_DROP_IN = "/run/systemd/system/etcd.service.d/force-new-cluster.conf"


def force_new_cluster(member: Member, etcd_binary: str) -> str:
    """Restart etcd once as a one-member cluster of its own data, then once more as its unit says."""
    drop_in = render("etcd-force-new-cluster.conf.j2", member=member, etcd_binary=etcd_binary, conf=FORCED_CONF)
    cleanup = f"rm -f {FORCED_DROP_IN} {FORCED_CONF}; systemctl daemon-reload"
    return (
        f"trap {shlex.quote(cleanup)} EXIT; trap 'exit 1' HUP INT TERM; "
        f"if grep -q '^force-new-cluster:' {paths.CONF}; then echo '{paths.CONF} sets force-new-cluster: remove that line first' >&2; exit 1; fi; "
        f"{{ cat {paths.CONF} && echo 'force-new-cluster: true'; }} > {FORCED_CONF} && chmod 644 {FORCED_CONF} && "
        f"mkdir -p {FORCED_DROP_IN.rsplit('/', 1)[0]} && printf '%s' {shlex.quote(drop_in)} > {FORCED_DROP_IN} && "
        f"systemctl daemon-reload && systemctl restart {paths.SERVICE} && "
        f"{cleanup} && systemctl restart {paths.SERVICE}"
    )


# What a member says of itself in its metrics: a member without quorum that served before still
# serves them (etcd 3.5's `endpoint status` wants a login, and logging in needs quorum).
METRICS = (
    "etcd_server_has_leader",
    "etcd_server_id",
    "etcd_server_proposals_applied_total",
    "etcd_server_proposals_committed_total",
    "etcd_debugging_mvcc_current_revision",
)
# Room left beside a copy of a database, so that the copy never fills the disk it shares (with
# PostgreSQL, on a Pigsty site).
COPY_MARGIN = 256 << 20


def metrics(endpoint: str, timeout: int = 3) -> str:
    """The METRICS lines of a member's /metrics, over TLS with this host's member certificate (it
    prints nothing when the member does not answer within timeout seconds)."""
    address = shlex.quote(endpoint.split("//", 1)[-1])
    tls = f"-CAfile {paths.CA} -cert {paths.CERT} -key {paths.KEY}"
    pattern = "|".join(METRICS)
    return (
        f"printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' | timeout {int(timeout)} openssl s_client -quiet -connect {address} {tls} "
        f"2>/dev/null | grep -E '^({pattern})[ {{]'"
    )


def database_status(data_dir: str, tool: str) -> str:
    """What a member's database holds, read offline without starting etcd and without touching the
    live file: a copy of member/snap/db next to the data dir (only with room for it), read by `tool
    snapshot status` (etcdutl; etcdctl on an etcd 3.4 host without it: versions.offline_tool),
    deleted whatever happens. Prints `status=<JSON>`, or `error=<why>`; nothing when there is no
    database. A copy taken while the file changed (etcd still writing it) is an error, never a reading."""
    db = shlex.quote(f"{data_dir}/member/snap/db")
    parent = shlex.quote(os.path.dirname(data_dir) or "/")
    status = {"etcdutl": "etcdutl", "etcdctl": "ETCDCTL_API=3 etcdctl"}[tool] + ' snapshot status "$tmp/db" -w json'
    return (
        f'db={db}; if [ ! -f "$db" ]; then exit 0; fi; '
        'size=$(stat -c %s "$db") && '
        f"free=$(df -B1 --output=avail {parent} | tail -n 1); "
        f'if ! [ "$free" -ge $((size + {COPY_MARGIN})) ] 2>/dev/null; then '
        f'echo "error=no room in {parent} for a copy of its database ($size bytes, $free free)"; exit 0; fi; '
        f"tmp=$(mktemp -d {parent}/.etcd-recover.XXXXXX) || {{ echo 'error=no temporary folder in {parent}'; exit 0; }}; "
        "trap 'rm -rf \"$tmp\"' EXIT; "
        'before=$(stat -c "%s %y" "$db"); '
        'if ! cp "$db" "$tmp/db" 2>"$tmp/err"; then echo "error=the copy of its database failed: $(head -c 300 "$tmp/err" | tr "\\n" " ")"; exit 0; fi; '
        'if [ "$(stat -c "%s %y" "$db")" != "$before" ]; then echo "error=its database changed while it was copied"; exit 0; fi; '
        f'if out=$({status} 2>"$tmp/err"); then echo "status=$out"; '
        'else echo "error=its database does not read: $(head -c 300 "$tmp/err" | tr "\\n" " ")"; fi'
    )
