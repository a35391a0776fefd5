"""SOP 创建集群 (create a cluster): one etcd member per host of group `etcd`.

    pyinfra -y inventories/prod.py deploys/create.py

On bare hosts it installs etcd, issues TLS certificates from the control node's CA, bootstraps all
members together, waits for a healthy cluster and enables RBAC. On an existing cluster of the same
inventory it converges: nothing changes when nothing differs, and a change that needs a restart
restarts members one at a time, each gated on cluster health. See etcdkit/plans/create.py for when it stops.
The Prometheus hosts of the inventory (etcd_monitor_group) get every member as a target.
With etcd_init=existing on a host of the run, the run is the join SOP (deploys/join.py) instead.
"""

from etcdkit import sops

sops.create()
