"""The clients' part of reload, in-process: Patroni and vip-manager hosts get the CA, their client
certificate and their etcd settings; a replica's Patroni is restarted for new TLS settings, one at a
time, the primary's is not (that would stop PostgreSQL), unless etcd_patroni_restart_primary."""

import json

from etcdkit.facts.patroni import PatroniRole
from etcdkit.facts.yaml import ConfigFile, YamlKeys

from etcdkit.model.config_file import ConfigLocation
from tests.unit import plans_data
from tests.unit.sop_run import Machine, SopRun, created, member_machine, pki, with_view
from tests.unit.test_sop_create import ADDRESSES

REPLICA, PRIMARY = "10.10.10.40", "10.10.10.41"
CONFIG = "etcd3:\n  hosts: 10.10.10.10:2379\nrestapi:\n  listen: 0.0.0.0:8008\n"


def reload(tmp_path, data: dict | None = None) -> SopRun:
    created(tmp_path)
    inv = plans_data.inventory(tmp_path)
    machines = with_view({address: member_machine(inv, seq) for seq, address in enumerate(ADDRESSES, 1)}, plans_data.view(1, 2, 3))
    for address, role in ((REPLICA, "replica"), (PRIMARY, "primary")):
        found = ConfigLocation("/etc/patroni/patroni.yml", user="postgres", group="postgres", mode="640", writer="postgres", refused=None)
        machines[address] = Machine({YamlKeys: {"etcd3.hosts": "10.10.10.10:2379"}, ConfigFile: found, PatroniRole: role})
    read = {"read /etc/patroni/patroni.yml": json.dumps(CONFIG), "read /etc/default/vip-manager.yml": json.dumps("dcs-type: etcd\n")}
    run = SopRun(
        "reload",
        machines,
        members=ADDRESSES,
        host_data={address: {"pg_cluster": "pg-test"} for address in (REPLICA, PRIMARY)},
        group_data=pki(tmp_path),
        data=data,
        answers=read,
    )
    run.prepare()
    assert run.error is None, run.error
    return run


def restarted(run: SopRun, address: str) -> bool:
    return any("systemctl restart patroni" in command for command in run.commands(address))


def test_the_replica_is_restarted_for_its_new_tls_settings_and_the_primary_is_not(tmp_path):
    run = reload(tmp_path)
    for address in (REPLICA, PRIMARY):
        assert run.names(address)[0] == "etcd clients | The etcd CA, the client certificate and its key"
    run.execute()
    assert run.failed() == set()
    for address in (REPLICA, PRIMARY):
        written = " ".join(run.commands(address))
        assert all(f"> /etc/etcd-client/{path}" in written for path in ("ca.crt", "pg-test.crt", "pg-test.key"))
    assert all(any("write /etc/patroni/patroni.yml" in command for command in run.commands(a)) for a in (REPLICA, PRIMARY))
    assert (restarted(run, REPLICA), restarted(run, PRIMARY)) == (True, False)


def test_with_etcd_patroni_restart_primary_the_primary_restarts_after_every_replica(tmp_path):
    run = reload(tmp_path, data={"etcd_patroni_restart_primary": "true"})
    order = run.order()
    replicas = order.index("etcd clients | Patroni (replica): restart for the new TLS settings, one replica at a time [serial] [if]")
    primary = next(i for i, name in enumerate(order) if name.startswith("etcd clients | Patroni (primary): restart"))
    assert replicas < primary
    run.execute()
    assert (restarted(run, REPLICA), restarted(run, PRIMARY)) == (True, True)
