"""reload's decisions: which members are reloaded, which restart and why, the admin hosts, Patroni,
vip-manager and the monitoring, and every refusal, from plain facts."""

import pytest
from etcdkit.facts.etcd import EtcdCluster
from etcdkit.facts.yaml import hashed

from etcdkit.model import paths
from etcdkit.model.prometheus import PrometheusState
from etcdkit.plans import patroni
from etcdkit.plans.monitoring import Monitors
from etcdkit.plans.reload import PgHost, ReloadFacts, decide
from tests.unit.plans_data import (
    CA_PEM,
    DATA,
    NO_MONITORS,
    UNREACHABLE,
    address,
    assert_control_node_untouched,
    bare,
    client_url,
    control,
    entry,
    inventory,
    make_settings,
    monitors,
    refused,
    sha256,
    view,
)

MEMBERS = view(1, 2, 3)
PG = "10.10.10.40"
LIVE_HOSTS = ["10.10.10.10:2379", "10.10.10.11:2379", "10.10.10.12:2379"]


def facts(
    inv,
    states=None,
    live=MEMBERS,
    outside=(),
    ca_pem=CA_PEM,
    root=None,
    configured=False,
    admin=(),
    pg=(),
    passwords=None,
    monitored=NO_MONITORS,
):
    """outside: the seqs left out of the run (not contacted, as gather does); passwords: by default
    each pg_cluster's configured one (None: to be generated), as the control node has it."""
    states = {**{seq: UNREACHABLE for seq in outside}, **(states or {})}
    in_run = [m.seq for m in inv.spec.members if m.seq not in outside]
    return ReloadFacts(
        inv.spec,
        inv.hosts(states, in_run=in_run),
        tuple(address(seq) for seq in outside),
        live,
        control(ca_pem, root, configured),
        tuple(admin),
        tuple(pg),
        passwords if passwords is not None else {h.settings.pg_cluster: h.settings.pg_etcd_password for h in pg},
        monitored,
    )


def restarts(plan) -> dict:
    return {name: member.restart_reason for name, member in plan.members.items() if member.restart_reason}


def pg_host(tmp_path, patroni_keys=None, vip_keys=None, owner=None, name=PG, role=None, refused=None, **settings) -> PgHost:
    return PgHost(name, make_settings(tmp_path, pg_cluster="pg-main", **settings), patroni_keys, vip_keys, owner, role, refused)


def up_to_date(**changes) -> dict:
    """The YamlKeys fact of a Patroni config with the live members and pg-main's password "s3cret", changed so."""
    values = patroni.patroni_change("", {}, [f"https://{h}" for h in LIVE_HOSTS], "pg-main", "s3cret").values
    return hashed({**values, **changes}, patroni.SECRETS)


def test_no_member_answers(tmp_path):
    with refused("reload.down"):
        decide(facts(inventory(tmp_path), live=None))


def test_the_second_run_changes_nothing_and_restarts_nothing(tmp_path):
    inv = inventory(tmp_path)
    hosts = inv.hosts()
    plan = decide(ReloadFacts(inv.spec, hosts, (), MEMBERS, control(), (), (), {}, NO_MONITORS))
    assert sorted(plan.members) == [address(seq) for seq in (1, 2, 3)]
    assert restarts(plan) == {}
    for name, member in plan.members.items():
        assert {path: sha256(text) for path, text in member.files.items()} == {
            path: digest for path, digest in hosts[name].state.sha256.items() if path in member.files
        }
    assert (plan.warnings, plan.notes, plan.clients, plan.users, plan.users_host) == ([], [], {}, [], None)
    assert [c.name for c in plan.control.certificates] == [
        "etcd-1",
        "etcd-2",
        "etcd-3",
        "admin",
    ]  # member certificates are renewed by reload too
    assert plan.control_host == address(1)
    assert_control_node_untouched(inv)


