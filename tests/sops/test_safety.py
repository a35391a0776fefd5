"""The destructive paths refuse what this cluster does not provably own, and anything before its
precondition holds: each case tried as an operator would, on lab nodes. After every refusal the
cluster of nodes 1-3 is healthy, its membership unchanged, and every key written is readable.

Tests run in order on one lab: each says what it starts from.
"""

import json
import shlex
import textwrap
import time

import pytest

from tests.helpers import ROOT, deploy, etcdctl, lab, pyinfra, script, ssh

NODES = ["10.10.10.10", "10.10.10.11", "10.10.10.12"]
OTHER, SPARE = "10.10.10.13", "10.10.10.14"  # node4, node5
KEYS = 20


@pytest.fixture(scope="module", autouse=True)
def cluster_with_keys():
    lab("up", "-n", "5")
    lab("reset", "1", "2", "3", "4", "5")
    deploy("create")
    for number in range(KEYS):
        etcdctl(NODES[number % 3], f"put /safety/{number:02d} value-{number}")


def cluster_id(address: str = NODES[0]) -> str:
    return json.loads(etcdctl(address, "member list -w json").stdout)["header"]["cluster_id"]


@pytest.fixture(scope="module")
def first_id(cluster_with_keys) -> str:
    return cluster_id()


def assert_intact(first_id: str) -> None:
    """The cluster of nodes 1-3 is the one created, healthy, with its three members and every key."""
    listing = json.loads(etcdctl(NODES[1], "member list -w json").stdout)
    assert listing["header"]["cluster_id"] == first_id
    assert sorted(m["name"] for m in listing["members"]) == ["etcd-1", "etcd-2", "etcd-3"]
    assert etcdctl(NODES[2], "endpoint health --cluster").returncode == 0
    keys = etcdctl(NODES[0], "get /safety/ --prefix --keys-only").stdout.split()
    assert len(keys) == KEYS


def inventory(tmp_path, text: str, name: str = "inventory.py") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def conf_sums() -> dict[str, str]:
    return {address: ssh(address, "sha256sum /etc/etcd/etcd.conf").stdout for address in NODES}


@pytest.mark.parametrize(
    "sop, args, message",
    [
        ("remove", ("--limit", NODES[2], "--data", "etcd_data=/data"), "etcd_data '/data' is a system folder"),
        (
            "remove",
            ("--limit", NODES[2], "--data", "etcd_data=/etc/../etc"),
            "etcd_data '/etc/../etc' must be an absolute, normalised path",
        ),
        ("create", ("--data", "etcd_cluster=etcd\nx"), "etcd_cluster 'etcd\\nx' must be letters, digits"),
        ("create", ("--data", 'etcd_compaction_retention=24h"'), "etcd_compaction_retention '24h\"' is not valid here"),
        ("remove", ("--data", "etcd_remove=10.10.10.12 $(id)"), "etcd_remove '10.10.10.12 $(id)' must be the IP address"),
    ],
    ids=["data=/data", "data=/etc/../etc", "newline", "quote", "shell"],
)
def test_bad_values_are_refused_before_any_host_changes(first_id, sop, args, message):
    before = conf_sums()
    run = deploy(sop, *args, check=False)
    assert run.returncode != 0 and not run.executed
    assert message in run.stderr and "host 10.10.10.1" in run.stderr
    assert conf_sums() == before
    assert_intact(first_id)


def folders() -> dict[str, str]:
    """Owner and mode of the folders a scheduled backup could take over, on every node."""
    return {address: ssh(address, "stat -c '%n %U:%G %a' /data/etcd /etc/etcd").stdout for address in NODES}


