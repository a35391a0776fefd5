"""SOP 添加成员 (add a member): join the host of this run to the live cluster.

    pyinfra -y inventories/prod.py deploys/join.py --limit 10.10.10.13     (or bin/etcd-add 10.10.10.13)

Add the host to the inventory first. The cluster must be healthy, with no other join pending. The
host is announced as a learner by its peer URL, gets its certificate and an etcd.conf naming the
live members (initial-cluster-state: existing), starts, catches up and is promoted. If it never
becomes healthy its entry is removed again. Re-running resumes an interrupted join; on a member it
changes nothing. Afterwards refresh the client references: deploys/reload.py (bin/etcd-add does).
"""

from etcdkit import sops

sops.join()
