"""etcd 3.4 to 3.7 as etcd's own source defines them, for what the lab cannot run (3.6, 3.7): the JSON
etcdctl and etcdutl print (data/cluster_3.*.txt, data/snapshot_status.json), the keys a
configuration file may hold (data/etcd_config_keys.json) and the commands and flags of etcdctl and
etcdutl (data/etcd_commands.json), each file saying where in etcd's source it comes from, against
etcdkit's parsers, its etcd.conf and its command lines."""

import dataclasses
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from etcdkit.facts.etcd import EtcdCluster, EtcdMembership, EtcdV2Store, _own_status, sections

from etcdkit.model import paths
from etcdkit.model.auth import AuthState
from etcdkit.model.cluster import EndpointHealth
from etcdkit.model.data import V2StoreCheck
from etcdkit.model.host import OwnStatus
from etcdkit.model.inventory import Member
from etcdkit.model.versions import BY_NAME, RULES, cluster_version, downgrade_target, offline_tool
from etcdkit.operations import upgrade
from etcdkit.plans import status
from etcdkit.plans.downgrade import DowngradeFacts
from etcdkit.plans.downgrade import decide as decide_downgrade
from etcdkit.remote import snapshots
from etcdkit.remote.etcdctl import defrag
from tests.unit.fake_host import FakeHost, call, fact, run, shell
from tests.unit.plans_data import NOW, inventory
from tests.unit.test_operations import prepared_snapshot, snapshot_host

DATA = Path(__file__).parent / "data"
CONFIG = json.loads((DATA / "etcd_config_keys.json").read_text())["versions"]
COMMANDS = json.loads((DATA / "etcd_commands.json").read_text())["versions"]
SNAPSHOTS = json.loads((DATA / "snapshot_status.json").read_text())["outputs"]
RELEASE_OF = {"3.4": "3.4.23", "3.5": "3.5.16", "3.6": "3.6.11", "3.7": "3.7.1"}  # the release of each minor version read
ENDPOINT = "https://10.10.10.10:2379"
TRANSPORT = ("client-transport-security", "peer-transport-security")


def cluster(name: str):
    """The live cluster as the EtcdCluster fact reads a sample."""
    return EtcdCluster().process((DATA / name).read_text().splitlines())


def recorded(name: str, section: str) -> dict[str, dict]:
    """A sample's `endpoint status` (section "status") or `endpoint health` ("health") as etcdctl
    printed it, by endpoint."""
    entries = json.loads(sections((DATA / name).read_text().splitlines(), (section,))[section])
    return {entry.get("Endpoint", entry.get("endpoint")): entry for entry in entries}


@pytest.mark.parametrize("name", ["cluster_3.4.txt", "cluster_healthy.txt", "cluster_3.6_downgrading.txt", "cluster_member_down.txt"])
def test_each_endpoints_status_and_health_are_read_once_into_frozen_values(name):
    view = cluster(name)
    for url, entry in recorded(name, "status").items():
        raw, status = entry["Status"], view.status[url]
        header = raw["header"]
        assert (status.member_id, status.cluster_id, status.revision) == (header["member_id"], header["cluster_id"], header["revision"])
        assert (status.leader, status.raft_term, status.raft_index, status.raft_applied_index) == (
            raw["leader"],
            raw["raftTerm"],
            raw["raftIndex"],
            raw["raftAppliedIndex"],
        )
        assert (status.db_size, status.db_size_in_use, status.version) == (raw["dbSize"], raw["dbSizeInUse"], raw["version"])
        assert (status.is_learner, status.errors) == (raw.get("isLearner", False), ())
        assert status.downgrade == (raw["downgradeInfo"]["targetVersion"] if "downgradeInfo" in raw else None)
        with pytest.raises(dataclasses.FrozenInstanceError):
            status.version = "3.9.0"  # type: ignore[misc]
    for url, entry in recorded(name, "health").items():
        health = view.health[url]
        assert (health.healthy, health.took, health.error) == (entry["health"], entry["took"], entry.get("error", ""))
        with pytest.raises(dataclasses.FrozenInstanceError):
            health.healthy = True  # type: ignore[misc]