@pytest.mark.parametrize(
    "backup_dir, message",
    [
        ("/data/etcd", "is the data dir (etcd_data /data/etcd)"),
        ("/data/etcd/snapshots", "lies inside the data dir (etcd_data /data/etcd)"),
        ("/etc/etcd", "is etcd's configuration folder (/etc/etcd)"),
    ],
    ids=["data dir", "inside the data dir", "/etc/etcd"],
)
def test_a_backup_folder_that_etcdkit_uses_for_something_else_is_refused(first_id, backup_dir, message):
    before = folders(), conf_sums()
    run = deploy("create", "--data", "etcd_backup_schedule=daily", "--data", f"etcd_backup_dir_remote={backup_dir}", check=False)
    assert run.returncode != 0 and not run.executed
    assert f"etcd_backup_dir_remote {backup_dir!r} {message}" in run.stderr and "host 10.10.10.1" in run.stderr
    assert (folders(), conf_sums()) == before
    assert_intact(first_id)


# a client URL whose host part is a command substitution: Go's URL parser (and so etcd) accepts it
EVIL_URL = "https://$(date>etcdkit-pwned):2379"


def advertised_client_urls(address: str) -> list[str]:
    return [url for m in json.loads(etcdctl(address, "member list -w json").stdout)["members"] for url in m.get("clientURLs", [])]


def test_a_member_that_advertises_a_url_with_a_command_is_refused_and_nothing_runs(first_id):
    conf = "/etc/etcd/etcd.conf"
    evil = f"s|^advertise-client-urls: .*|advertise-client-urls: https://{NODES[2]}:2379,{EVIL_URL}|"
    ssh(NODES[2], f"cp {conf} /root/etcd.conf.orig && sed -i {shlex.quote(evil)} {conf} && systemctl restart etcd")
    try:
        deadline = time.monotonic() + 60
        while EVIL_URL not in advertised_client_urls(NODES[0]):
            assert time.monotonic() < deadline, "etcd-3 advertises the URL within 60 s"
            time.sleep(1)
        for sop in ("reload", "create"):
            run = deploy(sop, check=False)
            assert run.returncode != 0 and not run.executed
            assert "member etcd-3" in run.stderr and f"client URL {EVIL_URL!r}" in run.stderr
        for address in NODES:
            ssh(address, "bash -lc true")  # a root login reads /etc/profile.d/etcdctl.sh
            assert ssh(address, "ls -A /root /tmp").stdout.count("etcdkit-pwned") == 0
            assert EVIL_URL not in ssh(address, "cat /etc/profile.d/etcdctl.sh").stdout
    finally:
        ssh(NODES[2], f"cp /root/etcd.conf.orig {conf} && systemctl restart etcd")
    deadline = time.monotonic() + 60
    while EVIL_URL in advertised_client_urls(NODES[0]) or etcdctl(NODES[0], "endpoint health --cluster", check=False).returncode:
        assert time.monotonic() < deadline, "etcd-3 advertises its own URL again within 60 s"
        time.sleep(1)
    assert_intact(first_id)


@pytest.mark.parametrize("pg_cluster", ["root", "a$(id)"])
def test_bad_postgresql_cluster_names_are_refused(tmp_path, first_id, pg_cluster):
    path = inventory(
        tmp_path,
        f"""\
        etcd = ([("10.10.10.10", {{"etcd_seq": 1}}), ("10.10.10.11", {{"etcd_seq": 2}}), ("10.10.10.12", {{"etcd_seq": 3}})], {{}})
        pg = ([("{OTHER}", {{"pg_seq": 1}})], {{"pg_cluster": {pg_cluster!r}}})
        """,
    )
    run = deploy("reload", inventory=path, check=False)
    assert run.returncode != 0 and not run.executed
    assert f"host {OTHER}: pg_cluster {pg_cluster!r}" in run.stderr
    assert ssh(OTHER, "test -e /etc/etcd-client", check=False).returncode != 0
    assert_intact(first_id)


