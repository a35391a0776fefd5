"""The CA rotation's decisions: which phases remain, what every host's CA files and certificates
become, and every refusal, from plain facts."""

import pytest
from pyinfra.api import Inventory

from etcdkit.control.pki import CASource, CertificateAuthority
from etcdkit.model import paths
from etcdkit.model.settings import Settings
from etcdkit.plans.reload import PgHost, ReloadFacts
from etcdkit.plans.rotate_ca import RotationFacts, client_hosts, decide
from tests.unit.plans_data import (
    NO_MONITORS,
    NOW,
    address,
    assert_control_node_untouched,
    control,
    entry,
    inventory,
    make_settings,
    monitors,
    refused,
    view,
)

PG = "10.10.10.40"


@pytest.fixture(scope="module")
def cas(tmp_path_factory):
    """Two CAs: the one the members trust, and the one they move to."""
    folder = tmp_path_factory.mktemp("cas")
    return [CertificateAuthority.create(CASource(folder / name), NOW).cert_pem for name in ("old", "new")]


def facts(inv, held, new_ca, live=None, admin=(), pg=(), monitored=NO_MONITORS, states=None, root=None, clients=None, left_out=None):
    """held: seq -> the PEM of its /etc/etcd/ca.crt (default: every member holds held[None]); clients:
    the client hosts of the inventory (default: those of the run); left_out: those not in the run."""
    hosts = inv.hosts(states)
    reload_facts = ReloadFacts(inv.spec, hosts, (), live or view(1, 2, 3), control(new_ca, root), tuple(admin), tuple(pg), {}, monitored)
    if clients is None:
        clients = {name: "admin host" for name in admin} | {h.name: "Patroni/vip-manager host" for h in pg}
        clients |= {name: "Prometheus host" for name in monitored.hosts}
    held = {inv.name(m.seq): held.get(m.seq, held.get(None)) for m in inv.spec.members}
    return RotationFacts(reload_facts, held, clients, left_out or {})


def test_members_on_the_old_ca_go_through_the_three_phases(tmp_path, cas):
    old, new = cas
    inv = inventory(tmp_path)
    plan = decide(facts(inv, {None: old}, new))
    assert plan.new_ca == new and plan.bundle == new + old
    assert sorted(plan.members) == [address(seq) for seq in (1, 2, 3)]
    assert [(i.source.name, i.place.dest, i.place.user, i.place.mode) for i in plan.certificates[address(1)]] == [
        ("etcd-1.crt", paths.CERT, "root", "644"),
        ("etcd-1.key", paths.KEY, "etcd", "600"),
    ]
    assert [r.name for r in plan.control.certificates] == ["etcd-1", "etcd-2", "etcd-3", "admin"]
    assert plan.control.ca.files[0] == tmp_path / "pki" / "ca.crt"
    assert plan.control_host == address(1)
    assert (plan.trust, plan.vip_managers, plan.warnings) == ({}, {}, [])
    assert_control_node_untouched(inv)


def test_a_finished_rotation_changes_nothing_but_brings_certificates_to_the_new_ca(tmp_path, cas):
    _, new = cas
    plan = decide(facts(inventory(tmp_path), {None: new}, new))
    assert plan.bundle is None
    assert plan.notes == ["the members of `etcd` trust only the CA of etcd_ca_cert: only certificates are brought to it"]
    assert len(plan.certificates[address(2)]) == 2


def test_an_interrupted_rotation_starts_again_with_every_old_ca(tmp_path, cas):
    old, new = cas
    # member 1 finished phase 3, members 2 and 3 hold the bundle: the old CA is still trusted
    plan = decide(facts(inventory(tmp_path), {1: new, None: new + old}, new))
    assert plan.bundle == new + old