def test_a_new_member_changes_only_the_bootstrap_only_initial_cluster(tmp_path):
    inv = inventory(tmp_path, seqs=(1, 2, 3, 4))
    states = {seq: inv.ours(seq, peers=(1, 2, 3)) for seq in (1, 2, 3)} | {4: inv.ours(4, initial_state="existing")}
    plan = decide(facts(inv, states, live=view(1, 2, 3, 4)))
    assert restarts(plan) == {}
    conf = plan.members[address(1)].files[paths.CONF]
    assert conf != states[1].conf and "etcd-4=https://10.10.10.13:2380" in conf
    assert ",".join(client_url(seq) for seq in (1, 2, 3, 4)) in plan.members[address(1)].files[paths.ENV]


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"etcd_election_timeout": 1500}, "etcd.conf changed"),
        ({"etcd_tarball": "/srv/etcd.tar.gz"}, None),  # the unit is create's
    ],
)
def test_a_running_member_restarts_only_for_a_runtime_change_of_etcd_conf(tmp_path, changes, reason):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, {2: inv.ours(2, **changes)}))
    assert restarts(plan) == ({address(2): reason} if reason else {})


def test_without_conf_in_etcd_reload_nothing_restarts(tmp_path):
    inv = inventory(tmp_path, etcd_reload=["env"])
    plan = decide(facts(inv, {2: inv.ours(2, etcd_election_timeout=1500)}))
    assert restarts(plan) == {}
    assert "election-timeout: 1000" in plan.members[address(2)].files[paths.CONF]


def test_a_stopped_member_does_not_restart_and_an_unhealthy_cluster_is_fine_then(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, {3: inv.ours(3, running=False, etcd_election_timeout=1500)}, live=view(1, 2, 3, down={3})))
    assert restarts(plan) == {}
    assert sorted(plan.members) == [address(seq) for seq in (1, 2, 3)]


@pytest.mark.parametrize("parts", [["restart"], ["conf", "env", "restart"]])
def test_etcd_reload_restart_restarts_every_member(tmp_path, parts):
    inv = inventory(tmp_path, etcd_reload=parts)
    plan = decide(facts(inv, {2: inv.ours(2, etcd_election_timeout=1500)}))
    assert restarts(plan) == {address(seq): "a rolling restart was asked for (etcd_reload=restart)" for seq in (1, 2, 3)}


def test_a_restart_in_an_unhealthy_cluster_is_refused(tmp_path):
    inv = inventory(tmp_path, etcd_reload=["restart"])
    live = EtcdCluster().process((DATA / "cluster_member_down.txt").read_text().splitlines())
    with refused("restart.unhealthy") as raised:
        decide(facts(inv, {3: inv.ours(3, running=False)}, live=live))
    assert str(raised.value).startswith(
        "10.10.10.10, 10.10.10.11, 10.10.10.12 need a restart (a rolling restart was asked for (etcd_reload=restart)), "
        "but the cluster is not healthy; nothing was changed:\n"
    )
    assert "  - member etcd-3 (https://10.10.10.12:2379) is not healthy: context deadline exceeded" in str(raised.value)


def test_an_unreachable_host_is_skipped_with_a_warning(tmp_path):
    plan = decide(facts(inventory(tmp_path), {2: UNREACHABLE}, live=view(1, 2, 3, down={2})))
    assert sorted(plan.members) == [address(1), address(3)]
    assert plan.warnings == ["10.10.10.11 cannot be reached over SSH: skipped, reload it once it is back"]


@pytest.mark.parametrize("live", [MEMBERS, view(1, 2, 3, entry(4, started=False))], ids=["not listed", "unstarted entry"])
def test_a_host_that_is_not_a_started_member_is_skipped_with_a_warning(tmp_path, live):
    inv = inventory(tmp_path, seqs=(1, 2, 3, 4))
    plan = decide(facts(inv, {4: bare()}, live=live))
    assert sorted(plan.members) == [address(seq) for seq in (1, 2, 3)]
    assert plan.warnings == [
        "10.10.10.13 is in the inventory but not a started member of `etcd`: skipped "
        "(join it with bin/etcd-add 10.10.10.13, or drop it from the inventory)"
    ]


