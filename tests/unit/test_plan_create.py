"""create's decisions: bootstrap, converge or rebuild, and every refusal, from plain facts."""

import hashlib
import re
from dataclasses import replace

import pytest
from etcdkit.facts.etcd import EtcdCluster

from etcdkit.model import paths
from etcdkit.model.host import EtcdHostState
from etcdkit.plans.create import CreateFacts, decide
from etcdkit.plans.memberfiles import setting_changes
from etcdkit.remote.memberfiles import PACKAGE_BINARY, TARBALL_BINARY
from tests.unit.plans_data import (
    CA_PEM,
    DATA,
    NEW_TOKEN,
    NO_MONITORS,
    TOKEN,
    UNREACHABLE,
    assert_control_node_untouched,
    bare,
    control,
    foreign_data,
    foreign_etcd,
    inventory,
    monitors,
    refused,
    sha256,
    squatter,
    view,
)


def facts(
    inv, states=None, live=None, ca_pem=CA_PEM, root=None, configured=False, monitored=NO_MONITORS, cli_clean=False, in_run=None, **changes
) -> CreateFacts:
    return CreateFacts(
        inv.spec, inv.hosts(states, in_run, **changes), live, control(ca_pem, root, configured), monitored, NEW_TOKEN, cli_clean
    )


def all_bare(inv) -> dict:
    return {m.seq: bare() for m in inv.spec.members}


def restarts(plan) -> dict:
    return {name: member.restart_reason for name, member in plan.members.items() if member.restart_reason}


def conf_line(plan, name, key) -> str:
    return next(line for line in plan.members[name].files[paths.CONF].splitlines() if line.startswith(f"{key}:"))


# Bootstrap


def test_bare_hosts_bootstrap_a_new_cluster_with_a_token_of_its_own(tmp_path):
    inv = inventory(tmp_path, seqs=(7, 2, 4))
    plan = decide(facts(inv, all_bare(inv), ca_pem=None))
    assert (plan.bootstrap, plan.rebuild, plan.view) == (True, False, None)
    assert plan.seed.seq == 2
    name = inv.name(4)
    assert conf_line(plan, name, "initial-cluster-state") == "initial-cluster-state: new"
    assert conf_line(plan, name, "initial-cluster-token") == f"initial-cluster-token: {NEW_TOKEN}"
    assert conf_line(plan, name, "initial-cluster") == (
        "initial-cluster: etcd-2=https://10.10.10.11:2380,etcd-4=https://10.10.10.13:2380,etcd-7=https://10.10.10.16:2380"
    )
    assert restarts(plan) == {}
    assert sorted(c.name for c in plan.control.certificates) == ["admin", "etcd-2", "etcd-4", "etcd-7"]
    assert [s.path.name for s in plan.control.passwords] == ["root.password"]
    assert plan.monitoring is None and plan.warnings == []
    assert_control_node_untouched(inv)


def test_hosts_with_only_our_files_and_no_data_bootstrap(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, {1: inv.ours(1, running=False, data=False), 2: bare(), 3: bare()}))
    assert (plan.bootstrap, plan.rebuild) == (True, False)
    assert conf_line(plan, inv.name(1), "initial-cluster-token") == f"initial-cluster-token: {NEW_TOKEN}"


def test_etcd_clean_without_instances_is_a_plain_bootstrap(tmp_path):
    inv = inventory(tmp_path, etcd_clean=True, etcd_safeguard=True)
    plan = decide(facts(inv, all_bare(inv)))
    assert (plan.bootstrap, plan.rebuild) == (True, False)
    assert not any("etcd_clean" in warning for warning in plan.warnings)


def test_warnings_of_the_inventory_the_monitors_and_a_well_known_root_password(tmp_path):
    inv = inventory(tmp_path, warnings=["2 members: an even count"], etcd_root_password="Etcd.Root")
    plan = decide(facts(inv, all_bare(inv), monitored=monitors(tmp_path, "10.10.10.20", without=["10.10.10.21"])))
    assert plan.warnings == [
        "inventory: 2 members: an even count",
        "10.10.10.21 is in the monitoring group but has no folder /etc/prometheus: not monitoring from it",
        "etcd_root_password is Pigsty's well-known default: set a strong one",
    ]
    assert plan.control.passwords == ()  # the configured password is not generated
    assert plan.monitoring.hosts == ["10.10.10.20"]
    assert sorted(plan.monitoring.targets) == ["etcd-1.yml", "etcd-2.yml", "etcd-3.yml"]
    assert "monitor" in [c.name for c in plan.control.certificates]