def test_remove_keeps_a_data_dir_that_holds_other_files(first_id):
    ssh(NODES[2], "echo precious > /data/etcd/notes.txt")
    try:
        run = deploy("remove", "--limit", NODES[2], check=False)
        assert run.returncode != 0 and not run.executed
        assert "holds more than etcd's member/ (notes.txt)" in run.stderr
        assert ssh(NODES[2], "cat /data/etcd/notes.txt").stdout.strip() == "precious"
        assert_intact(first_id)
    finally:
        ssh(NODES[2], "rm -f /data/etcd/notes.txt")


def test_a_failed_snapshot_stops_destroy_before_any_host_changes(first_id):
    failing = (
        'mv /usr/bin/etcdctl /usr/bin/etcdctl.real && printf \'#!/bin/sh\\ncase " $* " in *" snapshot "*) '
        'echo "snapshot refused by the test" >&2; exit 1 ;; esac\\nexec /usr/bin/etcdctl.real "$@"\\n\' > /usr/bin/etcdctl '
        "&& chmod 755 /usr/bin/etcdctl"
    )
    backups = set((ROOT / "backups").glob("*.db"))
    for address in NODES:
        ssh(address, failing)
    try:
        run = deploy("destroy", "--data", "etcd_safeguard=false", check=False)
        assert run.returncode != 0
        assert "snapshot refused by the test" in run.stdout + run.stderr
    finally:
        for address in NODES:
            ssh(address, "mv /usr/bin/etcdctl.real /usr/bin/etcdctl")
    assert set((ROOT / "backups").glob("*.db")) == backups
    for address in NODES:
        assert ssh(
            address, "systemctl is-active etcd; test -d /data/etcd/member && test -f /etc/etcd/etcd.conf && echo kept"
        ).stdout.split() == [
            "active",
            "kept",
        ]
    assert_intact(first_id)


def test_destroy_of_a_part_of_the_cluster_is_refused(first_id):
    run = deploy("destroy", "--limit", NODES[0], "--data", "etcd_safeguard=false", check=False)
    assert run.returncode != 0 and not run.executed
    assert "the run leaves out 10.10.10.11, 10.10.10.12" in run.stderr
    assert_intact(first_id)


def test_the_safeguard_of_one_host_guards_the_whole_cluster(tmp_path, first_id):
    path = inventory(
        tmp_path,
        """\
        etcd = ([("10.10.10.10", {"etcd_seq": 1}), ("10.10.10.11", {"etcd_seq": 2}), ("10.10.10.12", {"etcd_seq": 3, "etcd_safeguard": True})], {})
        """,
    )
    destroy = deploy("destroy", inventory=path, check=False)
    assert destroy.returncode != 0 and not destroy.executed
    assert "etcd_safeguard is on: refusing to destroy cluster `etcd`" in destroy.stderr and "set for 10.10.10.12" in destroy.stderr
    clean = deploy("create", "--data", "etcd_clean=true", inventory=path, check=False)
    assert clean.returncode != 0 and not clean.executed
    assert "etcd_safeguard is on (10.10.10.12)" in clean.stderr
    assert_intact(first_id)


def test_etcd_clean_in_a_yaml_config_is_refused(tmp_path, first_id):
    config = tmp_path / "pigsty.yml"
    config.write_text(
        textwrap.dedent(
            """\
            all:
              children:
                etcd:
                  hosts:
                    10.10.10.10: { etcd_seq: 1 }
                    10.10.10.11: { etcd_seq: 2 }
                    10.10.10.12: { etcd_seq: 3 }
                  vars: { etcd_cluster: etcd, etcd_clean: true, etcd_safeguard: false }
            """
        )
    )
    run = deploy("create", inventory="inventories/yaml_config.py", extra_env={"ETCD_CONFIG": str(config)}, check=False)
    assert run.returncode != 0 and not run.executed
    assert "etcd_clean is set in the inventory or YAML config" in run.stderr
    assert_intact(first_id)


