"""The member files as rendered from templates/."""

import yaml

from etcdkit.model import paths
from etcdkit.model.inventory import Member
from etcdkit.remote.memberfiles import etcdctl_env
from etcdkit.remote.render import initial_cluster, render, runtime_settings

MEMBER = Member("10.10.10.10", 1, "etcd", "10.10.10.10", 2379, 2380)


def conf(**overrides):
    values = dict(
        member=MEMBER,
        data_dir="/data/etcd",
        initial_cluster="etcd-1=https://10.10.10.10:2380",
        token="etcd-1a2b",
        initial_state="new",
        heartbeat_interval=100,
        election_timeout=1000,
        quota_backend_bytes=8 << 30,
        compaction_retention="24h",
        peer_name="etcd.peers.etcd",
    )
    values.update(overrides)
    return render("etcd.conf.j2", **values)


def test_conf_is_etcd_yaml_with_tls_everywhere():
    settings = yaml.safe_load(conf())
    assert settings["name"] == "etcd-1"
    assert settings["listen-client-urls"] == "https://10.10.10.10:2379,https://127.0.0.1:2379"
    assert settings["advertise-client-urls"] == "https://10.10.10.10:2379"
    assert settings["initial-advertise-peer-urls"] == "https://10.10.10.10:2380"
    assert settings["quota-backend-bytes"] == 8589934592
    assert settings["auto-compaction-retention"] == "24h"
    assert settings["peer-transport-security"]["client-cert-auth"] is True
    assert settings["peer-transport-security"]["allowed-hostname"] == ["etcd.peers.etcd"]  # only members are peers
    assert settings["client-transport-security"]["trusted-ca-file"] == "/etc/etcd/ca.crt"


def test_bootstrap_only_lines_do_not_count_as_runtime_settings():
    before = conf()
    after = conf(initial_cluster="etcd-1=https://10.10.10.10:2380,etcd-2=https://10.10.10.11:2380", initial_state="existing", token="x")
    assert before != after
    assert runtime_settings(before) == runtime_settings(after)
    assert runtime_settings(before) != runtime_settings(conf(heartbeat_interval=150, election_timeout=1500))


def test_initial_cluster_order_is_natural_and_stable():
    pairs = [("etcd-10", "https://a:2380"), ("etcd-2", "https://b:2380"), ("etcd-1", "https://c:2380")]
    assert initial_cluster(pairs) == "etcd-1=https://c:2380,etcd-2=https://b:2380,etcd-10=https://a:2380"
    assert initial_cluster(reversed(pairs)) == initial_cluster(pairs)


def test_unit_and_env():
    unit = render("etcd.service.j2", member=MEMBER, etcd_binary="/usr/bin/etcd")
    assert "Type=notify" in unit and "User=etcd" in unit and "OOMScoreAdjust=-1000" in unit and "LimitNOFILE=65536" in unit
    assert "ExecStart=/usr/bin/etcd --config-file=/etc/etcd/etcd.conf" in unit
    env = etcdctl_env("etcd", "https://10.10.10.10:2379", paths.CA, paths.CERT, paths.KEY, paths.PASS)
    assert 'alias e="etcdctl"' in env and 'alias em="etcdctl member"' in env
    assert "export ETCDCTL_ENDPOINTS=https://10.10.10.10:2379\n" in env
    assert 'ETCDCTL_USER="root:$(cat /etc/etcd/etcd.pass)"' in env