def test_a_downgrade_and_an_unhealthy_member_are_read_from_their_samples():
    downgrading = cluster("cluster_3.6_downgrading.txt")
    assert sorted((s.version, s.downgrade) for s in downgrading.status.values()) == [
        ("3.5.32", None),
        ("3.6.11", "3.5.0"),
        ("3.6.11", "3.5.0"),
    ]
    down = cluster("cluster_member_down.txt")
    assert down.health["https://10.10.10.12:2379"] == EndpointHealth(healthy=False, took="", error="context deadline exceeded")
    assert "https://10.10.10.12:2379" not in down.status


def test_the_samples_cover_every_minor_version_of_the_table():
    assert set(RELEASE_OF) == set(BY_NAME)
    assert {release for release in RELEASE_OF.values()} <= set(CONFIG) & set(COMMANDS) & set(SNAPSHOTS)


@pytest.mark.parametrize(
    "name, release",
    [("cluster_3.4.txt", "3.4.23"), ("cluster_healthy.txt", "3.5.16"), ("cluster_3.6.txt", "3.6.11"), ("cluster_3.7.txt", "3.7.1")],
)
def test_the_json_of_member_list_and_endpoint_status_reads_alike_in_every_release(name, release):
    view = cluster(name)
    assert set(view.versions().values()) == {release}
    assert cluster_version(view.versions().values()) == release[:3]
    assert view.leader().name == "etcd-2" and view.health_problems() == []
    assert downgrade_target(view.status.values()) is None
    for member in view.members:
        assert view.status_of(member).db_size > 0 and view.status_of(member).raft_index > 0


def test_a_learner_is_read_from_the_3_4_json():
    view = cluster("cluster_3.4.txt")
    assert [member.name for member in view.pending] == ["etcd-3"]
    assert view.status_of(view.pending[0]).is_learner is True


def test_a_members_own_status_is_read_in_every_release():
    for name in ("cluster_3.4.txt", "cluster_3.6.txt", "cluster_3.7.txt"):
        view = cluster(name)
        own = [{"Endpoint": "https://127.0.0.1:2379", "Status": recorded(name, "status")[ENDPOINT]["Status"]}]
        assert _own_status(json.dumps(own)) == OwnStatus(view.cluster_id, view.members[0].id, view.versions()[view.members[0].name])


def test_a_downgrade_under_way_is_read_from_its_3_6_members_and_resumed(tmp_path):
    view = cluster("cluster_3.6_downgrading.txt")
    assert downgrade_target(view.status.values()) == "3.5"
    doc = status.build("etcd", [], view, (), AuthState(anonymous=False, root=True, refused=False), {}, NOW)
    assert (doc["cluster_version"], doc["downgrade"], doc["exit_code"]) == ("3.5", "3.5", 1)
    inv = inventory(tmp_path)
    plan = decide_downgrade(DowngradeFacts(inv.spec, inv.hosts(etcd_version="3.5.32"), view))
    assert (plan.enable, plan.turns, plan.leader_host) == (False, [inv.name(3), inv.name(2)], inv.name(2))


@pytest.mark.parametrize("release", sorted(SNAPSHOTS))
def test_snapshot_status_of_every_release_verifies_a_snapshot(tmp_path, release):
    dest = tmp_path / "backups" / "etcd-20250101T000000Z.db"
    command, remote = prepared_snapshot(dest, version=release, etcdutl=release != "3.4.23")
    call(command, snapshot_host(remote, status=SNAPSHOTS[release]))
    assert dest.exists()


# etcd.conf: every key etcdkit writes is one each supported release reads


def written_keys(tmp_path) -> set[str]:
    conf = yaml.safe_load(inventory(tmp_path).files(1)[paths.CONF])
    return {key for key in conf if key not in TRANSPORT} | {f"{part}.{key}" for part in TRANSPORT for key in conf[part]}


def test_every_key_of_etcd_conf_exists_in_every_supported_release(tmp_path):
    written = written_keys(tmp_path)
    for minor, release in RELEASE_OF.items():
        known = set(CONFIG[release]["keys"]) | {f"{part}.{key}" for part in TRANSPORT for key in CONFIG[release]["transport-security"]}
        unread = written - known
        # the only gap, which the table names: 3.4 reads no peer allowed-hostname (any certificate of the CA is a peer)
        if minor == "3.4":
            assert unread == {"peer-transport-security.allowed-hostname"}
            assert any("allowed-hostname" in issue.what for issue in BY_NAME["3.4"].known_issues)
        else:
            assert unread == set(), f"etcd {release} does not read {sorted(unread)}"
        assert not any(BY_NAME[minor].drops(key.split(".")[0]) for key in written)