def test_etcd_rm_destroys_only_a_cluster_named_on_its_command_line(first_id):
    bare = script("etcd-rm", nodes="1,2,3", check=False)
    assert bare.returncode == 2 and "to destroy the whole cluster, name it: --destroy CLUSTER" in bare.stderr
    wrong = script("etcd-rm", "--destroy", "etcd-staging", nodes="1,2,3", check=False)
    assert wrong.returncode == 2 and "does not name the cluster of" in wrong.stderr
    assert_intact(first_id)


def test_a_member_of_another_cluster_named_etcd_is_neither_joined_nor_removed(tmp_path, first_id):
    # node4 serves a one-member cluster `etcd` of its own, built by the toolkit from another inventory
    alone = inventory(tmp_path, f'etcd = ([("{OTHER}", {{"etcd_seq": 4}})], {{"etcd_cluster": "etcd"}})\n', "alone.py")
    deploy("create", inventory=alone)
    etcdctl(OTHER, "put /other/key mine")
    four = "1,2,3,4"
    join = deploy("join", "--limit", OTHER, nodes=four, check=False)
    assert join.returncode != 0 and not join.executed
    assert "10.10.10.13 is not a member of `etcd`: its etcd serves another cluster" in join.stderr
    added = script("etcd-add", OTHER, nodes=four, check=False)
    assert added.returncode != 0 and "its etcd serves another cluster" in added.stderr
    removal = deploy("remove", "--limit", OTHER, nodes=four, check=False)
    assert removal.returncode != 0 and not removal.executed
    assert "cannot remove 10.10.10.13: its etcd serves another cluster" in removal.stderr
    # stopped, its data is still another bootstrap's
    ssh(OTHER, "systemctl stop etcd")
    stopped = deploy("join", "--limit", OTHER, nodes=four, check=False)
    assert stopped.returncode != 0 and "bootstrapped with initial-cluster-token" in stopped.stderr
    ssh(OTHER, "systemctl start etcd")
    assert etcdctl(OTHER, "get /other/key --print-value-only").stdout.strip() == "mine"
    assert_intact(first_id)
    lab("reset", "4")


def test_the_own_config_form_never_stops_the_packages_own_etcd(first_id):
    ssh(SPARE, "DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server >/dev/null && systemctl is-active etcd")
    run = pyinfra(f"@ssh/{SPARE}", "deploys/remove.py", check=False)
    assert run.returncode != 0 and not run.executed
    assert "runs an etcd, but has no /etc/etcd/etcd.conf of a member" in run.stderr
    assert ssh(SPARE, "systemctl is-active etcd").stdout.strip() == "active"
    lab("reset", "5")


def test_destroying_one_cluster_keeps_the_prometheus_targets_of_another(tmp_path, first_id):
    ssh(OTHER, "useradd --system prometheus && mkdir -p /etc/prometheus")
    staging = inventory(
        tmp_path,
        f"""\
        etcd = ([("{SPARE}", {{"etcd_seq": 1}})], {{"etcd_cluster": "etcd-staging"}})
        infra = ([("{OTHER}", {{}})], {{}})
        """,
        "staging.py",
    )
    main = inventory(
        tmp_path,
        f"""\
        etcd = ([("10.10.10.10", {{"etcd_seq": 1}}), ("10.10.10.11", {{"etcd_seq": 2}}), ("10.10.10.12", {{"etcd_seq": 3}})], {{}})
        infra = ([("{OTHER}", {{}})], {{}})
        """,
        "main.py",
    )
    deploy("create", inventory=staging)
    deploy("create", inventory=main)
    targets = "ls /etc/prometheus/targets/etcd"
    assert ssh(OTHER, targets).stdout.split() == ["etcd-1.yml", "etcd-2.yml", "etcd-3.yml", "etcd-staging-1.yml"]
    assert deploy("create", inventory=main).changed == {}  # the other cluster's file is not one of its members
    deploy("destroy", inventory=staging)
    assert ssh(OTHER, targets).stdout.split() == ["etcd-1.yml", "etcd-2.yml", "etcd-3.yml"]
    assert_intact(first_id)
