"""etcdctl command lines for members, authenticated as root without exposing the password.

The password is read from the member's /etc/etcd/etcd.pass when the command runs and handed to
etcdctl in its environment (ETCDCTL_USER): it is never part of a command line, so it shows neither
in pyinfra's output nor in /proc/*/cmdline.

No ETCDCTL_API: etcdctl speaks API v3 by default from 3.4, and from 3.6 on it warns on every call
of a variable it no longer reads.
"""

import shlex

from etcdkit.model import paths

TIMEOUTS = "--dial-timeout=2s --command-timeout=5s"
# Health polls give up quickly and try again: a member that is up but has no leader yet would
# otherwise hold each poll for the whole command timeout.
POLL_TIMEOUTS = "--dial-timeout=1s --command-timeout=1s"


def etcdctl(endpoints: str, as_root: bool = True, timeouts: str = TIMEOUTS, login: tuple[str, str] | None = None) -> str:
    """etcdctl against the endpoints with the member's certificate, as root unless as_root is false,
    or as login = (user, password file)."""
    name, password_file = login or ("root", paths.PASS)
    user = f'ETCDCTL_USER="{name}:$(cat {password_file})" ' if as_root or login else ""
    return f"{user}etcdctl --endpoints={endpoints} --cacert={paths.CA} --cert={paths.CERT} --key={paths.KEY} {timeouts}"


def journal(lines: int = 30) -> str:
    return f"journalctl -u {paths.SERVICE} -n {lines} --no-pager -o short-iso"


def wait_healthy(endpoint: str, cluster_wide: bool, timeout: int) -> str:
    """A shell loop that waits for the endpoint (and with cluster_wide, every member) to serve
    linearizable reads, which needs a leader and quorum; it fails with the journal excerpt."""
    scope = "--cluster" if cluster_wide else ""
    check = f"{etcdctl(endpoint, timeouts=POLL_TIMEOUTS)} endpoint health {scope} >/dev/null 2>&1"
    return (
        f"deadline=$(( $(date +%s) + {timeout} )); "
        f"until {check}; do "
        f"if [ $(date +%s) -ge $deadline ]; then "
        f"echo 'etcd at {endpoint} is not healthy after {timeout} s; its journal:' >&2; {journal()} >&2; "
        f"{etcdctl(endpoint)} endpoint health {scope} >&2; exit 1; fi; "
        f"sleep 0.2; done"
    )


def snapshot_restore(snapshot: str, target: str, name: str, initial_cluster: str, token: str, peer_url: str, tool: str) -> str:
    """A member's data, restored from a snapshot into a folder that does not exist yet, with tool
    ("etcdutl", or "etcdctl" on etcd 3.4; etcd 3.6 has no `etcdctl snapshot restore`). snapshot and
    target are shell words the caller quoted (they may name variables)."""
    return (
        f"{tool} snapshot restore {snapshot} --name {shlex.quote(name)} "
        f"--initial-cluster {shlex.quote(initial_cluster)} --initial-cluster-token {shlex.quote(token)} "
        f"--initial-advertise-peer-urls {shlex.quote(peer_url)} --data-dir {target}"
    )


def snapshot_status(snapshot: str, tool: str) -> str:
    """What etcd reads of a snapshot file, as JSON ({"hash", "revision", "totalKey", "totalSize"}),
    with tool ("etcdutl", or "etcdctl" on etcd 3.4)."""
    return f"{tool} snapshot status {shlex.quote(snapshot)} -w json"
