"""SOP 创建集群 (create a cluster): one etcd member per host of group `etcd`.

    pyinfra -y inventories/prod.py deploys/create.py

On bare hosts it installs etcd, issues TLS certificates from the control node's CA, bootstraps all
members together, waits for a healthy cluster and enables RBAC. On an existing cluster of the same
inventory it converges: nothing changes when nothing differs, and a change that needs a restart
restarts members one at a time, each gated on cluster health. See etcdkit/plan.py for when it stops.
"""

from io import StringIO

from pyinfra import host, inventory, state
from pyinfra.api.exceptions import DeployError
from pyinfra.operations import files, systemd

from etcdkit import paths
from etcdkit.connection import disable_nagle
from etcdkit.inventory import GROUP
from etcdkit.plan import create_plan
from operations import etcd

disable_nagle(inventory.iter_activated_hosts())
plan = create_plan(state, inventory)
me = plan.hosts.get(host.name)
if me is None:
    raise DeployError(f"{host.name} is not in group `{GROUP}` of the inventory: create only runs on the cluster's members")
member, settings = me.member, me.settings

if plan.rebuild:
    etcd.wipe(name="Wipe the etcd instance and its data (etcd_clean)", data_dir=settings["etcd_data"])

etcd.install(
    name="Install etcd",
    packages=settings["etcd_packages"],
    tarball=settings["etcd_tarball"],
    tarball_sha256=settings["etcd_tarball_sha256"],
)
files.directory(name="etcd config dir", path=paths.CONF_DIR, user="etcd", group="etcd", mode="750")
files.directory(name="etcd data dir", path=settings["etcd_data"], user="etcd", group="etcd", mode="700")

if me.restart_reason:
    etcd.request_restart(name=f"Restart needed: {me.restart_reason}", reason=me.restart_reason)

for path, user, group, mode in (
    (paths.CA, "etcd", "etcd", "644"),
    (paths.CERT, "etcd", "etcd", "644"),
    (paths.CONF, "etcd", "etcd", "644"),
    (paths.ENV, "root", "root", "644"),
):
    files.put(name=f"Upload {path}", src=StringIO(me.files[path]), dest=path, user=user, group=group, mode=mode)
etcd.secret_file(name=f"Upload {paths.KEY}", content=me.files[paths.KEY], dest=paths.KEY, user="etcd", group="etcd", mode="600")
etcd.secret_file(name=f"Upload {paths.PASS}", content=me.files[paths.PASS], dest=paths.PASS, user="root", group="etcd", mode="640")
unit = files.put(name=f"Upload {paths.UNIT}", src=StringIO(me.files[paths.UNIT]), dest=paths.UNIT, user="root", group="root", mode="644")

systemd.daemon_reload(name="Reload systemd units", _if=unit.did_change)
started = etcd.running(name="Start etcd")
etcd.wait_healthy(name="Wait for etcd to be healthy", endpoint=member.client_url, _if=started.did_change)
etcd.restart_if_pending(name="Restart etcd (one member at a time)", endpoint=member.client_url, _serial=True)
if member == plan.seed:
    etcd.rbac(name="Enable RBAC (root user, auth enable)", endpoint=member.client_url)
