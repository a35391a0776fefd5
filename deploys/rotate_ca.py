"""CA rotation: the cluster and its clients moved to a new CA while it serves.

    bin/etcd-ca new pki/ca-2027                   # a new CA (or bring your own)
    pyinfra inventories/prod.py deploys/rotate_ca.py \
        --data etcd_ca_cert=pki/ca-2027/ca.crt --data etcd_ca_key=pki/ca-2027/ca.key

Set etcd_ca_cert/etcd_ca_key in the inventory afterwards: create, join and reload refuse a CA
other than the one the members trust. Three phases, each finished on every host before the next:
the clients and then each member (restarted one at a time, gated on health) trust the old and the
new CA; members, admin hosts, Patroni/vip-manager hosts and Prometheus get certificates of the new
CA; each member and then every client trusts only the new CA. Every member must be in the run. An
interrupted run is run again; a second run changes nothing.
"""

from etcdkit import sops

sops.rotate_ca()
