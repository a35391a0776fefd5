"""SOP 灾难恢复 (recover a cluster that lost its quorum for good): the last resort before a restore.

    pyinfra inventories/prod.py deploys/recover.py          (preview, the survivor named, then Enter)

The running member of the cluster with the highest raft applied index becomes a one-member cluster
of its data (force-new-cluster, from /run only: never in etcd.conf or the unit), then the other
members are stopped and their member data deleted; add them back one at a time with
bin/etcd-add -i INVENTORY IP... (the run says the command). Writes the survivor had not applied are
lost. Refused while the cluster has a leader (replace members with bin/etcd-rm and bin/etcd-add),
when no member of the cluster answers, for anything not provably this cluster's, with
etcd_safeguard, and with --limit.
"""

from etcdkit import sops

sops.recover()
