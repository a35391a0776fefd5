"""Downgrade: a cluster of etcd 3.6 or later one minor version back, the cluster serving throughout.

    pyinfra -y inventories/prod.py deploys/downgrade.py --data etcd_version=3.5.32

Refused before any change unless every member is healthy with one leader, no learner is pending and
the cluster runs etcd 3.6 or later: etcd has no downgrade before 3.6, and an older etcd cannot start
on the data of a newer minor version (to go back from 3.5, restore a snapshot taken before the
upgrade). etcd_version must be a release of the minor version just below the cluster's (3.5.32 or
later for 3.5). Then `etcdctl downgrade validate` and `enable` (the cluster version drops at once),
and each member that does not run etcd_version yet, followers first and the leader last, gets the
older packages (or the release tarball), is restarted and must serve again as etcd_version within
etcd_restart_timeout. The run stops at the first member that does not. A second run changes
nothing. Set etcd_version in the inventory afterwards.
"""

from etcdkit import sops

sops.downgrade()