def test_a_started_member_whose_host_holds_no_etcd_conf_of_it_is_skipped(tmp_path):
    plan = decide(facts(inventory(tmp_path), {3: bare(active="active", listeners=2)}))
    assert address(3) not in plan.members
    assert plan.warnings[0].startswith("10.10.10.12 is in the inventory but not a started member of `etcd`: skipped")


def test_hosts_left_out_of_the_run_are_skipped_silently(tmp_path):
    plan = decide(facts(inventory(tmp_path), outside=(3,)))
    assert sorted(plan.members) == [address(1), address(2)]
    assert plan.warnings == []


def test_a_member_missing_from_the_inventory_is_named_and_kept_in_the_member_list(tmp_path):
    plan = decide(facts(inventory(tmp_path), live=view(1, 2, 3, 4)))
    assert plan.warnings == [
        "member etcd-4 a000000000000004 started voter https://10.10.10.13:2380 is not in the inventory: its host is not reloaded"
    ]
    assert "etcd-4=https://10.10.10.13:2380" in plan.members[address(1)].files[paths.CONF]


def test_running_members_without_the_ca_on_the_control_node_are_refused(tmp_path):
    inv = inventory(tmp_path)
    with refused("control.no_ca", match=r"^cluster `etcd` runs on 10\.10\.10\.10, 10\.10\.10\.11, 10\.10\.10\.12, but .* no CA"):
        decide(facts(inv, ca_pem=None))
    assert_control_node_untouched(inv)


# The admin hosts, Patroni, vip-manager and the monitoring


def test_admin_hosts_get_the_etcdctl_environment_with_the_admin_certificate(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, admin=["10.10.10.30"], live=view(1, 2, 3, 4)))
    assert plan.admin_hosts == ["10.10.10.30"]
    files = plan.admin_files
    assert set(files) == {paths.CLIENT_CA, paths.ADMIN_CERT, paths.ADMIN_KEY, paths.ADMIN_PASS, paths.ENV}
    folder = inv.pki_dir / "etcd"
    assert (files[paths.ADMIN_CERT], files[paths.ADMIN_KEY]) == (folder / "admin.crt", folder / "admin.key")
    assert files[paths.CLIENT_CA] == inv.pki_dir / "ca.crt"
    assert f"ETCDCTL_ENDPOINTS={','.join(client_url(seq) for seq in (1, 2, 3, 4))}\n" in files[paths.ENV]
    assert f"ETCDCTL_CERT={paths.ADMIN_CERT}" in files[paths.ENV]
    assert plan.control_host == address(1)
    assert plan.admin_etcdctl == (None, None)  # the distribution's etcdctl, or the one there
    pinned = decide(facts(inventory(tmp_path, etcd_packages=["etcd"], etcd_version="3.5.30"), admin=["10.10.10.30"]))
    assert pinned.admin_etcdctl == (["etcd"], "3.5.30")  # the members' package, at their version


def test_the_control_node_is_written_by_an_admin_host_when_no_member_is_in_the_run(tmp_path):
    plan = decide(facts(inventory(tmp_path), outside=(1, 2, 3), admin=["10.10.10.30"]))
    assert (plan.members, plan.control_host) == ({}, "10.10.10.30")


