"""destroy's decisions: the safeguard, what stops it, and where the snapshot comes from."""

from dataclasses import replace

import pytest

from etcdkit.plans.destroy import DestroyFacts, decide
from tests.unit.plans_data import (
    NO_MONITORS,
    UNREACHABLE,
    address,
    assert_control_node_untouched,
    bare,
    foreign_data,
    foreign_etcd,
    inventory,
    monitors,
    refused,
    squatter,
    view,
)

NOW = "20250101T120000Z"


def facts(inv, states=None, live=None, monitored=NO_MONITORS, certificates=()) -> DestroyFacts:
    return DestroyFacts(inv.spec, inv.hosts(states), live, monitored, NOW, list(certificates))


def test_the_safeguard_refuses(tmp_path):
    with refused("destroy.safeguard") as raised:
        decide(facts(inventory(tmp_path, etcd_safeguard=True), live=view(1, 2, 3)))
    assert "--data etcd_safeguard=false" in raised.value.fix


def test_etcd_purge_overrides_the_safeguard(tmp_path):
    inv = inventory(tmp_path, etcd_safeguard=True, etcd_purge=True)
    plan = decide(facts(inv, live=view(1, 2, 3)))
    assert plan.snapshot_host == address(1)


def test_a_healthy_cluster_is_snapshotted_through_its_first_member(tmp_path):
    inv = inventory(tmp_path)
    certificates = [inv.pki_dir / "etcd" / "etcd-1.crt"]
    plan = decide(facts(inv, live=view(1, 2, 3), certificates=certificates))
    assert plan.snapshot_host == address(1)
    assert plan.snapshot_path == (tmp_path / "backups").resolve() / f"etcd-{NOW}.db"
    assert (plan.snapshot_about["taken_from"], plan.snapshot_about["taken_at"]) == ("https://10.10.10.10:2379", "2025-01-01T12:00:00Z")
    assert plan.member_certificates == certificates
    assert (plan.warnings, plan.monitoring) == ([], None)
    assert_control_node_untouched(inv)


def test_the_snapshot_comes_from_the_first_member_that_serves(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, {1: inv.ours(1, running=False)}, live=view(1, 2, 3, leader=2, down={1})))
    assert plan.snapshot_host == address(2)


@pytest.mark.parametrize(
    "state, reason",
    [
        (UNREACHABLE, "10.10.10.11 cannot be reached over SSH"),
        (foreign_etcd(), "etcd runs with a configuration that is not member etcd-2 of `etcd`"),
        (squatter(), "another process listens on port 2379 or 2380"),
        (foreign_data(), "the data dir /data/etcd holds data this cluster did not write"),
    ],
)
def test_a_host_that_cannot_be_cleaned_or_is_not_ours_is_refused(tmp_path, state, reason):
    with refused("destroy.foreign") as raised:
        decide(facts(inventory(tmp_path), {2: state}, live=view(1, 2, 3, down={2})))
    assert str(raised.value).startswith("cannot destroy cluster `etcd`; nothing was changed:\n")
    assert f"\n  - 10.10.10.11: {reason}" in str(raised.value)


def test_every_such_host_is_named(tmp_path):
    inv = inventory(tmp_path)
    with refused("destroy.foreign") as raised:
        decide(facts(inv, {1: UNREACHABLE, 3: foreign_etcd()}, live=view(1, 2, 3, leader=2, down={1, 3})))
    assert [line[4:15] for line in str(raised.value).splitlines() if line.startswith("  - ")] == [address(1), address(3)]


@pytest.mark.parametrize("live", [None, view(1, 2, 3, leader=None, down={1, 2, 3})], ids=["no answer", "none healthy"])
def test_data_without_a_healthy_member_for_the_snapshot_is_refused(tmp_path, live):
    inv = inventory(tmp_path)
    states = {seq: inv.ours(seq, running=False) for seq in (1, 2, 3)}
    with refused("destroy.no_snapshot", match=r"^no member of `etcd` answers, so no snapshot can be saved before the data"):
        decide(facts(inv, states, live=live))
    assert_control_node_untouched(inv)


