"""The builders of plans_data stay faithful to what the lab really reports (data/, etcd 3.5.16)."""

from etcdkit.facts.etcd import EtcdCluster, EtcdHost

from etcdkit.model import paths
from etcdkit.model.host import EtcdHostState
from tests.unit.plans_data import DATA, bare, inventory, view


def fact(name: str):
    return EtcdHost().process((DATA / name).read_text().splitlines())


def test_a_bare_host_is_the_captured_bare_host():
    assert bare() == fact("host_bare.txt")


def test_an_up_to_date_member_is_the_captured_member(tmp_path):
    captured, built = fact("host_member.txt"), inventory(tmp_path).ours(2)
    assert type(built) is type(captured) is EtcdHostState
    assert built.conf == captured.conf
    for path in (paths.CONF, paths.UNIT, paths.ENV):
        assert built.sha256[path] == captured.sha256[path]
    assert (built.active, built.data, built.listeners) == (captured.active, captured.data, captured.listeners)


def test_a_built_view_reads_as_the_captured_one():
    captured = EtcdCluster().process((DATA / "cluster_healthy.txt").read_text().splitlines())
    built = view(1, 2, 3, leader=2)
    assert [(m.name, m.peer_urls, m.client_urls, m.is_learner) for m in built.members] == [
        (m.name, m.peer_urls, m.client_urls, m.is_learner) for m in captured.members
    ]
    assert set(built.status) == set(captured.status) and set(built.health) == set(captured.health)
    assert built.leader().name == captured.leader().name == "etcd-2"
    assert built.health_problems() == captured.health_problems() == []


def test_a_built_down_member_reads_as_the_captured_one():
    captured = EtcdCluster().process((DATA / "cluster_member_down.txt").read_text().splitlines())
    built = view(1, 2, 3, leader=2, down={3})
    assert built.health_problems() == captured.health_problems()
    assert set(built.status) == set(captured.status)
