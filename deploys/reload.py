"""SOP 重载配置 (reload the configuration): every member's references to the cluster brought in
line with the live member list, after a join or a removal.

    pyinfra -y inventories/prod.py deploys/reload.py [--data etcd_reload=conf,env]

`conf` rewrites /etc/etcd/etcd.conf from the live member list (a changed runtime setting restarts
members one at a time, each gated on health; the bootstrap-only initial-cluster restarts nothing),
`env` rewrites /etc/profile.d/etcdctl.sh (on the members and on the admin hosts of the run,
etcd_client_group, which also get the CA, the admin certificate and the root password), `restart` (on request only) restarts every member in
turn. Hosts of the inventory that are not started members are skipped with a warning.

`patroni` and `vip` (hosts with a `pg_cluster`): the etcd user of each PostgreSQL cluster (limited
to /pg/<pg_cluster>/), the cluster's CA in /etc/etcd-client/ca.crt, and in Patroni's config
(patroni_config) the etcd3 hosts, TLS and credentials, in vip-manager's (vip_manager_config) its
dcs-endpoints, CA and credentials; every other key is kept. Patroni is reloaded (it re-reads hosts
and credentials), restarted only for a TLS change; vip-manager is restarted, one host at a time.
Hosts without these configs are skipped.

`monitor`: on the monitoring hosts of the run (etcd_monitor_group), the Prometheus targets are the
live members (etcdkit/plans/monitoring.py).
"""

from etcdkit import sops

sops.reload()