def test_patroni_and_vip_manager_get_the_live_members_and_a_user_of_their_own(tmp_path):
    inv = inventory(tmp_path)
    pg = pg_host(tmp_path, patroni_keys={"etcd3.hosts": ["10.10.10.10:2379"]}, vip_keys={}, owner=("postgres", "postgres"))
    plan = decide(facts(inv, pg=[pg], passwords={"pg-main": None}))
    client = plan.clients[PG]
    assert (client.patroni.action, client.vip.action) == ("restart", "restart")
    assert client.patroni.values["etcd3.hosts"] == LIVE_HOSTS
    assert client.vip.values["dcs-endpoints"] == [client_url(seq) for seq in (1, 2, 3)]
    assert (client.user.name, client.user.prefix, client.certificate.name, client.key_owner) == (
        "pg-main",
        "/pg/pg-main/",
        "pg-main",
        ("postgres", "postgres"),
    )
    assert [user.name for user in plan.users] == ["pg-main"]
    assert plan.users_host == address(1)
    assert [c.name for c in plan.control.certificates] == ["etcd-1", "etcd-2", "etcd-3", "pg-main", "admin"]
    assert sorted(s.path.name for s in plan.control.passwords) == ["pg-main.password", "root.password"]
    assert_control_node_untouched(inv)


def test_patronis_config_that_leads_to_a_file_of_root_through_a_folder_of_postgres_is_refused_before_any_change(tmp_path):
    problem = (
        "/etc/patroni/patroni.yml leads to /etc/shadow, a file of root's, through /etc/patroni, which postgres can change: "
        "etcdkit does not write it as root"
    )
    pg = pg_host(tmp_path, patroni_keys={"etcd3.hosts": ["10.10.10.10:2379"]}, owner=("root", "root"), refused=problem)
    with refused("reload.patroni_config") as error:
        decide(facts(inventory(tmp_path), pg=[pg], passwords={"pg-main": None}))
    assert str(error.value).startswith(f"{PG}: {problem}; nothing was changed")


def test_patroni_is_reloaded_for_a_new_member_list_and_vip_manager_without_patroni_keeps_root_keys(tmp_path):
    before_the_join = [f"https://{h}" for h in LIVE_HOSTS[:2]]
    current = hashed(patroni.patroni_change("", {}, before_the_join, "pg-main", "s3cret").values, patroni.SECRETS)
    pg = pg_host(tmp_path, patroni_keys=current, pg_etcd_password="s3cret")
    vip_only = pg_host(tmp_path, vip_keys={}, name="10.10.10.41", pg_etcd_password="s3cret")
    plan = decide(facts(inventory(tmp_path), pg=[pg, vip_only], passwords={"pg-main": "s3cret"}))
    assert (plan.clients[PG].patroni.action, plan.clients[PG].vip) == ("reload", None)
    assert (plan.clients["10.10.10.41"].patroni, plan.clients["10.10.10.41"].key_owner) == (None, ("root", "root"))
    assert [user.name for user in plan.users] == ["pg-main"]  # one user per PostgreSQL cluster
    assert [s.path.name for s in plan.control.passwords] == ["root.password"]  # pg-main's is the inventory's


@pytest.mark.parametrize("version, fixed", [("3.5.16", False), ("3.5.27", False), ("3.5.28", True), ("3.5.30", True), ("3.6.9", True)])
def test_patroni_uses_fixed_hosts_where_etcd_lists_its_members_only_after_a_login(tmp_path, version, fixed):
    """Patroni before 4.1.1 lists the members before it logs in: with use_proxies it never asks."""

    def patroni_change(current: dict):
        pg = pg_host(tmp_path, patroni_keys=current, pg_etcd_password="s3cret")
        live = view(1, 2, 3, version=version)
        return decide(facts(inventory(tmp_path), live=live, pg=[pg], passwords={"pg-main": "s3cret"})).clients[PG].patroni

    change = patroni_change(up_to_date())
    if fixed:
        assert change.values["etcd3.use_proxies"] is True
        assert change.action == "restart"  # Patroni reads it only at its start
        assert patroni_change(up_to_date(**{"etcd3.use_proxies": True})).action is None
    else:
        assert "etcd3.use_proxies" not in change.values and change.action is None  # the site's own setting, if any


