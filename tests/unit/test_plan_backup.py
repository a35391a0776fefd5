"""backup's decisions: what stops it, which member the snapshot comes through, what retention deletes."""

import pytest

from etcdkit.plans.backup import BackupFacts, decide
from tests.unit.plans_data import UNREACHABLE, address, assert_control_node_untouched, client_url, entry, inventory, refused, view

NOW = "20250101T120000Z"


def facts(inv, live, states=None, existing=(), now=NOW, in_run=None) -> BackupFacts:
    return BackupFacts(inv.spec, inv.hosts(states, in_run=in_run), live, now, tuple(existing))


@pytest.mark.parametrize(
    "live, code",
    [(None, "backup.down"), (view(1, 2, 3, leader=None), "backup.no_leader")],
    ids=["no member answers", "no leader"],
)
def test_a_cluster_that_cannot_be_snapshotted_safely_is_refused(tmp_path, live, code):
    inv = inventory(tmp_path)
    with refused(code) as raised:
        decide(facts(inv, live))
    assert "cluster `etcd`" in str(raised.value)
    assert_control_node_untouched(inv)


def test_the_snapshot_avoids_the_leader(tmp_path):
    plan = decide(facts(inventory(tmp_path), view(1, 2, 3, leader=1)))
    assert (plan.snapshot_host, plan.endpoint, plan.warnings) == (address(2), client_url(2), [])
    plan = decide(facts(inventory(tmp_path), view(1, 2, 3, leader=2)))
    assert plan.snapshot_host == address(1)


def test_the_leader_serves_when_no_follower_is_healthy(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, view(1, 2, 3, leader=1, down={2, 3}), {2: UNREACHABLE, 3: inv.ours(3, running=False)}))
    assert plan.snapshot_host == address(1)
    assert plan.warnings == ["no follower of `etcd` in the run is healthy: the snapshot is taken through the leader etcd-1"]


def test_a_learner_is_not_snapshotted_nor_a_host_out_of_the_run(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, view(1, 2, entry(3, learner=True), leader=1), in_run=[1, 3]))
    assert plan.snapshot_host == address(1)


def test_no_healthy_voting_member_in_the_run_is_refused(tmp_path):
    inv = inventory(tmp_path)
    with refused("backup.no_voter"):
        decide(facts(inv, view(1, 2, 3, leader=1, down={2}), in_run=[2]))


def test_a_member_of_another_cluster_is_not_snapshotted(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, view(1, 2, 3, leader=1), {2: inv.ours(2, cluster_id=0xBEEF)}))
    assert plan.snapshot_host == address(3)


def test_the_snapshot_and_its_sidecar(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, view(1, 2, 3)))
    assert plan.path == (tmp_path / "backups").resolve() / "etcd-20250101T120000Z.db"
    assert plan.about["cluster"] == "etcd" and plan.about["taken_at"] == "2025-01-01T12:00:00Z"
    assert [m["name"] for m in plan.about["members"]] == ["etcd-1", "etcd-2", "etcd-3"]
    assert plan.expired == []
    assert_control_node_untouched(inv)


def test_a_second_run_makes_a_new_file(tmp_path):
    inv = inventory(tmp_path)
    first = decide(facts(inv, view(1, 2, 3)))
    second = decide(facts(inv, view(1, 2, 3), existing=[first.path.name], now="20250101T120001Z"))
    assert second.path != first.path and second.expired == []
    with refused("backup.exists") as raised:
        decide(facts(inv, view(1, 2, 3), existing=[first.path.name]))
    assert str(first.path) in str(raised.value)


def test_retention_deletes_only_this_clusters_older_snapshots(tmp_path):
    inv = inventory(tmp_path, etcd_backup_keep=2)
    existing = [
        "etcd-20241230T000000Z.db",
        "etcd-20241230T000000Z.json",
        "etcd-20241231T000000Z.db",
        "etcd-20241231T000000Z.json",
        "etcd-staging-20200101T000000Z.db",
        "etcd-20200101T000000Z.db.keep",
        "README",
    ]
    plan = decide(facts(inv, view(1, 2, 3), existing=existing))
    folder = (tmp_path / "backups").resolve()
    assert plan.expired == [folder / "etcd-20241230T000000Z.db"]


def test_a_snapshot_without_its_sidecar_is_neither_counted_nor_deleted_and_is_named(tmp_path):
    inv = inventory(tmp_path, etcd_backup_keep=2)
    existing = ["etcd-20241230T000000Z.db", "etcd-20241230T000000Z.json", "etcd-20241231T000000Z.db"]  # the newest never verified
    plan = decide(facts(inv, view(1, 2, 3), existing=existing))
    assert plan.expired == []  # the verified one is kept: the new one makes two
    [warning] = plan.warnings
    assert warning.startswith("etcd-20241231T000000Z.db in ") and "no sidecar" in warning
