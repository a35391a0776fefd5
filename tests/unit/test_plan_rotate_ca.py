"""The CA rotation's decisions: which phases remain, what every host's CA files and certificates
become, and every refusal, from plain facts."""

import pytest
from pyinfra.api.exceptions import DeployError

from etcdkit.control.pki import CASource, CertificateAuthority
from etcdkit.model import paths
from etcdkit.plans.reload import PgHost, ReloadFacts
from etcdkit.plans.rotate_ca import RotationFacts, decide
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
    view,
)

PG = "10.10.10.40"


@pytest.fixture(scope="module")
def cas(tmp_path_factory):
    """Two CAs: the one the members trust, and the one they move to."""
    folder = tmp_path_factory.mktemp("cas")
    return [CertificateAuthority.create(CASource(folder / name), NOW).cert_pem for name in ("old", "new")]


def facts(inv, held, new_ca, live=None, admin=(), pg=(), monitored=NO_MONITORS, states=None, root=None):
    """held: seq -> the PEM of its /etc/etcd/ca.crt (default: every member holds held[None])."""
    hosts = inv.hosts(states)
    reload_facts = ReloadFacts(inv.spec, hosts, (), live or view(1, 2, 3), control(new_ca, root), tuple(admin), tuple(pg), {}, monitored)
    return RotationFacts(reload_facts, {inv.name(m.seq): held.get(m.seq, held.get(None)) for m in inv.spec.members})


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
    with pytest.raises(DeployError, match="point etcd_ca_cert/etcd_ca_key at the new CA"):
        decide(facts(inventory(tmp_path), {None: old}, None))


@pytest.mark.parametrize(
    "live, states, problem",
    [
        (view(1, 2, 3, down=[3]), None, "the cluster is not healthy"),
        (view(1, 2, 3, entry(4, learner=True)), None, "is pending"),
        (view(1, 2, 3, 4), None, "member etcd-4 .* is not a running member of the inventory in this run"),
    ],
)
def test_refused_unless_every_member_is_healthy_and_in_the_run(tmp_path, cas, live, states, problem):
    old, new = cas
    inv = inventory(tmp_path)
    with pytest.raises(DeployError, match=rf"(?s)^cannot rotate the CA, nothing was changed:.*{problem}"):
        decide(facts(inv, {None: old}, new, live=live, states=states))
    assert_control_node_untouched(inv)


def test_a_member_without_a_ca_file_is_refused(tmp_path, cas):
    old, new = cas
    with pytest.raises(DeployError, match=r"10\.10\.10\.11: /etc/etcd/ca.crt holds no CA certificate"):
        decide(facts(inventory(tmp_path), {2: "garbage", None: old}, new))


def test_the_root_password_must_still_match(tmp_path, cas):
    old, new = cas
    inv = inventory(tmp_path)
    states = {seq: inv.ours(seq, root="the members' password") for seq in (1, 2, 3)}
    with pytest.raises(DeployError, match="has no root password for it"):
        decide(facts(inv, {None: old}, new, states=states))
