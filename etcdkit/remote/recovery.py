"""The recover SOP's commands on a member: how its state is read without starting it (its
metrics, a copy of its database), and its one start with force-new-cluster
(templates/scripts/force-new-cluster.sh.j2: the flag only ever in /run, for that one start)."""

import os

from pyinfra.api import StringCommand

from etcdkit.model import paths
from etcdkit.model.inventory import Member
from etcdkit.remote.render import render
from etcdkit.remote.shell import script, sh

FORCED_CONF = "/run/etcd-force-new-cluster.conf"
FORCED_DROP_IN = "/run/systemd/system/etcd.service.d/force-new-cluster.conf"


def force_new_cluster(
    member: Member, etcd_binary: str, conf: str = paths.CONF, forced_conf: str = FORCED_CONF, drop_in: str = FORCED_DROP_IN
) -> StringCommand:
    """Restart etcd once as a one-member cluster of its own data, then once more as its unit says
    (conf, forced_conf, drop_in: where etcd.conf, its copy with the flag and the unit's drop-in are)."""
    unit = render("etcd-force-new-cluster.conf.j2", member=member, etcd_binary=etcd_binary, conf=forced_conf)
    return script("force-new-cluster.sh.j2", conf=conf, forced_conf=forced_conf, drop_in=drop_in, unit=unit, service=paths.SERVICE)


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


def metrics(endpoint: str, timeout: int = 3) -> StringCommand:
    """The METRICS lines of a member's /metrics, over TLS with this host's member certificate (it
    prints nothing when the member does not answer within timeout seconds)."""
    return sh(
        "printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' | timeout {timeout} openssl s_client -quiet -connect {address} "
        "-CAfile {ca} -cert {cert} -key {key} 2>/dev/null | grep -E {pattern}",
        timeout=int(timeout),
        address=endpoint.split("//", 1)[-1],
        ca=paths.CA,
        cert=paths.CERT,
        key=paths.KEY,
        pattern=f"^({'|'.join(METRICS)})[ {{]",
    )


def database_status(data_dir: str, tool: str) -> StringCommand:
    """What a member's database holds, read offline without starting etcd and without touching the
    live file (templates/scripts/database-status.sh.j2), by `tool snapshot status` (etcdutl; etcdctl
    on an etcd 3.4 host without it: versions.offline_tool)."""
    if tool not in ("etcdutl", "etcdctl"):
        raise ValueError(f"{tool}: not etcdutl or etcdctl")
    return script(
        "database-status.sh.j2",
        db=f"{data_dir}/member/snap/db",
        parent=os.path.dirname(data_dir) or "/",
        margin=COPY_MARGIN,
        tool=tool,
    )
