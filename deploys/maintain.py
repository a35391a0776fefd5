"""Maintenance: compact the history, defragment the members' databases, disarm a NOSPACE alarm.

    pyinfra -y inventories/prod.py deploys/maintain.py [--data etcd_maintain=defrag] [--data etcd_compact_keep=1000]

Refused before any change unless every member answers and there is a leader (a NOSPACE alarm is
allowed: disarming it is the point; a CORRUPT alarm is not). The history is compacted to the
current revision minus etcd_compact_keep; each member whose database is fragmented (less than 80%
of its file in use and at least 1 MiB free) is defragmented in turn, followers first, the leader
last, each gated on the cluster answering; then the NOSPACE alarm is disarmed. The databases'
sizes are shown before and after. With nothing to do, a run changes nothing.
"""

from etcdkit import sops

sops.maintain()