def test_without_a_backup_it_is_destroyed_with_a_warning(tmp_path):
    inv = inventory(tmp_path, etcd_backup=False)
    plan = decide(facts(inv, {seq: inv.ours(seq, running=False) for seq in (1, 2, 3)}))
    assert (plan.snapshot_host, plan.snapshot_path) == (None, None)
    assert plan.warnings == ["etcd_backup=false: cluster `etcd` is destroyed without a snapshot"]


@pytest.mark.parametrize("kind", ["bare hosts", "our files without data"])
def test_a_destroyed_cluster_has_nothing_to_destroy(tmp_path, kind):
    inv = inventory(tmp_path)
    state = {"bare hosts": bare(), "our files without data": inv.ours(1, running=False, data=False)}[kind]
    plan = decide(facts(inv, {1: state, 2: bare(), 3: bare()}))
    assert (plan.snapshot_host, plan.snapshot_path, plan.warnings) == (None, None, [])


def test_the_monitoring_targets_go_too(tmp_path):
    monitored = monitors(tmp_path, "10.10.10.20", without=["10.10.10.21"])
    plan = decide(facts(inventory(tmp_path), live=view(1, 2, 3), monitored=monitored))
    assert (plan.monitoring.hosts, plan.monitoring.targets, plan.monitoring.ca_cert) == (["10.10.10.20"], {}, None)
    assert plan.warnings == ["10.10.10.21 is in the monitoring group but has no folder /etc/prometheus: not monitoring from it"]


def test_with_a_site_targets_folder_the_targets_go_from_it(tmp_path):
    monitored = monitors(tmp_path, "10.10.10.20", without=["10.10.10.21"], etcd_monitor_target_dir="/infra/targets/etcd")
    plan = decide(facts(inventory(tmp_path), live=view(1, 2, 3), monitored=monitored))
    assert (plan.monitoring.target_dir, plan.monitoring.targets) == ("/infra/targets/etcd", {})
    assert plan.warnings == ["10.10.10.21 is in the monitoring group but has no folder /infra/targets/etcd: not monitoring from it"]


def test_the_safeguard_of_one_host_refuses_for_the_whole_run(tmp_path):
    inv = inventory(tmp_path)
    hosts = inv.hosts()
    hosts[inv.name(3)].settings = replace(hosts[inv.name(3)].settings, etcd_safeguard=True)
    with refused("destroy.safeguard", match=r"^etcd_safeguard is on: refusing .*\(it is set for 10\.10\.10\.12\)"):
        decide(DestroyFacts(inv.spec, hosts, view(1, 2, 3), NO_MONITORS, "20261130T120000Z", []))


def test_a_partial_run_is_refused(tmp_path):
    inv = inventory(tmp_path)
    with refused("destroy.left_out", match=r"the run leaves out 10\.10\.10\.11, 10\.10\.10\.12; nothing was changed"):
        decide(DestroyFacts(inv.spec, inv.hosts(in_run=[1]), view(1, 2, 3), NO_MONITORS, "20261130T120000Z", []))


def test_a_member_of_another_cluster_or_a_crowded_data_dir_is_refused(tmp_path):
    inv = inventory(tmp_path)
    crowded = replace(inv.ours(2), data=("member", "postgres"))
    states = {1: inv.ours(1, cluster_id=0xBEEF), 2: crowded}
    with refused("destroy.foreign") as raised:
        decide(DestroyFacts(inv.spec, inv.hosts(states), view(1, 2, 3), NO_MONITORS, "20261130T120000Z", []))
    assert "10.10.10.10: its etcd serves another cluster" in str(raised.value)
    assert "10.10.10.11: the data dir /data/etcd holds more than etcd's member/ (postgres)" in str(raised.value)
