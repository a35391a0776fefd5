"""Custom pyinfra facts of etcdkit (installed as etcdkit.facts)."""