def test_with_a_site_targets_folder_the_monitors_get_targets_there_and_no_certificate_is_issued(tmp_path):
    inv = inventory(tmp_path)
    monitored = monitors(tmp_path, "10.10.10.20", etcd_monitor_target_dir="/infra/targets/etcd")
    plan = decide(facts(inv, all_bare(inv), monitored=monitored))
    assert (plan.monitoring.target_dir, plan.monitoring.ca_cert, plan.monitoring.certificate) == ("/infra/targets/etcd", None, None)
    assert sorted(plan.monitoring.targets) == ["etcd-1.yml", "etcd-2.yml", "etcd-3.yml"]
    assert sorted(c.name for c in plan.control.certificates) == ["admin", "etcd-1", "etcd-2", "etcd-3"]


# The release tarball


def test_a_missing_tarball_is_refused(tmp_path):
    inv = inventory(tmp_path, etcd_tarball=str(tmp_path / "etcd-v3.5.16-linux-amd64.tar.gz"), etcd_tarball_sha256="00" * 32)
    with refused("tarball.missing", match=r"etcd-v3\.5\.16-linux-amd64\.tar\.gz does not exist on the control node"):
        decide(facts(inv, all_bare(inv)))


def test_a_tarball_with_another_checksum_is_refused(tmp_path):
    tarball = tmp_path / "etcd.tar.gz"
    tarball.write_bytes(b"not the release")
    inv = inventory(tmp_path, etcd_tarball=str(tarball), etcd_tarball_sha256="ab" * 32)
    digest = hashlib.sha256(b"not the release").hexdigest()
    with refused("tarball.checksum", match=f"has SHA-256 {digest}, not {'ab' * 32}: refusing it"):
        decide(facts(inv, all_bare(inv)))


def test_a_tarball_with_its_checksum_installs_the_tarball_binary(tmp_path):
    tarball = tmp_path / "etcd.tar.gz"
    tarball.write_bytes(b"the release")
    inv = inventory(tmp_path, etcd_tarball=str(tarball), etcd_tarball_sha256=hashlib.sha256(b"the release").hexdigest().upper())
    plan = decide(facts(inv, all_bare(inv)))
    unit = plan.members[inv.name(1)].files[paths.UNIT]
    assert TARBALL_BINARY in unit and PACKAGE_BINARY not in unit


# Hosts that are not this cluster's


@pytest.mark.parametrize("clean", [False, True])
def test_an_unreachable_host_is_refused_even_with_etcd_clean(tmp_path, clean):
    inv = inventory(tmp_path, etcd_clean=clean)
    with refused("create.unreachable") as raised:
        decide(facts(inv, {2: UNREACHABLE}, view(1, 2, 3, down={2})))
    assert raised.value.found == "10.10.10.11 cannot be reached over SSH" and raised.value.fix.startswith("Bring it back")


def test_two_unreachable_hosts_are_named_together(tmp_path):
    inv = inventory(tmp_path)
    with refused("create.unreachable", match=r"^10\.10\.10\.10, 10\.10\.10\.12 cannot be reached .* Bring them back"):
        decide(facts(inv, {1: UNREACHABLE, 3: UNREACHABLE}))


@pytest.mark.parametrize(
    "state, reason",
    [
        (foreign_etcd(), "etcd runs with a configuration that is not member etcd-2 of `etcd` with data in /data/etcd"),
        (squatter(), "another process listens on port 2379 or 2380"),
        (foreign_data(), r"the data dir /data/etcd holds data this cluster did not write \(member lost\+found\)"),
    ],
)
def test_a_foreign_host_is_refused(tmp_path, state, reason):
    inv = inventory(tmp_path)
    with refused("create.foreign", match=f"do not belong to this inventory's cluster `etcd`(.|\n)*  - 10.10.10.11: {reason}\n"):
        decide(facts(inv, {1: bare(), 2: state, 3: bare()}))
    assert_control_node_untouched(inv)


def test_etcd_clean_is_refused_under_the_safeguard_of_any_host(tmp_path):
    inv = inventory(tmp_path, etcd_clean=True)
    hosts = inv.hosts()
    hosts[inv.name(3)].settings = replace(hosts[inv.name(3)].settings, etcd_safeguard=True)  # one host's var
    live = CreateFacts(inv.spec, hosts, view(1, 2, 3), control(), NO_MONITORS, NEW_TOKEN, True)
    with refused("create.clean", match=r"etcd_clean asks to wipe live etcd instances, but etcd_safeguard is on \(10\.10\.10\.12\)"):
        decide(live)