def test_a_pg_host_without_patroni_or_vip_manager_is_skipped_with_a_note(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, {1: inv.ours(1, running=False)}, live=view(1, 2, 3, leader=2, down={1}), pg=[pg_host(tmp_path)]))
    assert plan.clients == {}
    assert plan.notes == [f"{PG}: neither /etc/patroni/patroni.yml nor /etc/default/vip-manager.yml: skipped"]
    assert plan.users_host == address(2)  # the first running member manages the users


def test_users_without_a_running_member_in_the_run_are_refused(tmp_path):
    with refused("reload.no_member", match="^the etcd users of Patroni and vip-manager are managed through a member: include one"):
        decide(facts(inventory(tmp_path), outside=(1, 2, 3), pg=[pg_host(tmp_path, vip_keys={})]))


def test_the_monitoring_targets_are_the_started_members(tmp_path):
    live = view(1, 2, 3, 4, entry(5, started=False))
    plan = decide(facts(inventory(tmp_path), live=live, monitored=monitors(tmp_path, "10.10.10.20")))
    assert sorted(plan.monitoring.targets) == ["etcd-1.yml", "etcd-2.yml", "etcd-3.yml", "etcd-4.yml"]
    assert plan.monitoring.certificate.name == "monitor" and plan.monitoring.ca_cert == tmp_path / "pki" / "ca.crt"
    assert [c.name for c in plan.control.certificates] == ["etcd-1", "etcd-2", "etcd-3", "monitor", "admin"]


def test_with_a_site_targets_folder_the_targets_are_the_started_members_and_nothing_else(tmp_path):
    live = view(1, 2, 3, 4, entry(5, started=False))
    monitored = monitors(tmp_path, "10.10.10.20", etcd_monitor_target_dir="/infra/targets/etcd")
    plan = decide(facts(inventory(tmp_path), live=live, monitored=monitored))
    assert sorted(plan.monitoring.targets) == ["etcd-1.yml", "etcd-2.yml", "etcd-3.yml", "etcd-4.yml"]
    assert (plan.monitoring.target_dir, plan.monitoring.ca_cert, plan.monitoring.certificate) == ("/infra/targets/etcd", None, None)
    assert [c.name for c in plan.control.certificates] == ["etcd-1", "etcd-2", "etcd-3", "admin"]


def test_without_monitor_in_etcd_reload_there_is_no_monitoring(tmp_path):
    plan = decide(facts(inventory(tmp_path, etcd_reload=["conf"]), monitored=monitors(tmp_path, "10.10.10.20")))
    assert plan.monitoring is None


def test_a_control_node_with_another_ca_or_root_password_is_refused(tmp_path):
    inv = inventory(tmp_path)
    with refused("control.other_ca", match=r"the control node's CA is not the one 10\.10\.10\.10, 10\.10\.10\.11, 10\.10\.10\.12 hold"):
        decide(facts(inv, ca_pem="-----BEGIN CERTIFICATE-----\nanother CA\n"))
    members = {seq: inv.ours(seq, root="the-root-password") for seq in (1, 2, 3)}
    with refused("control.no_root"):
        decide(facts(inv, members))
    with refused("control.other_root"):
        decide(facts(inv, members, root="another-password"))
    with refused("control.root_changing"):
        decide(facts(inv, members, root="a-new-password", configured=True))
    assert decide(facts(inv, members, root="the-root-password")).members  # the same password: fine


# Patroni's restarts: replicas only, unless etcd_patroni_restart_primary


OLD_TLS = {"etcd3.cacert": "/pg/cert/ca.crt", "restapi.connect_address": "10.10.10.40:8008"}


