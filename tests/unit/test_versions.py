"""Versions and the rules of a rolling upgrade: the cluster version, downgrades and minor skips refused."""

import pytest

from etcdkit.model import versions


def test_cluster_version_is_the_lowest_major_minor():
    assert versions.cluster_version(["3.5.16", "3.4.30", None, "garbage"]) == "3.4"
    assert versions.cluster_version([None]) is None


def test_parse_ignores_a_suffix():
    assert versions.parse("3.6.0-rc.1") == (3, 6, 0)
    assert versions.parse("3.5") is None


@pytest.mark.parametrize(
    "target, running",
    [
        ("3.5.16", ["3.5.16"] * 3),  # converged
        ("3.5.17", ["3.5.16"] * 3),  # a patch release
        ("3.5.16", ["3.4.23"] * 3),  # the next minor version
        ("3.5.16", ["3.4.23", "3.5.16", "3.4.23"]),  # an interrupted upgrade, resumed
    ],
)
def test_allowed_upgrades(target, running):
    assert versions.upgrade_problem(target, running, versions.cluster_version(running)) is None


def test_a_downgrade_is_refused():
    problem = versions.upgrade_problem("3.5.15", ["3.5.16", "3.5.15"], "3.5")
    assert problem.startswith("etcd_version 3.5.15 is older than the etcd that runs (3.5.16): etcdkit does not downgrade")


def test_a_minor_skip_is_refused_and_names_the_step_between():
    problem = versions.upgrade_problem("3.6.4", ["3.4.23"] * 3, "3.4")
    assert "skips a minor version: the cluster runs 3.4" in problem
    assert "Upgrade to the latest 3.5 release first (etcd_version=3.5.x), then to 3.6.4" in problem


def test_a_half_upgraded_cluster_is_still_at_its_lowest_minor_version():
    assert "skips a minor version" in versions.upgrade_problem("3.6.4", ["3.5.16", "3.4.23", "3.5.16"], "3.4")


@pytest.mark.parametrize("target", ["4.0.0", "3.5", "latest"])
def test_other_targets_are_refused(target):
    assert versions.upgrade_problem(target, ["3.5.16"], "3.5") is not None


@pytest.mark.parametrize(
    "version, refused",
    [
        ("3.4.41", False), ("3.4.42", True), ("3.5.16", False), ("3.5.27", False), ("3.5.28", True), ("3.5.30", True),
        ("3.6.8", False), ("3.6.9", True), ("3.7.0", True), ("3.3.27", False), (None, False), ("3.5", False),
    ],
)  # fmt: skip
def test_the_releases_that_refuse_the_member_list_without_a_login(version, refused):
    assert versions.login_for_every_call(version) is refused
