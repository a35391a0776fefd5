"""Upgrade and maintenance on lab nodes: a bookworm cluster (etcd 3.4.23) upgraded under the
continuous writer to trixie's 3.5.16 through packages; a cluster created from a 3.5.16 tarball
upgraded to sid's 3.5.30 through a tarball (release-style, repackaged from those packages: `bin/lab
tarball`); a minor skip, a downgrade and a switch from packages to a tarball refused before any
change; then a NOSPACE alarm cleared by maintain.

Tests run in order on one lab: each starts from what the previous one left.
"""

import hashlib
import json
import time
from pathlib import Path

import pytest

from tests.helpers import deploy, etcdctl, lab, main_pids, ssh
from tests.writer import Writer

NODES = ["10.10.10.10", "10.10.10.11", "10.10.10.12"]


@pytest.fixture(scope="module", autouse=True)
def bookworm_cluster():
    lab("down")
    lab("up", "--release", "bookworm")
    lab("reset", "1", "2", "3")
    deploy("create")
    yield
    lab("down")
    lab("up")


def versions() -> set[str]:
    return {s["Status"]["version"] for s in json.loads(etcdctl(NODES[0], "endpoint status --cluster -w json").stdout)}


def leader() -> str:
    status = json.loads(etcdctl(NODES[0], "endpoint status --cluster -w json").stdout)
    return next(s["Endpoint"] for s in status if s["Status"]["leader"] == s["Status"]["header"]["member_id"])


@pytest.mark.parametrize(
    "version, refusal",
    [("3.6.0", "skips a minor version"), ("3.4.20", "is older than the etcd that runs")],
    ids=["minor skip", "downgrade"],
)
def test_a_minor_skip_and_a_downgrade_are_refused_before_any_change(version, refusal):
    pids = main_pids(NODES)
    run = deploy("upgrade", "--data", f"etcd_version={version}", check=False)
    assert run.returncode != 0 and refusal in run.stderr and not run.executed
    assert main_pids(NODES) == pids and versions() == {"3.4.23"}


def upgrade_under_writes(*args: str):
    first_leader = leader()
    with Writer(NODES) as writer:
        started = time.monotonic()
        run = deploy("upgrade", *args)
        took = time.monotonic() - started
        time.sleep(1)
    counts = writer.counts(NODES[0])
    print(f"upgrade {' '.join(args)}: {took:.1f} s, continuous writer {counts}")
    assert counts.acknowledged > 50 and counts.lost == 0
    # followers first, the leader last
    assert run.changed[[name for name in run.changed if "the leader, last" in name][0]] == [first_leader.split("//")[1].split(":")[0]]
    return run


def test_packages_upgrade_3_4_to_3_5_one_member_at_a_time_under_writes():
    upgrade_under_writes("--data", "etcd_version=3.5.16")
    assert versions() == {"3.5.16"}
    for address in NODES:
        assert ssh(address, "dpkg-query -W -f '${Version}' etcd-server").stdout.startswith("3.5.16")
    assert etcdctl(NODES[1], "endpoint health --cluster").returncode == 0
    assert deploy("upgrade", "--data", "etcd_version=3.5.16").changed == {}


def tarball(version: str) -> tuple[str, ...]:
    """The options of a release-style tarball of this version (repackaged from the lab's packages)."""
    path = lab("tarball", version).stdout.strip()
    return ("--data", f"etcd_tarball={path}", "--data", f"etcd_tarball_sha256={hashlib.sha256(Path(path).read_bytes()).hexdigest()}")


def test_a_package_cluster_is_not_switched_to_a_tarball():
    pids = main_pids(NODES)
    run = deploy("upgrade", "--data", "etcd_version=3.5.30", *tarball("3.5.30"), check=False)
    assert run.returncode != 0 and "runs etcd from packages, not a tarball" in run.stderr and not run.executed
    assert main_pids(NODES) == pids


def test_a_tarball_cluster_upgrades_to_a_newer_patch_release_with_a_tarball():
    lab("reset", "1", "2", "3")
    deploy("create", *tarball("3.5.16"))
    upgrade_under_writes("--data", "etcd_version=3.5.30", *tarball("3.5.30"))
    assert versions() == {"3.5.30"}
    assert etcdctl(NODES[2], "endpoint health --cluster").returncode == 0
    assert deploy("upgrade", "--data", "etcd_version=3.5.30", *tarball("3.5.30")).changed == {}
