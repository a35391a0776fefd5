"""Create from Pigsty's YAML config, unchanged, on lab nodes: the same cluster as
from a Python inventory."""

import json
import textwrap

import pytest

from tests.helpers import deploy, etcdctl, lab

CONFIG = """\
all:
  children:
    etcd:
      hosts:
        10.10.10.10: { etcd_seq: 1 }
        10.10.10.11: { etcd_seq: 2 }
        10.10.10.12: { etcd_seq: 3 }
      vars: { etcd_cluster: etcd }
"""


@pytest.fixture(scope="module", autouse=True)
def bare_nodes():
    lab("up", "-n", "3")
    lab("reset", "1", "2", "3")


def test_create_from_a_yaml_config(tmp_path):
    config = tmp_path / "etcd.yml"
    config.write_text(textwrap.dedent(CONFIG))
    env = {"ETCD_CONFIG": str(config)}
    created = deploy("create", inventory="inventories/yaml_config.py", extra_env=env)
    assert sorted(created.changed["etcd member | Start etcd"]) == ["10.10.10.10", "10.10.10.11", "10.10.10.12"]
    listing = json.loads(etcdctl("10.10.10.11", "member list -w json").stdout)["members"]
    assert sorted(m["name"] for m in listing) == ["etcd-1", "etcd-2", "etcd-3"]
    assert etcdctl("10.10.10.10", "endpoint health --cluster").returncode == 0
    # the Python inventory of the same nodes sees the same cluster: nothing to change
    assert deploy("create").changed == {}
    assert deploy("create", inventory="inventories/yaml_config.py", extra_env=env).changed == {}


def test_a_bad_yaml_config_stops_before_any_host_is_touched(tmp_path):
    config = tmp_path / "etcd.yml"
    config.write_text("etcd:\n  hosts:\n    10.10.10.10: { etcd_seq: one }\n")
    run = deploy("create", inventory="inventories/yaml_config.py", extra_env={"ETCD_CONFIG": str(config)}, check=False)
    assert run.returncode != 0 and str(config) in run.stderr and "etcd_seq" in run.stderr and "10.10.10.10" in run.stderr
    assert not run.executed
