"""etcd 3.4.23, Debian bookworm's, on lab nodes: the SOPs `make test` does not run on it (it runs create,
backup, destroy, restore and an upgrade to 3.5 there), then etcd's upgrade path, one minor version at a
time, 3.4.23 -> 3.5.16 -> 3.5.30 on one cluster under the continuous writer.

The path goes through release tarballs (`bin/lab tarball`, repackaged from the lab's Debian builds): a
bookworm node runs sid's 3.5.30 binary, but sid's package does not install there (its sysusers.d file
needs trixie's systemd), and a member upgrades the way it was installed.

Tests run in order on one lab: each starts from what the previous one left.
"""

import hashlib
import json
import shlex
import time
from pathlib import Path

import pytest

from tests.helpers import deploy, etcdctl, lab, members, script, ssh
from tests.versions.steps import NODES, cas_there_and_back, lose_the_quorum_for_good, members_trust, the_survivor_kept_its_data
from tests.writer import Writer

pytestmark = pytest.mark.etcd("3.4.23", "create", "status", "join", "remove", "reload", "maintain", "rotate_ca", "recover")

NEW = "10.10.10.13"


@pytest.fixture(scope="module", autouse=True)
def bookworm_cluster():
    lab("down")
    lab("up", "-n", "4", "--release", "bookworm")
    deploy("create")
    yield
    lab("down")


def versions() -> set[str]:
    return {s["Status"]["version"] for s in json.loads(etcdctl(NODES[0], "endpoint status --cluster -w json").stdout)}


def healthy() -> bool:
    return all(h["health"] for h in json.loads(etcdctl(NODES[0], "endpoint health --cluster -w json").stdout))


def test_create_and_status_on_3_4():
    assert versions() == {"3.4.23"} and healthy()
    status = script("etcd-status", "--json", nodes="1,2,3", yes=False)
    document = json.loads(status.stdout)
    assert (document["status"], document["auth"], document["cluster_version"]) == ("healthy", True, "3.4")
    assert {m["version"] for m in document["members"]} == {"3.4.23"}


def test_join_and_remove_on_3_4():
    script("etcd-add", NEW, nodes="1,2,3,4")
    assert len(members(NODES[0])) == 4 and versions() == {"3.4.23"} and healthy()
    script("etcd-rm", NEW, nodes="1,2,3,4")
    assert sorted(url for m in members(NODES[0]) for url in m["peerURLs"]) == [f"https://{a}:2380" for a in NODES]
    assert ssh(NEW, "systemctl is-active etcd", check=False).stdout.strip() != "active"


def test_reload_and_maintain_on_3_4():
    assert deploy("reload").changed == {}  # etcd-add and etcd-rm reloaded the clients already
    # 4 MB written and deleted (values through stdin: an argument holds at most 128 KiB): history to compact, space to free
    fill = "head -c 300000 /dev/urandom | base64 -w0 > /tmp/value; for i in $(seq 10); do etcdctl put /maintain/$i < /tmp/value >/dev/null; done"
    ssh(NODES[0], f"bash -lc {shlex.quote(fill + '; etcdctl del /maintain/ --prefix >/dev/null')}")
    run = deploy("maintain", "--data", "etcd_compact_keep=0")
    assert run.changed and healthy()
    assert deploy("maintain", "--data", "etcd_compact_keep=0").changed == {}


def test_recover_on_3_4():
    lose_the_quorum_for_good()
    run = deploy("recover")
    assert "etcd-1 (10.10.10.10) becomes a one-member cluster" in run.stderr and the_survivor_kept_its_data()
    script("etcd-add", NODES[1], NODES[2], nodes="1,2,3")
    assert len(members(NODES[0])) == 3 and versions() == {"3.4.23"} and healthy()


def test_a_ca_rotation_on_3_4_and_back(tmp_path):
    for folder, rotate in cas_there_and_back(tmp_path):
        deploy("rotate_ca", *rotate)
        assert members_trust(folder) and healthy()
        assert deploy("rotate_ca", *rotate).changed == {}


def tarball(version: str, release: str) -> tuple[str, ...]:
    """The options of a release-style tarball of this version, from the lab repository of release."""
    path = lab("tarball", version, "--release", release).stdout.strip()
    return ("--data", f"etcd_tarball={path}", "--data", f"etcd_tarball_sha256={hashlib.sha256(Path(path).read_bytes()).hexdigest()}")


@pytest.mark.etcd("3.5.30", "upgrade")
@pytest.mark.etcd("3.5.16", "upgrade")
@pytest.mark.etcd("3.4.23", "upgrade")
def test_the_upgrade_path_3_4_to_3_5_16_to_3_5_30_under_writes():
    lab("reset", "1", "2", "3")
    deploy("create", *tarball("3.4.23", "bookworm"))
    assert versions() == {"3.4.23"}
    steps = (("3.5.16", "bookworm"), ("3.5.30", "trixie"))  # bookworm's lab repository has trixie's 3.5.16
    skip = deploy("upgrade", "--data", "etcd_version=3.6.0", check=False)  # etcd upgrades one minor version at a time
    assert skip.returncode != 0 and "etcd_version=3.5." in skip.stderr and not skip.executed
    with Writer(NODES) as writer:
        for version, release in steps:
            started = time.monotonic()
            deploy("upgrade", "--data", f"etcd_version={version}", *tarball(version, release))
            print(f"upgrade to {version}: {time.monotonic() - started:.1f} s")
            assert versions() == {version} and healthy()
        time.sleep(1)
    counts = writer.counts(NODES[0])
    print(f"3.4.23 -> 3.5.16 -> 3.5.30, continuous writer: {counts}")
    assert counts.acknowledged > 100 and counts.lost == 0