def test_etcd_clean_from_the_inventory_is_refused(tmp_path):
    inv = inventory(tmp_path, etcd_clean=True)
    with refused("create.clean", match=r"etcd_clean is set in the inventory or YAML config: .*--data etcd_clean=true"):
        decide(facts(inv, live=view(1, 2, 3)))


def test_etcd_clean_never_wipes_a_foreign_instance(tmp_path):
    inv = inventory(tmp_path, etcd_clean=True)
    with refused("create.foreign", match="not this cluster's to stop or delete"):
        decide(facts(inv, {3: foreign_etcd()}, view(1, 2), cli_clean=True))


def test_etcd_clean_refuses_a_partial_run_and_a_data_dir_with_other_files(tmp_path):
    inv = inventory(tmp_path, etcd_clean=True)
    with refused("create.clean", match=r"the run leaves out 10\.10\.10\.12: run it without --limit"):
        decide(facts(inv, live=view(1, 2, 3), cli_clean=True, in_run=[1, 2]))
    crowded = replace(inv.ours(2), data=("member", "postgres"))
    with refused("create.clean", match=r"10\.10\.10\.11: the data dir /data/etcd holds more than etcd's member/ \(postgres\)"):
        decide(facts(inv, {2: crowded}, view(1, 2, 3), cli_clean=True))


def test_etcd_clean_from_the_command_line_rebuilds_a_live_cluster(tmp_path):
    inv = inventory(tmp_path, etcd_clean=True)
    states = {2: inv.ours(2, etcd_election_timeout=1500)}
    plan = decide(facts(inv, states, view(1, 2, 3), ca_pem=None, cli_clean=True))  # a new CA is fine: every instance is wiped
    assert (plan.bootstrap, plan.rebuild, plan.view) == (True, True, None)
    assert "etcd_clean: wiping every etcd instance and its data, then bootstrapping a new cluster" in plan.warnings
    assert restarts(plan) == {}
    name = inv.name(1)
    assert conf_line(plan, name, "initial-cluster-token") == f"initial-cluster-token: {NEW_TOKEN}"
    assert conf_line(plan, name, "initial-cluster-state") == "initial-cluster-state: new"


# Data but no answer


def test_data_without_an_answer_and_a_bare_host_is_refused(tmp_path):
    inv = inventory(tmp_path)
    with refused("create.down_with_new_hosts", match=r"have data but no member answers, and 10\.10\.10\.12 is not members yet"):
        decide(facts(inv, {1: inv.ours(1, running=False), 2: inv.ours(2, running=False), 3: bare()}))


def test_data_without_an_answer_and_two_bare_hosts_is_refused(tmp_path):
    inv = inventory(tmp_path)
    with refused("create.down_with_new_hosts", match=r"and 10\.10\.10\.11, 10\.10\.10\.12 are not members yet"):
        decide(facts(inv, {1: inv.ours(1, running=False), 2: bare(), 3: bare()}))


def test_stopped_members_are_started_with_their_own_token_and_state(tmp_path):
    inv = inventory(tmp_path)
    states = {seq: inv.ours(seq, running=False) for seq in (1, 2)} | {3: inv.ours(3, running=False, initial_state="existing")}
    plan = decide(facts(inv, states, ca_pem=None))  # nothing runs: no CA can be contradicted
    assert (plan.bootstrap, plan.rebuild, plan.view) == (False, False, None)
    assert "no member of cluster `etcd` answers: starting its stopped members" in plan.warnings
    assert conf_line(plan, inv.name(1), "initial-cluster-token") == f"initial-cluster-token: {TOKEN}"
    assert conf_line(plan, inv.name(1), "initial-cluster-state") == "initial-cluster-state: new"
    assert conf_line(plan, inv.name(3), "initial-cluster-state") == "initial-cluster-state: existing"
    assert restarts(plan) == {}


# Converge


def test_the_second_run_changes_nothing_and_restarts_nothing(tmp_path):
    inv = inventory(tmp_path)
    live = EtcdCluster().process((DATA / "cluster_healthy.txt").read_text().splitlines())
    hosts = inv.hosts()
    plan = decide(CreateFacts(inv.spec, hosts, live, control(), NO_MONITORS, NEW_TOKEN))
    assert (plan.bootstrap, plan.rebuild, plan.view) == (False, False, live)
    assert restarts(plan) == {}
    for name, member in plan.members.items():
        assert {path: sha256(text) for path, text in member.files.items()} == {
            path: digest for path, digest in hosts[name].state.sha256.items() if path in member.files
        }
    assert plan.warnings == []
    assert_control_node_untouched(inv)


