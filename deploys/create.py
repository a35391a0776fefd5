"""SOP 创建集群 (create a cluster): one etcd member per host of group `etcd`.

    pyinfra -y inventories/prod.py deploys/create.py

On bare hosts it installs etcd, issues TLS certificates from the control node's CA, bootstraps all
members together, waits for a healthy cluster and enables RBAC. On an existing cluster of the same
inventory it converges: nothing changes when nothing differs, and a change that needs a restart
restarts members one at a time, each gated on cluster health. See etcdkit/create_plan.py for when it stops.
The Prometheus hosts of the inventory (etcd_monitor_group) get every member as a target.
With etcd_init=existing on a host of the run, the run is the join SOP (deploys/join.py) instead.
"""

from pyinfra import host, inventory, state
from pyinfra.api.exceptions import DeployError

from etcdkit import params
from etcdkit.connection import disable_nagle
from etcdkit.create_plan import create_plan
from etcdkit.inventory import GROUP
from etcdkit.join_plan import join_plan
from etcdkit.monitoring import watch
from etcdkit.steps import install_member, join_member
from operations import etcd

disable_nagle(inventory.iter_activated_hosts())


def create_member(plan) -> None:
    monitors = plan.monitoring.hosts if plan.monitoring else []
    me = plan.hosts.get(host.name)
    if me is None and host.name not in monitors:
        raise DeployError(
            f"{host.name} is neither in group `{GROUP}` nor a monitoring host of the inventory: create only "
            "runs on the cluster's members and its Prometheus hosts (limit the run: --limit etcd)"
        )
    if me is not None:
        if plan.rebuild:
            etcd.wipe(name="Wipe the etcd instance and its data (etcd_clean)", data_dir=me.settings["etcd_data"])
        install_member(me, me.files, me.restart_reason)
        started = etcd.running(name="Start etcd")
        etcd.wait_healthy(name="Wait for etcd to be healthy", endpoint=me.member.client_url, _if=started.did_change)
        etcd.restart_if_pending(name="Restart etcd (one member at a time)", endpoint=me.member.client_url, _serial=True)
        if me.member == plan.seed:
            etcd.rbac(name="Enable RBAC (root user, auth enable)", endpoint=me.member.client_url)
    if host.name in monitors:
        watch(plan.monitoring)


# The seeds' form of the join SOP: `--limit NEW --data etcd_init=existing` (or the host var).
if any(params.get(h.data, "etcd_init") == "existing" for h in inventory.iter_activated_hosts()):
    join_member(join_plan(state, inventory), host.name)
else:
    create_member(create_plan(state, inventory))
