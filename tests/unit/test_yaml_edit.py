"""Keys of Patroni's and vip-manager's configs set in their text: everything else stays as the site wrote it."""

import yaml

from etcdkit.remote.yaml_edit import set_keys

VIP_MANAGER_2 = """\
# vip-manager 2 of pg-test, written by Pigsty
interval: 1000
trigger-key: "/pg/pg-test/leader"
trigger-value: "pg-test-1"
ip: 10.10.10.3
netmask: 24
interface: eth1
dcs-type: etcd3   # vip-manager >= 2.2 spells the v3 API so
dcs-endpoints:
  - http://127.0.0.1:2379
etcd-user: "pg-test"
etcd-password: "pg-test"

retry-num: 2
"""


def test_only_the_keys_change_and_dcs_type_stays_as_the_site_has_it():
    values = {
        "dcs-endpoints": ["https://10.10.10.10:2379", "https://10.10.10.11:2379"],
        "etcd-user": "pg-test",
        "etcd-password": "n3w: 'secret' #1",
        "etcd-ca-file": "/etc/etcd-client/ca.crt",
    }
    text = set_keys(VIP_MANAGER_2, values)
    assert yaml.safe_load(text) == {**yaml.safe_load(VIP_MANAGER_2), **values}
    assert "dcs-type: etcd3   # vip-manager >= 2.2 spells the v3 API so\n" in text
    assert text.startswith("# vip-manager 2 of pg-test, written by Pigsty\ninterval: 1000\n")
    assert 'trigger-key: "/pg/pg-test/leader"\n' in text  # quotes kept
    assert "dcs-endpoints:\n  - https://10.10.10.10:2379\n  - https://10.10.10.11:2379\n" in text
    assert text.endswith("etcd-ca-file: /etc/etcd-client/ca.crt\n")  # a new key goes last


def test_a_new_key_of_a_section_keeps_the_blank_line_that_ends_it():
    text = set_keys("etcd3:\n  hosts: a:2379  # the old one\n\npostgresql:\n  listen: 5432\n", {"etcd3.cert": "/c", "etcd3.key": "/k"})
    assert text == "etcd3:\n  hosts: a:2379  # the old one\n  cert: /c\n  key: /k\n\npostgresql:\n  listen: 5432\n"


def test_none_removes_a_key_and_missing_mappings_are_made():
    text = set_keys("endpoints: [http://a:2379]\ndcs-type: etcd\n", {"endpoints": None, "etcd3.hosts": ["a:2379"]})
    assert yaml.safe_load(text) == {"dcs-type": "etcd", "etcd3": {"hosts": ["a:2379"]}}


def test_the_indentation_of_the_file_is_kept():
    text = set_keys("a:\n    b: 1\n", {"a.c": ["x"]})
    assert text == "a:\n    b: 1\n    c:\n        - x\n"
    assert set_keys("l:\n- 1\n", {"m": ["2"]}) == "l:\n- 1\nm:\n- '2'\n"


def test_long_lines_are_never_folded_and_an_empty_file_gets_the_keys():
    rule = "host all all 0.0.0.0/0 scram-sha-256 " + "x" * 120
    assert set_keys(f"pg_hba:\n  - {rule}\n", {"a": 1}) == f"pg_hba:\n  - {rule}\na: 1\n"
    assert set_keys("", {"etcd3.protocol": "https"}) == "etcd3:\n  protocol: https\n"


def test_a_boolean_is_written_as_yaml_reads_it():
    text = set_keys("scope: pg-test\netcd3:\n  hosts: [10.10.10.10:2379]\n", {"etcd3.use_proxies": True})
    assert "  use_proxies: true\n" in text and yaml.safe_load(text)["etcd3"]["use_proxies"] is True
