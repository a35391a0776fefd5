"""SOP 备份集群 (back up a cluster): a verified snapshot on the control node.

    pyinfra -y inventories/prod.py deploys/backup.py        (or bin/etcd-backup)

The snapshot is taken through a healthy follower (the leader only when no follower is healthy) and
saved as etcd_backup_dir/<cluster>-<UTC time>.db (0600, in a 0700 folder) with its sidecar
<cluster>-<UTC time>.json (cluster ID, revision, members, etcd version, SHA-256, size, time). It
counts once etcd reads it back on the member and the copy matches; then the snapshots of this
cluster beyond the newest etcd_backup_keep (7) are deleted with their sidecars. Refused before
anything is saved when no member answers or the cluster has no leader. Not idempotent: every
run saves a new snapshot. --dry and the preview save and delete nothing.
"""

from etcdkit import sops

sops.backup()
