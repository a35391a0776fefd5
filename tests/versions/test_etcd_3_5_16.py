"""etcd 3.5.16, Debian trixie's, on lab nodes: the SOPs that `make test` runs on 3.5.30 only (recover, a CA
rotation), so that each SOP runs on both releases of 3.5 the lab serves.

Tests run in order on one lab: each starts from what the previous one left.
"""

import pytest

from tests.helpers import deploy, etcdctl, lab, members, script, ssh
from tests.versions.steps import NODES, cas_there_and_back, lose_the_quorum_for_good, members_trust, the_survivor_kept_its_data

pytestmark = pytest.mark.etcd("3.5.16", "create", "rotate_ca", "recover", "join")


@pytest.fixture(scope="module", autouse=True)
def cluster():
    lab("up", "-n", "3")
    lab("reset", "1", "2", "3")
    deploy("create")


def healthy() -> bool:
    return etcdctl(NODES[0], "endpoint health --cluster", check=False).returncode == 0


def test_a_ca_rotation_on_3_5_16(tmp_path):
    for folder, rotate in cas_there_and_back(tmp_path):
        deploy("rotate_ca", *rotate)
        assert members_trust(folder) and healthy()
        assert deploy("rotate_ca", *rotate).changed == {}


def test_recover_on_3_5_16():
    lose_the_quorum_for_good()
    run = deploy("recover")
    assert "etcd-1 (10.10.10.10) becomes a one-member cluster" in run.stderr and the_survivor_kept_its_data()
    script("etcd-add", NODES[1], NODES[2], nodes="1,2,3")
    assert len(members(NODES[0])) == 3 and healthy()
    assert all("etcd Version: 3.5.16" in ssh(address, "etcd --version").stdout for address in NODES)
