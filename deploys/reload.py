"""SOP 重载配置 (reload the configuration): every member's references to the cluster brought in
line with the live member list, after a join or a removal.

    pyinfra -y inventories/prod.py deploys/reload.py [--data etcd_reload=conf,env]

`conf` rewrites /etc/etcd/etcd.conf from the live member list (a changed runtime setting restarts
members one at a time, each gated on health; the bootstrap-only initial-cluster restarts nothing),
`env` rewrites /etc/profile.d/etcdctl.sh, `restart` (on request only) restarts every member in
turn. Hosts of the inventory that are not started members are skipped with a warning.
"""

from pyinfra import host, inventory, state

from etcdkit.connection import disable_nagle
from etcdkit.reload_plan import reload_plan
from etcdkit.steps import refresh_member

disable_nagle(inventory.iter_activated_hosts())
plan = reload_plan(state, inventory)
if host.name in plan.hosts:
    refresh_member(plan.hosts[host.name], plan.parts)