def test_a_tls_change_restarts_a_replica_and_only_writes_a_primarys_config_with_a_warning(tmp_path):
    replica = pg_host(tmp_path, patroni_keys=up_to_date(**OLD_TLS), name="10.10.10.41", role="replica", pg_etcd_password="s3cret")
    primary = pg_host(tmp_path, patroni_keys=up_to_date(**OLD_TLS), role="primary", pg_etcd_password="s3cret")
    plan = decide(facts(inventory(tmp_path), pg=[primary, replica]))
    assert plan.clients["10.10.10.41"].patroni_action == "restart"
    assert plan.clients["10.10.10.41"].patroni_api == "http://10.10.10.40:8008/patroni"
    primary_plan = plan.clients[PG]
    assert (primary_plan.patroni_action, primary_plan.patroni_role, primary_plan.patroni.action) == (None, "primary", "restart")
    assert primary_plan.patroni.values["etcd3.cacert"] == paths.CLIENT_CA  # its config is written all the same
    assert plan.warnings == [
        f"{PG}: Patroni is the primary of its cluster: /etc/patroni/patroni.yml gets etcd settings Patroni reads at its start, but it is not "
        "restarted (that stops PostgreSQL there) and keeps using the old ones until it is. Switch over, then restart it: "
        "`patronictl -c /etc/patroni/patroni.yml switchover` on a host of the cluster, then `systemctl restart patroni` on "
        f"{PG}; or run reload again with --data etcd_patroni_restart_primary=true"
    ]


@pytest.mark.parametrize("role", ["master", "standby_leader", None])
def test_a_leader_of_any_name_or_an_unknown_role_is_not_restarted(tmp_path, role):
    pg = pg_host(tmp_path, patroni_keys=up_to_date(**OLD_TLS), role=role, pg_etcd_password="s3cret")
    plan = decide(facts(inventory(tmp_path), pg=[pg]))
    assert plan.clients[PG].patroni_action is None
    said = f"is the {role} of its cluster" if role else "did not tell its role (http://10.10.10.40:8008/patroni): taken for a primary"
    assert plan.warnings[0].startswith(f"{PG}: Patroni {said}: ")


def test_etcd_patroni_restart_primary_restarts_the_primary_after_the_replicas(tmp_path):
    pg = pg_host(tmp_path, patroni_keys=up_to_date(**OLD_TLS), role="primary", pg_etcd_password="s3cret", etcd_patroni_restart_primary=True)
    plan = decide(facts(inventory(tmp_path), pg=[pg]))
    assert (plan.clients[PG].patroni_action, plan.warnings) == ("restart-primary", [])


@pytest.mark.parametrize("role", ["primary", "replica", None])
def test_new_members_or_credentials_reload_patroni_whatever_its_role(tmp_path, role):
    pg = pg_host(tmp_path, patroni_keys=up_to_date(**{"etcd3.hosts": LIVE_HOSTS[:1]}), role=role, pg_etcd_password="s3cret")
    plan = decide(facts(inventory(tmp_path), pg=[pg]))
    assert (plan.clients[PG].patroni_action, plan.warnings) == ("reload", [])


def test_patronis_api_is_where_its_config_says_and_tls_there_means_https(tmp_path):
    current = up_to_date(**{"restapi.connect_address": "10.10.10.40:8443", "restapi.certfile": "/pg/cert/server.crt"})
    assert patroni.api_url(current) == "https://10.10.10.40:8443/patroni"
    assert patroni.api_url({}) == "http://127.0.0.1:8008/patroni"


# vip-manager 1.x and 2.x


def test_vip_manager_keeps_its_dcs_type_and_loses_the_old_names_it_would_refuse_next_to_the_new(tmp_path):
    pg = pg_host(tmp_path, vip_keys={"dcs-type": "etcd3", "endpoints": ["http://127.0.0.1:2379"]}, pg_etcd_password="s3cret")
    plan = decide(facts(inventory(tmp_path), pg=[pg]))
    vip = plan.clients[PG].vip
    assert "dcs-type" not in vip.values and vip.action == "restart"
    assert {key: vip.values[key] for key in patroni.VIP_OLD_KEYS} == dict.fromkeys(patroni.VIP_OLD_KEYS)  # removed
    up_to_date_vip = {**hashed(vip.values, patroni.SECRETS), "dcs-type": "etcd3"}
    again = decide(facts(inventory(tmp_path), pg=[pg_host(tmp_path, vip_keys=up_to_date_vip, pg_etcd_password="s3cret")]))
    assert again.clients[PG].vip.action is None


