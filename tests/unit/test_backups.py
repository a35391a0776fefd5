"""Snapshots on the control node: names, sidecars, and which files retention deletes (and never)."""

import pytest

from etcdkit.model import backups
from tests.unit.plans_data import CLUSTER_ID, client_url, peer_url, view

NOW = "20250101T120000Z"


def names(*times: str, cluster: str = "etcd") -> list[str]:
    return [f"{cluster}-{time}.db" for time in times]


def verified(*times: str, cluster: str = "etcd") -> list[str]:
    """Snapshots with their sidecars, as a backup that verified them leaves them."""
    return [*names(*times, cluster=cluster), *(f"{cluster}-{time}.json" for time in times)]


def test_a_snapshot_is_named_after_its_cluster_and_time(tmp_path):
    path = backups.snapshot_path(str(tmp_path / "backups"), "etcd", NOW)
    assert path == tmp_path / "backups" / "etcd-20250101T120000Z.db"
    assert backups.sidecar_path(path) == tmp_path / "backups" / "etcd-20250101T120000Z.json"


def test_retention_keeps_the_newest_counting_the_new_one():
    existing = verified("20250103T000000Z", "20250101T000000Z", "20250102T000000Z", "20241231T235959Z")
    assert backups.expired(existing, "etcd", keep=3) == names("20241231T235959Z", "20250101T000000Z")
    assert backups.expired(existing, "etcd", keep=1) == sorted(name for name in existing if name.endswith(".db"))
    assert backups.expired(existing, "etcd", keep=5) == []
    assert backups.expired(existing, "etcd", keep=0) == []  # 0 keeps every snapshot


@pytest.mark.parametrize(
    "name",
    [
        "etcd-staging-20200101T000000Z.db",  # another cluster whose name starts with this one's
        "etcd-20200101T000000Z.json",  # a sidecar goes only with its snapshot
        "etcd-20200101T000000Z.db.bak",
        "etcd-20200101T000000Z.db~",
        "etcd-20200101T0000Z.db",
        "etcd-20200101T000000.db",
        "etcd-latest.db",
        "etcd.db",
        "xetcd-20200101T000000Z.db",
        "notes.txt",
    ],
)
def test_retention_never_picks_another_clusters_snapshot_nor_another_file(name):
    assert backups.expired([name, *verified("20250101T000000Z")], "etcd", keep=1) == names("20250101T000000Z")


def test_a_cluster_name_is_matched_literally():
    existing = [*verified("20200101T000000Z", cluster="e.cd"), *verified("20200101T000000Z")]
    assert backups.expired(existing, "e.cd", keep=1) == ["e.cd-20200101T000000Z.db"]


def test_retention_counts_and_deletes_only_verified_snapshots():
    good = [f"2025010{day}T000000Z" for day in range(1, 8)]
    failed = [f"2025020{day}T000000Z" for day in range(1, 7)]  # newer, without sidecars: runs that failed
    existing = [*verified(*good), *names(*failed)]
    assert backups.expired(existing, "etcd", keep=7) == names(good[0])  # not all seven
    assert backups.verified(existing, "etcd") == names(*good)
    assert backups.unverified(existing, "etcd") == names(*failed)


def test_the_sidecar_describes_the_cluster():
    about = backups.about("etcd", view(1, 2), client_url(2), NOW)
    assert about == {
        "cluster": "etcd",
        "cluster_id": f"{CLUSTER_ID:x}",
        "members": [
            {"name": "etcd-1", "peer_urls": [peer_url(1)], "client_urls": [client_url(1)]},
            {"name": "etcd-2", "peer_urls": [peer_url(2)], "client_urls": [client_url(2)]},
        ],
        "etcd_version": "3.5.16",
        "taken_from": client_url(2),
        "taken_at": "2025-01-01T12:00:00Z",
    }