def test_every_client_gets_its_ca_file_and_certificate(tmp_path, cas):
    old, new = cas
    inv = inventory(tmp_path)
    pg_settings = make_settings(tmp_path, pg_cluster="pg-main")
    pg = [
        PgHost(PG, pg_settings, {"etcd3.hosts": []}, {"dcs-endpoints": []}, ("postgres", "postgres")),
        PgHost("10.10.10.41", pg_settings, None, None, None),  # no Patroni, no vip-manager: left alone
    ]
    plan = decide(facts(inv, {None: old}, new, admin=[PG], pg=pg, monitored=monitors(tmp_path, "10.10.10.50")))
    assert [p.dest for p in plan.trust[PG]] == [paths.CLIENT_CA]  # once, though admin host and Patroni host
    assert [(i.place.dest, i.place.user, i.place.mode) for i in plan.certificates[PG]] == [
        (paths.ADMIN_CERT, "root", "644"),
        (paths.ADMIN_KEY, "root", "600"),
        ("/etc/etcd-client/pg-main.crt", "root", "644"),
        ("/etc/etcd-client/pg-main.key", "postgres", "600"),
    ]
    assert plan.vip_managers == {PG: "vip-manager"}
    consul = PgHost(PG, pg_settings, None, {"dcs-type": "consul"}, None)
    assert decide(facts(inv, {None: old}, new, pg=[consul])).vip_managers == {}  # it watches no etcd: not restarted
    assert "10.10.10.41" not in plan.trust
    prometheus = "/etc/prometheus/etcd-etcd"
    assert [(p.dest, p.group, p.mode) for p in plan.folders["10.10.10.50"]] == [(prometheus, "prometheus", "750")]
    assert [p.dest for p in plan.trust["10.10.10.50"]] == [f"{prometheus}/ca.crt"]
    assert [(i.place.dest, i.place.user) for i in plan.certificates["10.10.10.50"]] == [
        (f"{prometheus}/monitor.crt", "root"),
        (f"{prometheus}/monitor.key", "prometheus"),
    ]
    assert [r.name for r in plan.control.certificates] == ["etcd-1", "etcd-2", "etcd-3", "admin", "pg-main", "monitor"]


def test_monitors_of_a_site_targets_folder_get_no_tls_files_and_a_warning(tmp_path, cas):
    old, new = cas
    monitored = monitors(tmp_path, "10.10.10.50", etcd_monitor_target_dir="/infra/targets/etcd")
    plan = decide(facts(inventory(tmp_path), {None: old}, new, monitored=monitored))
    assert "10.10.10.50" not in plan.trust and "10.10.10.50" not in plan.certificates and "10.10.10.50" not in plan.folders
    assert [r.name for r in plan.control.certificates] == ["etcd-1", "etcd-2", "etcd-3", "admin"]
    assert plan.warnings == [
        "10.10.10.50: the site's own Prometheus job scrapes `etcd` (etcd_monitor_target_dir) with TLS files etcdkit does not "
        "manage: give it the new CA and a client certificate the new CA issued, or it stops scraping once the members trust "
        "only the new CA"
    ]


def test_without_a_new_ca_nothing_happens(tmp_path, cas):
    old, _ = cas
    with refused("rotate_ca.refused", "rotate_ca.no_new_ca", match="point etcd_ca_cert/etcd_ca_key at the new CA"):
        decide(facts(inventory(tmp_path), {None: old}, None))


@pytest.mark.parametrize(
    "live, states, code",
    [
        (view(1, 2, 3, down=[3]), None, "cluster.unhealthy"),
        (view(1, 2, 3, entry(4, learner=True)), None, "cluster.pending"),
        (view(1, 2, 3, 4), None, "rotate_ca.member_left_out"),
    ],
)
def test_refused_unless_every_member_is_healthy_and_in_the_run(tmp_path, cas, live, states, code):
    old, new = cas
    inv = inventory(tmp_path)
    with refused("rotate_ca.refused", code, match="^cannot rotate the CA; nothing was changed:\n"):
        decide(facts(inv, {None: old}, new, live=live, states=states))
    assert_control_node_untouched(inv)


def test_a_member_without_a_ca_file_is_refused(tmp_path, cas):
    old, new = cas
    with refused("rotate_ca.refused", "rotate_ca.damaged_ca", match=r"10\.10\.10\.11: /etc/etcd/ca.crt holds no CA certificate"):
        decide(facts(inventory(tmp_path), {2: "garbage", None: old}, new))


