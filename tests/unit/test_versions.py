"""The table of version rules: the cluster version, etcd's upgrade path (one minor version at a time,
the release every member needs before each minor step, named in each refusal), the v2 store check
before 3.6, the keys a minor version no longer reads, the version of a new member, the downgrade's
path, the tool of offline operations and the advice etcd-status gives."""

import pytest

from etcdkit.model import versions
from etcdkit.model.cluster import EndpointStatus
from etcdkit.model.versions import Version


def members(*running: str) -> dict[str, str]:
    """etcd-1.. running these server versions."""
    return {f"etcd-{seq}": version for seq, version in enumerate(running, 1)}


def test_versions_parse_and_order():
    assert Version.parse("3.6.0-rc.1") == Version(3, 6, 0)
    assert Version.parse("3.5") is None and Version.parse(None) is None
    assert Version(3, 5, 32) < Version(3, 6, 0) < Version(3, 6, 11) and str(Version(3, 5, 16)) == "3.5.16"
    assert Version(3, 5, 16).minor_version == "3.5" and Version(3, 5, 16).next_minor() == "3.6"


def test_the_table_supports_3_4_to_3_7_with_its_floors():
    assert [rules.name for rules in versions.RULES] == ["3.4", "3.5", "3.6", "3.7"] and versions.SUPPORTED == "3.4 to 3.7"
    assert {rules.name: rules.floor for rules in versions.RULES} == {
        "3.4": None,
        "3.5": Version(3, 5, 32),
        "3.6": Version(3, 6, 11),
        "3.7": None,
    }
    assert [rules.name for rules in versions.RULES if rules.downgrades] == ["3.6", "3.7"]
    assert [rules.name for rules in versions.RULES if not rules.etcdutl] == ["3.4"]
    assert versions.rules_of(Version(3, 8, 0)) is None and versions.rules_of(Version(3, 3, 25)) is None


def test_cluster_version_is_the_lowest_major_minor():
    assert versions.cluster_version(["3.5.16", "3.4.30", None, "garbage"]) == "3.4"
    assert versions.cluster_version([None]) is None


def test_an_enabled_downgrade_is_read_from_the_3_6_status():
    enabled = EndpointStatus.parse({"version": "3.6.11", "downgradeInfo": {"enabled": True, "targetVersion": "3.5.0"}})
    assert versions.downgrade_target([EndpointStatus.parse({"version": "3.5.32"}), enabled]) == "3.5"
    cancelled = EndpointStatus.parse({"version": "3.6.11", "downgradeInfo": {"targetVersion": "3.5.0"}})
    assert versions.downgrade_target([cancelled, EndpointStatus.parse({"version": "3.6.11", "downgradeInfo": {}})]) is None


@pytest.mark.parametrize(
    "target, running",
    [
        ("3.5.16", ["3.5.16"] * 3),  # converged
        ("3.5.30", ["3.5.16"] * 3),  # a patch release
        ("3.5.16", ["3.4.23"] * 3),  # the next minor version (3.4 has no floor)
        ("3.5.16", ["3.4.23", "3.5.16", "3.4.23"]),  # an interrupted upgrade, resumed
        ("3.6.11", ["3.5.32"] * 3),  # the step to 3.6 from the floor
        ("3.6.0", ["3.5.33", "3.6.0", "3.5.32"]),  # an interrupted step to 3.6
        ("3.7.1", ["3.6.11"] * 3),
    ],
)
def test_allowed_upgrades(target, running):
    assert versions.upgrade_problem(target, members(*running)) is None


def test_a_downgrade_is_refused_and_points_to_the_downgrade_sop_from_3_6():
    problem = versions.upgrade_problem("3.5.15", members("3.5.16", "3.5.15"))
    assert problem == (
        "etcd_version 3.5.15 is older than the etcd that runs (3.5.16): the upgrade SOP does not downgrade; "
        "set etcd_version to the running version or newer"
    )
    problem = versions.upgrade_problem("3.5.32", members("3.6.11", "3.6.11"))
    assert problem.endswith("to go back to 3.5, run the downgrade SOP (deploys/downgrade.py --data etcd_version=3.5.32)")


@pytest.mark.parametrize(
    "target, running, first",
    [
        ("3.6.4", ["3.4.23"] * 3, "Upgrade to 3.5.32 first (etcd_version=3.5.32), then to 3.6.4"),
        ("3.7.1", ["3.5.16"] * 3, "Upgrade to 3.5.32 first (etcd_version=3.5.32), then to 3.7.1"),  # under the floor: that first
        ("3.7.1", ["3.5.32"] * 3, "Upgrade to 3.6.11 first (etcd_version=3.6.11), then to 3.7.1"),
        ("3.6.4", ["3.5.32", "3.4.23", "3.5.32"], "Upgrade to 3.5.32 first"),  # a half-upgraded cluster is at its lowest
    ],
)
def test_a_minor_skip_is_refused_and_names_the_release_to_go_to_first(target, running, first):
    problem = versions.upgrade_problem(target, members(*running))
    assert f"etcd_version {target} skips a minor version: the cluster runs" in problem
    assert first in problem


