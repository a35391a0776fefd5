"""The one start of a member with force-new-cluster (the recover SOP), as one shell command.

etcd ignores command-line flags when it reads a --config-file, so the flag goes into a copy of
etcd.conf in /run, and a drop-in in /run/systemd/system points the unit at that copy for one
restart. Both are deleted by the same command right after that restart, whatever happens (and a
reboot clears /run): /etc/etcd/etcd.conf and the unit never hold force-new-cluster, so no later
start of etcd can throw members out again.
"""

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
