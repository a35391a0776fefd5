"""Snapshots on a member: saved through etcd, read back by etcd offline (`snapshot status`), and a
member's data restored from one (templates/scripts/restore.sh.j2).

The offline tool is etcdutl, or etcdctl on etcd 3.4 (etcd 3.6 has no `etcdctl snapshot restore`
nor `status`): etcdkit.model.versions.offline_tool chooses it from the host's facts."""

import os

from pyinfra.api import StringCommand

from etcdkit.model.inventory import Member
from etcdkit.remote.etcdctl import etcdctl
from etcdkit.remote.shell import script, sh


def save(endpoint: str, remote: str) -> StringCommand:
    """A snapshot of the cluster through the member at endpoint, into remote (private: 0600)."""
    return sh("(umask 077 && {ctl} snapshot save {remote} >/dev/null)", ctl=etcdctl(endpoint), remote=remote)


def status(snapshot: str, tool: str) -> StringCommand:
    """What etcd reads of a snapshot file, as JSON ({"hash", "revision", "totalKey", "totalSize"})."""
    return sh("{tool} snapshot status {snapshot} -w json", tool=tool, snapshot=snapshot)


def checksum(remote: str) -> StringCommand:
    """A file's SHA-256, then its size, one a line."""
    return sh("sha256sum {remote} | cut -d' ' -f1; stat -c %s {remote}", remote=remote)


def restore(copy: str, data_dir: str, member: Member, initial_cluster: str, token: str, tool: str) -> StringCommand:
    """The member's data restored from the snapshot copy (next to its data dir) into its data dir,
    which must hold no member data, and the copy deleted."""
    return script(
        "restore.sh.j2",
        copy=copy,
        data_dir=data_dir,
        parent=os.path.dirname(data_dir),
        tool=tool,
        name=member.name,
        initial_cluster=initial_cluster,
        token=token,
        peer_url=member.peer_url,
    )