def test_running_members_are_converged_even_before_their_data_dir_shows_data(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, {seq: inv.ours(seq, data=False) for seq in (1, 2, 3)}, view(1, 2, 3)))
    assert (plan.bootstrap, plan.rebuild) == (False, False)
    assert conf_line(plan, inv.name(1), "initial-cluster-token") == f"initial-cluster-token: {TOKEN}"


def test_a_joined_member_keeps_initial_cluster_state_existing(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, {3: inv.ours(3, initial_state="existing", token=TOKEN)}, view(1, 2, 3)))
    assert conf_line(plan, inv.name(3), "initial-cluster-state") == "initial-cluster-state: existing"
    assert restarts(plan) == {}


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"etcd_election_timeout": 1500}, "etcd.conf changed"),
        ({"etcd_tarball": "/srv/etcd.tar.gz"}, "the unit changed"),
        ({"etcd_quota_backend_bytes": 1 << 30, "etcd_tarball": "/srv/etcd.tar.gz"}, "etcd.conf and the unit changed"),
        ({"peers": (1, 2), "token": "etcd-0ther"}, None),  # bootstrap-only lines: no restart
    ],
)
def test_a_running_member_restarts_only_for_what_a_running_etcd_depends_on(tmp_path, changes, reason):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, {2: inv.ours(2, **changes)}, view(1, 2, 3)))
    assert restarts(plan) == ({inv.name(2): reason} if reason else {})


def test_the_preview_names_what_the_restarts_change_in_the_running_settings(tmp_path):
    inv = inventory(tmp_path)
    states = {n: inv.ours(n, etcd_election_timeout=1500, etcd_quota_backend_bytes=16 << 30) for n in (1, 2)}
    plan = decide(facts(inv, states, view(1, 2, 3)))
    assert (
        f"{inv.name(1)}, {inv.name(2)}: etcd.conf changes election-timeout 1500 -> 1000 (etcd_election_timeout keeps it); "
        "quota-backend-bytes 17179869184 -> 8589934592 (etcd_quota_backend_bytes keeps it)"
    ) in plan.warnings


def test_a_site_conf_shows_the_settings_etcdkit_drops_or_sets_its_own_way():
    site = "name: etcd-1\nquota-backend-bytes: 17179869184\nlog-outputs: [/var/log/etcd.log]\nelection-timeout: 1000\n"
    ours = "name: etcd-1\nquota-backend-bytes: 8589934592\nstrict-reconfig-check: true\nelection-timeout: 1000\n"
    assert setting_changes(site, ours) == [
        'log-outputs ["/var/log/etcd.log"] -> unset (etcdkit does not set it)',
        "quota-backend-bytes 17179869184 -> 8589934592 (etcd_quota_backend_bytes keeps it)",
        "strict-reconfig-check unset -> True (etcdkit's)",
    ]


def test_a_quota_below_the_data_is_refused_before_any_change(tmp_path):
    inv = inventory(tmp_path)
    states = {n: inv.ours(n, etcd_quota_backend_bytes=16 << 30) for n in (1, 2, 3)}
    with refused("restart.quota") as raised:
        decide(facts(inv, states, view(1, 2, 3, db_size=9 << 30)))
    assert str(raised.value).startswith("the new quota is below the data; nothing was changed:")
    assert f"{inv.name(1)}: its database takes 10 GB, more than etcd_quota_backend_bytes=8589934592 (9 GB)" in str(raised.value)
    assert_control_node_untouched(inv)
    # the same data under the quota it has already is no new risk: a restart for another reason goes on
    kept = {n: inv.ours(n, etcd_quota_backend_bytes=8 << 30, etcd_election_timeout=1500) for n in (1, 2, 3)}
    assert len(restarts(decide(facts(inv, kept, view(1, 2, 3, db_size=9 << 30))))) == 3


def test_a_stopped_member_is_started_not_restarted_even_in_an_unhealthy_cluster(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, {3: inv.ours(3, running=False, etcd_election_timeout=1500)}, view(1, 2, 3, down={3})))
    assert restarts(plan) == {}
    assert "election-timeout: 1000" in plan.members[inv.name(3)].files[paths.CONF]


