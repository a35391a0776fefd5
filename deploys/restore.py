"""SOP 恢复集群 (restore a cluster): a new cluster from a snapshot, on every member of the inventory.

    pyinfra -y inventories/prod.py deploys/restore.py --data etcd_restore=backups/FILE.db   (or bin/etcd-restore FILE)

Checked before any change: the snapshot is the file its sidecar describes, every member's host
answers, no etcd runs or listens there (destroy the cluster first: deploys/destroy.py) and no data
dir holds member data. Each member is installed as create does, with a new initial-cluster-token
(a new cluster ID), gets the snapshot's data (etcdutl, or etcdctl on etcd 3.4), and all start
together once every member is restored. The users come from the snapshot: root must log in with
the control node's root password. Writes after the snapshot are lost. Then run deploys/reload.py
for Patroni and vip-manager (bin/etcd-restore does).
"""

from etcdkit import sops

sops.restore()
