"""SOP 销毁集群 (destroy a cluster): every member stopped, disabled and deleted, after a snapshot.

    pyinfra -y inventories/prod.py deploys/destroy.py --data etcd_safeguard=false   (or bin/etcd-rm)

Refused on every host before any change while etcd_safeguard is on (override: etcd_safeguard=false,
or Pigsty's etcd_purge=true). Unless etcd_backup=false, a snapshot is first saved on the
control node (etcd_backup_dir/<cluster>-<time>.db): the cluster can be rebuilt from it. There is
no member-by-member leave: all members go at once. The members' certificates leave the PKI folder
(the CA, the admin certificate and the root password stay, for the next create). Destroying a
destroyed cluster changes nothing; create afterwards builds a new cluster with a new cluster ID.
The members' Prometheus targets go from the monitoring hosts of the run.
"""

from etcdkit import sops

sops.destroy()