def test_a_restart_in_an_unhealthy_cluster_is_refused(tmp_path):
    inv = inventory(tmp_path)
    states = {2: inv.ours(2, etcd_election_timeout=1500), 3: inv.ours(3, running=False)}
    with refused("restart.unhealthy") as raised:
        decide(facts(inv, states, view(1, 2, 3, down={3})))
    assert str(raised.value).startswith("10.10.10.11 need a restart (etcd.conf changed), but the cluster is not healthy")
    assert "  - member etcd-3 (https://10.10.10.12:2379) is not healthy: context deadline exceeded" in str(raised.value)


def test_running_members_without_the_ca_on_the_control_node_are_refused(tmp_path):
    inv = inventory(tmp_path)
    refusal = "cluster `etcd` runs on 10.10.10.10, 10.10.10.11, 10.10.10.12, but the control node has no CA in "
    with refused("control.no_ca", match=re.escape(f"{refusal}{tmp_path}/pki/")):
        decide(facts(inv, live=view(1, 2, 3), ca_pem=None))
    assert_control_node_untouched(inv)


@pytest.mark.parametrize("kind", ["bare", "our files without data"])
def test_a_host_without_data_next_to_a_running_cluster_is_sent_to_the_join_sop(tmp_path, kind):
    inv = inventory(tmp_path)
    state = bare() if kind == "bare" else inv.ours(3, running=False, data=False)
    with refused(
        "create.not_converged",
        match=(
            r"cannot converge the running cluster; nothing was changed:\n  - 10\.10\.10\.12 is not a member of the running "
            r"cluster `etcd`: add it with the join SOP \(bin/etcd-add 10\.10\.10\.12"
        ),
    ):
        decide(facts(inv, {3: state}, view(1, 2)))


@pytest.mark.parametrize("running", [False, True])
def test_a_removed_member_with_stale_data_is_refused(tmp_path, running):
    inv = inventory(tmp_path)
    with refused(
        "create.not_converged",
        match=(
            r"10\.10\.10\.12 has data of cluster `etcd` but the live cluster has no member with peer URL "
            r"https://10\.10\.10\.12:2380 \(it was removed\): add it again with the join SOP"
        ),
    ):
        decide(facts(inv, {3: inv.ours(3, running=running)}, view(1, 2)))


def test_a_member_missing_from_the_inventory_is_named(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, live=view(1, 2, 3, 4)))
    assert plan.warnings == [
        "member etcd-4 a000000000000004 started voter https://10.10.10.13:2380 is not in the inventory: "
        "remove it with the remove SOP, or add it to the inventory"
    ]
    assert "etcd-4=https://10.10.10.13:2380" in conf_line(plan, inv.name(1), "initial-cluster")


def test_another_ca_on_the_control_node_is_refused_rather_than_deployed(tmp_path):
    inv = inventory(tmp_path)
    with refused("control.other_ca", match="the control node's CA is not the one .* hold .* rejected by their running peers"):
        decide(facts(inv, live=view(1, 2, 3), ca_pem="-----BEGIN CERTIFICATE-----\nanother CA\n"))


def test_a_new_root_password_is_rotated_through_a_running_member(tmp_path):
    inv = inventory(tmp_path, etcd_root_password="a-new-password")
    members = {seq: inv.ours(seq, root="the-old-password") for seq in (1, 2, 3)}
    plan = decide(facts(inv, members, view(1, 2, 3), root="a-new-password", configured=True))
    assert plan.rotate_root_on == inv.member(1)
    assert plan.control.kept == ()  # pki/ keeps the new password only once etcd has taken it
    assert restarts(plan) == {}


def test_an_interrupted_rotation_is_finished(tmp_path):
    inv = inventory(tmp_path)  # no etcd_root_password: pki/ already keeps the new one
    members = {1: inv.ours(1, root="new"), 2: inv.ours(2, root="old"), 3: inv.ours(3, root="new")}
    assert decide(facts(inv, members, view(1, 2, 3), root="new")).rotate_root_on == inv.member(1)


def test_the_same_root_password_keeps_everything(tmp_path):
    inv = inventory(tmp_path, etcd_root_password="the-password")
    members = {seq: inv.ours(seq, root="the-password") for seq in (1, 2, 3)}
    plan = decide(facts(inv, members, view(1, 2, 3), root="the-password", configured=True))
    assert plan.rotate_root_on is None and [s.value for s in plan.control.kept] == ["the-password"]


def test_rbac_goes_through_the_first_member_that_serves(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, {1: inv.ours(1, running=False)}, view(1, 2, 3, down={1}, leader=2)))
    assert plan.seed == inv.member(2)  # the first member failed its bootstrap: RBAC still gets enabled


