"""SOP 销毁集群 (destroy a cluster): every member stopped, disabled and deleted, after a snapshot.

    pyinfra -y inventories/prod.py deploys/destroy.py --data etcd_safeguard=false   (or bin/etcd-rm)

Refused on every host before any change while etcd_safeguard is on (override: etcd_safeguard=false,
or the older seed's etcd_purge=true). Unless etcd_backup=false, a snapshot is first saved on the
control node (etcd_backup_dir/<cluster>-<time>.db): the cluster can be rebuilt from it. There is
no member-by-member leave: all members go at once. The members' certificates leave the PKI folder
(the CA, the admin certificate and the root password stay, for the next create). Destroying a
destroyed cluster changes nothing; create afterwards builds a new cluster with a new cluster ID.
The members' Prometheus targets go from the monitoring hosts of the run.
"""

from pyinfra import config, host, inventory, state

from etcdkit.connection import disable_nagle
from etcdkit.destroy_plan import destroy_plan
from etcdkit.monitoring import register
from etcdkit.steps import forget_certificates, take_off
from operations import etcd

# A failed snapshot on one host must stop the deletion on every host.
config.FAIL_PERCENT = 0

disable_nagle(inventory.iter_activated_hosts())
plan = destroy_plan(state, inventory)
me = plan.hosts.get(host.name)
if me is not None:
    if host.name == plan.snapshot_host:
        etcd.snapshot(name=f"Save a snapshot to {plan.snapshot_path}", endpoint=me.member.client_url, dest=str(plan.snapshot_path))
    take_off(me.settings)
    if host.name == plan.spec.members[0].host_name:
        forget_certificates(plan.member_certificates)
if plan.monitoring and host.name in plan.monitoring.hosts:
    register(plan.monitoring)  # with no targets: the members leave Prometheus
