"""Upgrade and maintenance on lab nodes: a bookworm cluster (etcd 3.4.23) upgraded under the
continuous writer to trixie's 3.5.16 through packages; a cluster created from a 3.5.16 tarball
upgraded to sid's 3.5.30 through a tarball (release-style, repackaged from those packages: `bin/lab
tarball`); a minor skip, a downgrade and a switch from packages to a tarball refused before any
change; then a NOSPACE alarm cleared by maintain.

Tests run in order on one lab: each starts from what the previous one left.
"""

import hashlib
import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import deploy, etcdctl, lab, main_pids, ssh
from tests.writer import Writer

pytestmark = pytest.mark.etcd("3.4.23", "create", "upgrade")

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


@pytest.mark.etcd("3.5.16", "create", "upgrade")
def test_a_tarball_cluster_upgrades_to_a_newer_patch_release_with_a_tarball():
    lab("reset", "1", "2", "3")
    deploy("create", *tarball("3.5.16"))
    upgrade_under_writes("--data", "etcd_version=3.5.30", *tarball("3.5.30"))
    assert versions() == {"3.5.30"}
    assert etcdctl(NODES[2], "endpoint health --cluster").returncode == 0
    assert deploy("upgrade", "--data", "etcd_version=3.5.30", *tarball("3.5.30")).changed == {}


def test_a_member_that_does_not_come_back_stops_the_upgrade_with_the_others_untouched(tmp_path):
    good = lab("tarball", "3.5.30").stdout.strip()
    broken = tmp_path / "etcd-v3.5.31-linux-amd64.tar.gz"  # a release whose etcd does not start
    folder = tmp_path / "etcd-v3.5.31-linux-amd64"
    folder.mkdir()
    subprocess.run(["tar", "-xzf", good, "-C", str(folder), "--strip-components=1"], check=True)
    (folder / "etcd").write_text("#!/bin/sh\necho 'this etcd does not start' >&2\nexit 1\n")
    subprocess.run(["tar", "-czf", str(broken), "-C", str(tmp_path), folder.name], check=True)
    digest = hashlib.sha256(broken.read_bytes()).hexdigest()
    options = ("--data", f"etcd_tarball={broken}", "--data", f"etcd_tarball_sha256={digest}", "--data", "etcd_restart_timeout=15")
    first_leader = leader()
    run = deploy("upgrade", "--data", "etcd_version=3.5.31", *options, check=False)
    assert run.returncode != 0 and "To roll this member back" in run.stderr
    leader_address = first_leader.split("//")[1].split(":")[0]  # the leader's turn is last: it was not upgraded
    status = json.loads(etcdctl(leader_address, "endpoint status --cluster -w json", check=False).stdout or "[]")
    assert {s["Status"]["version"] for s in status} == {"3.5.30"}  # the members that answer were not touched
    # the rollback the message gives: the previous release's binaries, a restart
    failed = [a for a in NODES if ssh(a, "systemctl is-active etcd", check=False).stdout.strip() != "active"]
    assert len(failed) == 1
    subprocess.run(["scp", "-q", good, f"{failed[0]}:/tmp/good.tar.gz"], check=True)
    ssh(
        failed[0], "tar -xzf /tmp/good.tar.gz -C /usr/local/bin --strip-components=1 && systemctl reset-failed etcd; systemctl restart etcd"
    )
    assert etcdctl(NODES[0], "endpoint health --cluster").returncode == 0 and versions() == {"3.5.30"}