def test_a_member_running_another_etcd_version_is_reported_never_upgraded(tmp_path):
    inv = inventory(tmp_path)
    states = {2: replace(inv.ours(2), version="3.5.15")}
    plan = decide(facts(inv, states, view(1, 2, 3), etcd_version="3.5.16"))
    assert plan.warnings == [
        f"{inv.name(2)} has etcd 3.5.15, not etcd_version 3.5.16: create does not change it; upgrade with deploys/upgrade.py "
        "(one member at a time)"
    ]
    assert restarts(plan) == {}


def test_etcd_version_of_the_running_members_or_unset_says_nothing(tmp_path):
    inv = inventory(tmp_path)
    assert decide(facts(inv, None, view(1, 2, 3), etcd_version="3.5.16")).warnings == []
    assert decide(facts(inv, {2: replace(inv.ours(2), version="3.5.15")}, view(1, 2, 3))).warnings == []
    assert decide(facts(inv, all_bare(inv), etcd_version="3.5.16")).warnings == []


# Taking over a member another tool built: its unit and its package are named before Enter


def site_member(inv, seq, **state) -> EtcdHostState:
    """A running member of this cluster whose unit and etcd another tool put there (Pigsty's role)."""
    return replace(inv.ours(seq, etcd_election_timeout=1500), sha256={}, unit_etcdkit=None, **state)


def test_the_takeover_names_the_unit_it_replaces_and_the_unit_it_shadows(tmp_path):
    inv = inventory(tmp_path)
    states = {1: site_member(inv, 1), 2: site_member(inv, 2), 3: site_member(inv, 3, unit="/lib/systemd/system/etcd.service")}
    plan = decide(facts(inv, states, view(1, 2, 3)))
    assert f"{inv.name(1)}, {inv.name(2)}: the unit /etc/systemd/system/etcd.service that another tool wrote is replaced by etcdkit's" in (
        plan.warnings
    )
    assert (
        f"{inv.name(3)}: etcd runs from the unit /lib/systemd/system/etcd.service; etcdkit's /etc/systemd/system/etcd.service "
        "takes its place (/lib/systemd/system/etcd.service stays on disk, unused)"
    ) in plan.warnings
    assert restarts(plan) == {inv.name(n): "etcd.conf and the unit changed" for n in (1, 2, 3)}


def test_the_takeover_names_an_etcd_of_another_package_or_of_none_and_keeps_it(tmp_path):
    inv = inventory(tmp_path)
    states = {
        1: site_member(inv, 1, version="3.5.30", package="etcd"),  # Pigsty's own package, newer than the distribution's
        2: site_member(inv, 2, version="3.5.30", package=None),  # binaries copied into /usr/bin by hand
    }
    plan = decide(facts(inv, states, view(1, 2, 3)))
    assert (
        f"{inv.name(1)}: etcd 3.5.30 comes from the package `etcd`, not from etcd_packages (etcd-server, etcd-client): create keeps "
        "it and installs no other etcd; set etcd_packages: [etcd] so that join and upgrade install the same package"
    ) in plan.warnings
    assert (
        f"{inv.name(2)}: etcd 3.5.30 (/usr/bin/etcd) belongs to no package: create keeps it and installs no other etcd; join and "
        "upgrade install etcd_packages (etcd-server, etcd-client), or etcd_tarball"
    ) in plan.warnings
    assert not [w for w in decide(facts(inv, states, view(1, 2, 3), etcd_packages=["etcd"])).warnings if "`etcd`" in w]


def test_an_etcdkit_member_gets_no_takeover_note(tmp_path):
    inv = inventory(tmp_path)
    states = {n: inv.ours(n, etcd_election_timeout=1500) for n in (1, 2, 3)}  # etcdkit's unit of an older run
    assert decide(facts(inv, states, view(1, 2, 3))).warnings == [
        f"{', '.join(inv.name(n) for n in (1, 2, 3))}: etcd.conf changes election-timeout 1500 -> 1000 (etcd_election_timeout keeps it)"
    ]
    release = tmp_path / "etcd.tar.gz"
    release.write_bytes(b"the release")
    tarball = {"etcd_tarball": str(release), "etcd_tarball_sha256": hashlib.sha256(b"the release").hexdigest()}
    states = {n: inv.ours(n, **tarball) for n in (1, 2, 3)}
    assert decide(facts(inv, states, view(1, 2, 3), **tarball)).warnings == []