def test_the_root_password_must_still_match(tmp_path, cas):
    old, new = cas
    inv = inventory(tmp_path)
    states = {seq: inv.ours(seq, root="the members' password") for seq in (1, 2, 3)}
    with refused("control.no_root", match="has no root password for it"):
        decide(facts(inv, {None: old}, new, states=states))


CLIENTS = {PG: "admin host", "10.10.10.50": "Prometheus host"}


@pytest.mark.parametrize("why", ["left out of the run (--limit)", "cannot be reached over SSH"])
def test_a_client_host_out_of_the_run_is_refused_unless_left_behind_on_purpose(tmp_path, cas, why):
    old, new = cas
    inv = inventory(tmp_path)
    with refused("rotate_ca.client_left_out") as raised:
        decide(facts(inv, {None: old}, new, admin=[PG], clients=CLIENTS, left_out={"10.10.10.50": why}))
    assert f"  - 10.10.10.50 (Prometheus host) is {why}: its etcd clients would keep only the old CA" in str(raised.value)
    assert "or name it as left behind on purpose: --data etcd_rotate_skip=10.10.10.50\n" in str(raised.value)
    assert_control_node_untouched(inv)
    skipping = inventory(tmp_path, etcd_rotate_skip=["10.10.10.50"])
    plan = decide(facts(skipping, {None: old}, new, admin=[PG], clients=CLIENTS, left_out={"10.10.10.50": why}))
    assert [w for w in plan.warnings if w.startswith("10.10.10.50 (Prometheus host) is left behind on purpose")]
    assert PG in plan.trust and "10.10.10.50" not in plan.hosts


def test_every_client_host_out_of_the_run_is_named_in_one_line(tmp_path, cas):
    old, new = cas
    inv = inventory(tmp_path, etcd_rotate_skip=["10.10.10.50"])
    left_out = {PG: "cannot be reached over SSH", "10.10.10.50": "left out of the run (--limit)"}
    with refused("rotate_ca.client_left_out", match=rf"--data etcd_rotate_skip=10.10.10.50,{PG}\n"):
        decide(facts(inv, {None: old}, new, clients=CLIENTS, left_out=left_out))


def test_a_client_host_in_the_run_left_behind_on_purpose_gets_nothing(tmp_path, cas):
    old, new = cas
    pg = [PgHost(PG, make_settings(tmp_path, pg_cluster="pg-main"), {"etcd3.hosts": []}, {"dcs-endpoints": []}, None)]
    plan = decide(facts(inventory(tmp_path, etcd_rotate_skip=[PG]), {None: old}, new, admin=[PG], pg=pg))
    assert PG not in plan.hosts and plan.vip_managers == {}
    assert [r.name for r in plan.control.certificates] == ["etcd-1", "etcd-2", "etcd-3", "admin"]


@pytest.mark.parametrize("name", ["10.10.10.99", address(2)], ids=["not in the inventory", "a member"])
def test_only_client_hosts_can_be_left_behind(tmp_path, cas, name):
    old, new = cas
    with refused(
        "rotate_ca.refused", "rotate_ca.client_left_out", match=rf"etcd_rotate_skip names {name}: no client host of the inventory"
    ):
        decide(facts(inventory(tmp_path, etcd_rotate_skip=[name]), {None: old}, new, admin=[PG]))


def test_the_client_hosts_of_an_inventory_are_its_admin_patroni_and_prometheus_hosts():
    inv = Inventory(
        (["10.10.10.10", "10.10.10.40", "10.10.10.41", "10.10.10.50", "10.10.10.51"], {}),
        etcd=(["10.10.10.10"], {"etcd_seq": 1}),
        etcd_clients=(["10.10.10.10", "10.10.10.40"], {}),
        pg_main=(["10.10.10.40", "10.10.10.41"], {"pg_cluster": "pg-main"}),
        infra=(["10.10.10.50"], {}),
        site=(["10.10.10.51"], {}),
    )
    settings = Settings(etcd_client_group="etcd_clients", etcd_monitor_group="infra")
    assert client_hosts(inv, settings, {"10.10.10.10"}) == {
        "10.10.10.40": "admin host and Patroni/vip-manager host of pg-main",
        "10.10.10.41": "Patroni/vip-manager host of pg-main",
        "10.10.10.50": "Prometheus host",
    }