def test_a_minor_step_under_the_floor_names_the_floor():
    problem = versions.upgrade_problem("3.6.0", members("3.5.32", "3.5.30", "3.5.16"))
    assert problem.startswith("every member must run etcd 3.5.32 or later before the step to 3.6, and etcd-2, etcd-3 run 3.5.16, 3.5.30")
    assert "current one for 3.5.32" in problem  # why 3.5.32, not the 3.5.26 of the older guide
    assert problem.endswith("upgrade to 3.5.32 first (etcd_version=3.5.32), then to 3.6.0")
    problem = versions.upgrade_problem("3.7.0", members("3.6.10", "3.6.11", "3.6.11"))
    assert "etcd-1 runs 3.6.10" in problem and problem.endswith("upgrade to 3.6.11 first (etcd_version=3.6.11), then to 3.7.0")


@pytest.mark.parametrize(
    "target, running, expected",
    [
        ("4.0.0", ["3.5.16"], "etcd_version 4.0.0 is etcd 4.0, which etcdkit does not support (it supports etcd 3.4 to 3.7)"),
        ("3.8.0", ["3.7.1"], "which etcdkit does not support"),
        ("3.5", ["3.5.16"], "is not a version such as 3.5.16"),
        ("latest", ["3.5.16"], "is not a version such as 3.5.16"),
        ("3.4.23", ["3.3.25"], "the cluster runs etcd 3.3, which etcdkit does not support"),
        ("3.5.16", [None], "no member reports its server version"),
    ],
)
def test_other_targets_are_refused(target, running, expected):
    assert expected in versions.upgrade_problem(target, members(*running))


def test_the_step_from_3_4_warns_of_users_and_passwords():
    [warning] = versions.step_warnings("3.5.16", members("3.4.23", "3.4.23"))
    assert warning.startswith("etcd 3.4 -> 3.5:") and "add no user and change no password until every member runs 3.5" in warning
    assert versions.step_warnings("3.5.30", members("3.5.16")) == versions.step_warnings("3.6.11", members("3.5.32")) == []


def test_the_v2_store_is_checked_before_the_step_to_3_6_only():
    assert versions.needs_v2store_check("3.6.11", "3.5.32")
    assert not versions.needs_v2store_check("3.6.11", "3.6.0")  # it runs 3.6 already
    assert not versions.needs_v2store_check("3.5.32", "3.4.23") and not versions.needs_v2store_check("3.7.1", "3.6.11")


def test_the_keys_a_minor_step_leaves_unread():
    keys = ["name", "enable-v2", "experimental-compact-hash-check-enabled", "discovery"]
    assert versions.dropped_keys(keys, "3.6.11", members("3.5.32")) == {"enable-v2": "3.6"}
    assert versions.dropped_keys(keys, "3.7.1", members("3.6.11")) == {"experimental-compact-hash-check-enabled": "3.7", "discovery": "3.7"}
    assert versions.dropped_keys(keys, "3.5.32", members("3.5.16")) == {}
    assert versions.BY_NAME["3.7"].drops("experimental-anything") and not versions.BY_NAME["3.6"].drops("experimental-anything")


@pytest.mark.parametrize(
    "running, named, version, why",
    [
        (["3.5.30"] * 3, None, "3.5.30", "the version the cluster's members run (3.5.30)"),
        (
            ["3.5.16", "3.5.30", "3.5.30"],
            None,
            "3.5.30",
            "the newest of the versions the members run (3.5.16, 3.5.30: an upgrade is unfinished)",
        ),
        (["3.5.30"] * 3, "3.5.30", "3.5.30", "the version the cluster's members run (3.5.30)"),
        (["3.5.30"] * 3, "3.5.16", "3.5.16", "etcd_version names it (the cluster runs 3.5.30, the same minor version)"),
        (["3.5.32", "3.6.11"], "3.6.11", "3.6.11", "etcd_version names it (the cluster runs 3.5.32, 3.6.11, the same minor version)"),
    ],
)
def test_a_new_member_gets_the_version_the_cluster_runs(running, named, version, why):
    assert versions.new_member_version(members(*running), named) == versions.NewMemberVersion(version, why)


def test_a_new_member_on_another_minor_version_is_refused():
    choice = versions.new_member_version(members("3.5.30", "3.5.30"), "3.6.11")
    assert choice.version is None
    assert choice.why.startswith(
        "etcd_version 3.6.11 is etcd 3.6, but the cluster runs 3.5: a new member joins on a minor version the cluster runs"
    )
    assert "Unset etcd_version (the new member then gets the version the cluster's members run (3.5.30))" in choice.why
    assert versions.new_member_version(members(None), None).version is None
    assert versions.new_member_version(members("3.5.30"), "3.5").version is None