@pytest.mark.parametrize("dcs_type", ["consul", "patroni"])
def test_a_vip_manager_that_does_not_watch_etcd_is_left_alone(tmp_path, dcs_type):
    pg = pg_host(tmp_path, vip_keys={"dcs-type": dcs_type, "dcs-endpoints": ["http://127.0.0.1:8008"]})
    plan = decide(facts(inventory(tmp_path), pg=[pg]))
    assert plan.clients == {}
    assert plan.notes == [f"{PG}: vip-manager watches {dcs_type}, not etcd: /etc/default/vip-manager.yml left alone"]


# Prometheus as the site has it


def test_prometheus_before_2_43_is_told_where_to_put_the_job_and_an_earlier_rules_file_is_left_with_a_warning(tmp_path):
    setups = {
        "10.10.10.20": PrometheusState(version=(2, 42), job_inline=False, old_rules=True),
        "10.10.10.21": PrometheusState(version=(2, 42), job_inline=True, old_rules=False),  # its prometheus.yml has the job
        "10.10.10.22": PrometheusState(version=(2, 53), job_inline=False, old_rules=False),
    }
    watching = Monitors(tuple(setups), make_settings(tmp_path), {}, setups)
    plan = decide(facts(inventory(tmp_path), monitored=watching))
    assert plan.warnings == [
        "10.10.10.20: Prometheus 2.42 cannot include scrape jobs (scrape_config_files came with 2.43), so it does not scrape "
        "`etcd` yet: copy the job of /etc/prometheus/scrape/etcd-etcd.yml under `scrape_configs:` in /etc/prometheus/prometheus.yml "
        "and reload Prometheus (`systemctl reload prometheus`); the next run finds it there",
        "10.10.10.20: /etc/prometheus/rules/etcd.yml is the rules file of an earlier etcdkit, for every cluster: each cluster now "
        "has its own (rules/etcdkit-<cluster>.yml), so its alerts fire twice. Once every cluster it monitors has been reloaded, "
        "delete it (`rm /etc/prometheus/rules/etcd.yml`) and reload Prometheus; etcdkit never deletes etcd.yml",
    ]
    assert plan.monitoring.hosts == list(setups)  # the job and rules files are written on all of them


def test_a_new_password_restarts_patroni_where_etcd_drops_its_login_and_a_running_primary_is_refused(tmp_path):
    """etcd 3.5.28 and later drop a user's login when its password changes, and Patroni before 4.1.1
    logs in again only at its restart (seen on the lab: it lost its leader lock within its ttl)."""
    proxies = {"etcd3.use_proxies": True}
    live = view(1, 2, 3, version="3.5.30")

    def plan(role: str | None, **settings):
        pg = pg_host(tmp_path, patroni_keys=up_to_date(**proxies), role=role, pg_etcd_password="new-s3cret", **settings)
        return decide(facts(inventory(tmp_path), live=live, pg=[pg], passwords={"pg-main": "new-s3cret"}))

    replica = plan("replica").clients[PG]
    assert (replica.patroni.relogin, replica.patroni_action) == (True, "restart")
    with refused("reload.patroni_relogin", match=r"Patroni is the primary of its cluster and its etcd user or password changes"):
        plan("primary")
    assert plan("primary", etcd_patroni_restart_primary=True).clients[PG].patroni_action == "restart-primary"
    assert plan(None).clients[PG].patroni_action is None  # no Patroni answers: nothing logged in to lose
    older = decide(facts(inventory(tmp_path), pg=[pg_host(tmp_path, patroni_keys=up_to_date(), role="primary", pg_etcd_password="new-s3cret")],
                         passwords={"pg-main": "new-s3cret"}))  # fmt: skip
    assert older.clients[PG].patroni_action == "reload"  # etcd 3.5.16 keeps the login: a reload does
