"""SOP 移除成员 (remove a member): take one member out of the cluster, then clean its host.

    pyinfra -y inventories/prod.py deploys/remove.py --limit 10.10.10.12    (or bin/etcd-rm 10.10.10.12)
    pyinfra -y @ssh/10.10.10.12 deploys/remove.py                          (the host's etcd.conf says the rest)
    pyinfra -y inventories/prod.py deploys/remove.py --data etcd_remove=10.10.10.12   (its host is dead)

Refused with etcd_safeguard, for the last member, and when the cluster would lose quorum (members
that are down count). The member is found by peer URL, started or not, handed leadership away if
it leads, removed through the surviving members and checked to be gone; only then is its host
stopped and cleaned (etcd_rm_data, etcd_rm_pkg). A dead host's cleanup is skipped with a warning.
Re-running only finishes the cleanup. Afterwards drop the host from the inventory and refresh the
client references: deploys/reload.py (bin/etcd-rm does).
"""

from etcdkit import sops

sops.remove()
