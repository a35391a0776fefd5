"""The seeds' production etcd cluster: three members on 10.10.10.10-12, and the PostgreSQL cluster
pg-test whose Patroni and vip-manager the reload SOP points at them.

No etcd_root_password here: unset, create generates a strong one once and keeps it in
pki/<etcd_cluster>/root.password (0600). To choose it, name a 0600 file holding it:
`etcd_root_password_file` (docs/control-node.md).
"""

etcd = (
    [
        ("10.10.10.10", {"etcd_seq": 1}),
        ("10.10.10.11", {"etcd_seq": 2}),
        ("10.10.10.12", {"etcd_seq": 3}),
    ],
    {"etcd_cluster": "etcd"},
)

pg_test = ([("10.10.10.11", {"pg_seq": 1, "pg_role": "primary"})], {"pg_cluster": "pg-test"})