def test_the_tables_removed_keys_are_those_etcds_source_drops():
    for before, after in zip(RULES, RULES[1:], strict=False):
        old, new = set(CONFIG[RELEASE_OF[before.name]]["keys"]), set(CONFIG[RELEASE_OF[after.name]]["keys"])
        assert old - new == {key for key in old if after.drops(key)}, after.name
        assert not any(after.drops(key) for key in new)


# command lines: what etcdkit runs is a command with flags of each release that runs it


def words_of(command: str) -> tuple[str, str, set[str]]:
    """(tool, subcommand, flags) of a command line (environment assignments skipped)."""
    words = [word for word in shlex.split(command) if not re.fullmatch(r"[A-Z_]+=.*", word)]
    flags = {word[2:].split("=")[0] for word in words if word.startswith("--")} | {"write-out" for word in words if word == "-w"}
    positional = [word for word in words[1:] if not word.startswith("-")]
    return words[0], " ".join(positional[:2]), flags


def runs_in(release: str, command: str) -> bool:
    tool, subcommand, flags = words_of(command)
    tools = COMMANDS[release]
    return tool in tools and subcommand in tools[tool] and flags <= set(tools[tool][subcommand]) | set(tools[tool][""])


@pytest.mark.parametrize("release", sorted(COMMANDS))
def test_snapshot_restore_and_status_run_with_the_tool_each_release_has(release):
    tool = offline_tool(release, "etcdutl" in COMMANDS[release])
    assert tool == ("etcdctl" if release.startswith("3.4.") else "etcdutl")
    member = Member(host_name="10.10.10.10", seq=1, cluster="etcd", address="10.10.10.10", port=2379, peer_port=2380)
    script = snapshots.restore("/data/x.restore.db", "/data/x", member, "etcd-1=https://10.10.10.10:2380", "etcd-t", tool)
    [restore] = [line for line in script.get_raw_value().splitlines() if " snapshot restore " in line]
    assert runs_in(release, restore) and runs_in(release, snapshots.status("/tmp/s.db", tool).get_raw_value())


def test_3_6_and_3_7_took_snapshot_restore_status_and_defrag_data_dir_out_of_etcdctl():
    for release in ("3.6.11", "3.7.1"):
        assert not {"snapshot restore", "snapshot status"} & set(COMMANDS[release]["etcdctl"])
        assert "data-dir" not in COMMANDS[release]["etcdctl"]["defrag"]
    assert offline_tool("3.6.11", etcdutl_installed=False) is None


@pytest.mark.parametrize("release", sorted(COMMANDS))
def test_etcdctl_of_every_release_takes_etcdkits_flags_and_maintains_online(release):
    assert runs_in(release, defrag(ENDPOINT, 600).get_raw_value())  # maintain's defragmentation, through the endpoint
    assert "user" in COMMANDS[release]["etcdctl"][""]  # ETCDCTL_USER is the flag --user


def test_the_v2_store_check_is_in_the_etcdutl_of_the_floor_before_3_6():
    command = re.search(r"etcdutl check v2store --data-dir \S+", EtcdV2Store().command("/data/etcd").get_raw_value()).group(0)
    assert str(BY_NAME["3.5"].floor) == "3.5.32" and runs_in("3.5.32", command)
    assert not runs_in("3.5.16", command)  # older 3.5 releases lack it: the floor comes first


def test_the_v2_store_check_reads_as_its_verdict_and_what_it_printed():
    found = EtcdV2Store().process(["failed", "", '{"level":"info"}', "Error: detected custom content in v2store"])
    assert found == V2StoreCheck(passed=False, output='{"level":"info"}\nError: detected custom content in v2store')
    assert EtcdV2Store().process(["passed"]) == V2StoreCheck(passed=True, output="")
    assert EtcdV2Store().process([]) is None  # no etcdutl: nothing printed


def test_the_downgrade_commands_are_in_the_etcdctl_of_3_6_and_3_7_only():
    host = FakeHost({fact(EtcdMembership, endpoint=ENDPOINT): cluster("cluster_3.6.txt")})
    [command] = shell(run(upgrade.downgrade_enabled, endpoint=ENDPOINT, target="3.5", host=host))
    validate, enable = command.split(" && ")
    for release in ("3.6.11", "3.7.1"):
        assert runs_in(release, validate) and runs_in(release, enable)
    assert not runs_in("3.5.32", validate)
    assert [rules.name for rules in RULES if rules.downgrades] == ["3.6", "3.7"]
