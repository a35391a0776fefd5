"""Upgrade: every member to etcd_version, one at a time, the cluster serving throughout.

    pyinfra -y inventories/prod.py deploys/upgrade.py --data etcd_version=3.5.16

Refused before any change unless every member is healthy with one leader and no learner is
pending, and unless etcd_version keeps to etcd's upgrade path (etcdkit/model/versions.py): not older
than any running server (deploys/downgrade.py goes back), no minor version skipped (3.4 -> 3.6 goes
through 3.5), every member at the release etcd asks for before a minor step (3.5.32 before 3.6,
3.6.11 before 3.7), and before 3.6 a clean `etcdutl check v2store` on every member; a refusal names
the etcd_version to go to first. Then each member that does not
run etcd_version yet, followers first and the leader last (leadership handed over first), gets
the packages of that version (apt `etcd-server=3.5.16*`, dnf `etcd-3.5.16`) or the release
tarball (etcd_tarball), is restarted and must serve again as etcd_version within
etcd_restart_timeout. The run stops at the first member that does not, saying how to roll it
back. A second run changes nothing. Set etcd_version in the inventory afterwards.
"""

from etcdkit import sops

sops.upgrade()