@pytest.mark.parametrize("running", [["3.5.16"] * 3, ["3.4.23"] * 3, ["3.5.30", "3.5.32"]])
def test_no_downgrade_below_3_6_and_what_to_do_instead(running):
    problem = versions.downgrade_problem("3.4.20", members(*running), None)
    assert "etcd has no downgrade before 3.6 (`etcdctl downgrade` came with 3.6)" in problem
    assert "a 3.5 etcd on 3.6 data" in problem
    assert "restore a snapshot taken before the upgrade" in problem and "bin/etcd-restore FILE" in problem


def test_a_downgrade_goes_one_minor_version_back_to_a_release_above_the_floor():
    assert versions.downgrade_problem("3.5.32", members("3.6.11", "3.6.11"), None) is None
    assert versions.downgrade_problem("3.6.11", members("3.7.1", "3.7.1"), None) is None
    assert "more than one minor version back from 3.7" in versions.downgrade_problem("3.5.32", members("3.7.1"), None)
    assert "that is the upgrade SOP's" in versions.downgrade_problem("3.7.1", members("3.6.11"), None)
    below = versions.downgrade_problem("3.5.30", members("3.6.11", "3.6.11"), None)
    assert below.startswith("etcd_version 3.5.30 is below 3.5.32: during the downgrade 3.5 and 3.6 members run side by side")
    assert below.endswith("downgrade to 3.5.32 or later (etcd_version=3.5.32)")


def test_an_enabled_downgrade_is_resumed_and_ends_once_every_member_runs_the_target():
    assert versions.downgrade_problem("3.5.32", members("3.5.32", "3.6.11", "3.6.11"), "3.5") is None
    assert versions.downgrade_problem("3.5.32", members("3.5.32", "3.5.32"), None) is None  # done
    assert versions.downgrade_problem("3.6.11", members("3.6.11", "3.6.11"), "3.6") is None  # done, etcd ends it
    other = versions.downgrade_problem("3.5.32", members("3.6.11", "3.6.11"), "3.4")
    assert other.startswith("a downgrade of the cluster to 3.4 is enabled already") and "etcdctl downgrade cancel" in other


def test_both_minor_versions_without_an_enabled_downgrade_are_refused():
    problem = versions.downgrade_problem("3.5.32", members("3.5.32", "3.6.11"), None)
    assert problem.startswith("members run etcd 3.5 and 3.6 and no downgrade is enabled")
    assert "deploys/upgrade.py --data etcd_version=3.6.11" in problem


@pytest.mark.parametrize(
    "version, etcdutl, tool",
    [
        ("3.4.23", False, "etcdctl"),
        ("3.4.23", True, "etcdutl"),
        ("3.5.16", True, "etcdutl"),
        ("3.5.16", False, None),  # etcdctl only on 3.4
        ("3.6.11", False, None),  # 3.6's etcdctl has no snapshot restore|status
        ("3.7.1", True, "etcdutl"),
        (None, False, None),
    ],
)
def test_offline_operations_use_etcdutl_and_etcdctl_only_on_3_4(version, etcdutl, tool):
    assert versions.offline_tool(version, etcdutl) == tool


def test_advice_names_the_floor_and_the_known_issues_and_where_to_move():
    said = versions.advice("3.5.16")
    assert said.move_to == "3.5.32"
    assert said.reasons[0] == "below 3.5.32, the release every member needs before the step to 3.6"
    assert any("CVE-2026-33413" in reason and "(fixed in 3.5.28)" in reason for reason in said.reasons)
    assert any("defragmentation" in reason and "(fixed in 3.5.23)" in reason for reason in said.reasons)
    assert versions.advice("3.5.30").reasons == ("below 3.5.32, the release every member needs before the step to 3.6",)
    old = versions.advice("3.4.23")
    assert old.move_to == "3.4.42" and any("allowed-hostname" in r and "upgrade to 3.5" in r for r in old.reasons)
    assert versions.advice("3.6.9").move_to == "3.6.11"
    assert versions.advice("3.5.32") is versions.advice("3.6.11") is versions.advice("3.7.1") is None
    assert versions.advice("3.8.0") is None and versions.advice(None) is None


@pytest.mark.parametrize(
    "version, refused",
    [
        ("3.4.41", False), ("3.4.42", True), ("3.5.16", False), ("3.5.27", False), ("3.5.28", True), ("3.5.30", True),
        ("3.6.8", False), ("3.6.9", True), ("3.7.0", True), ("3.3.27", False), (None, False), ("3.5", False),
    ],
)  # fmt: skip
def test_the_releases_that_refuse_the_member_list_without_a_login(version, refused):
    assert versions.login_for_every_call(version) is refused
