"""The lab's nodes as an etcd cluster inventory.

Group `etcd` holds the lab nodes named by ETCD_NODES (comma-separated node numbers, default 1,2,3);
node i is 10.10.10.<9+i> with etcd_seq = i. Tests "edit the inventory" by changing ETCD_NODES.
"""

import os

from lab.config import node_address

_numbers = [int(number) for number in os.environ.get("ETCD_NODES", "1,2,3").split(",") if number.strip()]

etcd = (
    [(node_address(number), {"etcd_seq": number}) for number in _numbers],
    {"etcd_cluster": "etcd"},
)
