from etcdkit.model import params


def test_command_line_strings_become_typed_values():
    data = {"etcd_safeguard": "true", "etcd_clean": "no", "etcd_port": "3379", "etcd_packages": "etcd-server, etcd-client"}
    assert params.get(data, "etcd_safeguard") is True
    assert params.get(data, "etcd_clean") is False
    assert params.get(data, "etcd_port") == 3379
    assert params.get(data, "etcd_packages") == ["etcd-server", "etcd-client"]


def test_defaults_follow_the_reference_role():
    assert params.get({}, "etcd_cluster") == "etcd"
    assert params.get({}, "etcd_data") == "/data/etcd"
    assert (params.get({}, "etcd_port"), params.get({}, "etcd_peer_port")) == (2379, 2380)
    assert (params.get({}, "etcd_heartbeat_interval"), params.get({}, "etcd_election_timeout")) == (100, 1000)
    assert params.get({}, "etcd_root_password") is None
