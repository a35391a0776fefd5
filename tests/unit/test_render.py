"""The member files as rendered from templates/."""

import pytest
import yaml

from etcdkit.model import paths
from etcdkit.model.inventory import Member
from etcdkit.remote.memberfiles import etcdctl_env
from etcdkit.remote.render import ONE_LINE, SAFE_DUMPER, initial_cluster, render, runtime_settings, to_yaml

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
        bcrypt_cost=4,
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
    assert settings["bcrypt-cost"] == 4
    assert "bcrypt-cost" not in yaml.safe_load(conf(bcrypt_cost=None))  # etcd's own default


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


# Values of the kinds etcdkit renders, and the ones YAML reads as something else unless quoted.
AWKWARD = [
    "",
    " lead",
    "trail ",
    "a: b",
    "#x",
    "x #y",
    "'q'",
    '"dq"',
    "yes",
    "on",
    "null",
    "~",
    "1",
    "1e3",
    "0x1f",
    "2026-01-01",
    "ä 日本",
    "a\nb",
    "a\tb",
    "- x",
    "?x",
    "@x",
    "*x",
    "%x",
    "{x}",
    "[x]",
    "a,b",
    "x\\y",
    "\x7f",
    "http://10.10.10.10:2379",
    "a" * 300,
    0,
    -1,
    10**20,
    1.5,
    None,
    True,
    [],
    {},
    ["a", "b c"],
    {"k": "v", "n": [1, 2]},
]


@pytest.mark.skipif(SAFE_DUMPER is yaml.SafeDumper, reason="PyYAML without libyaml renders with its own emitter")
@pytest.mark.parametrize("value", AWKWARD, ids=repr)
def test_libyaml_renders_each_value_as_pyyamls_own_emitter_so_no_file_rendered_before_changes(value):
    for quoted in (False, True) if isinstance(value, str) else (False,):
        style = '"' if quoted else None
        pure = yaml.dump(value, Dumper=yaml.SafeDumper, default_flow_style=True, width=ONE_LINE, default_style=style)
        assert to_yaml(value, quoted) == pure.removesuffix("\n...\n").strip()
        assert yaml.safe_load(to_yaml(value, quoted)) == value


def test_only_a_string_is_quoted():
    with pytest.raises(TypeError, match="only a string is quoted"):
        to_yaml(1, quoted=True)
