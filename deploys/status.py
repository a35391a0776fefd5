"""The cluster's members, their health and the leader; read-only, for any inventory.

    pyinfra -y inventories/prod.py deploys/status.py     (bin/etcd-status shows only the table)

Fails when the cluster is not fully healthy (a member down or unstarted, no leader).
"""

from etcdkit import sops

sops.status()
