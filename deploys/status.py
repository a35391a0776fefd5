"""The cluster's members, their health and the leader; read-only, for any inventory.

    pyinfra -y inventories/prod.py deploys/status.py     (bin/etcd-status shows only the table)

Fails when the cluster is not fully healthy (a member down or unstarted, no leader).
"""

from pyinfra import inventory, state

from etcdkit.connection import disable_nagle
from etcdkit.discovery import once_per_run
from etcdkit.status import report

disable_nagle(inventory.iter_activated_hosts())
once_per_run(state, "status", lambda: report(inventory))
