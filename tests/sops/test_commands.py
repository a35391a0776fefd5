"""The SOPs as operators type them: pyinfra's preview without -y (Enter executes), --dry that
changes nothing anywhere, the root password changed on a live cluster, a control node that does
not match the cluster, a bad setting that must not spread, certificates renewed by reload.

Tests run in order on one lab: each says what it starts from.
"""

import datetime
import json
import secrets
import shlex
import ssl
import time
import urllib.request

import pytest
from cryptography import x509

from etcdkit.control.pki import CASource, CertificateAuthority, CertRequest
from tests.helpers import ROOT, control_node_state, deploy, etcdctl, host_state, lab, main_pids, ssh, typed
from tests.writer import Writer

pytestmark = pytest.mark.etcd("3.5.16", "reload")

NODES = ["10.10.10.10", "10.10.10.11", "10.10.10.12"]
NEW = "10.10.10.13"
PKI = ROOT / "pki"


@pytest.fixture(scope="module", autouse=True)
def bare_nodes():
    lab("up", "-n", "4")
    lab("reset", "1", "2", "3", "4")


def everything(addresses=(*NODES, NEW)) -> dict:
    return {"control node": control_node_state(), **{address: host_state(address) for address in addresses}}


def test_dry_on_bare_hosts_changes_nothing_not_even_on_the_control_node():
    before = everything()
    run = typed("deploys/create.py", "--dry")
    assert run.returncode == 0, run.stderr
    assert "Detected changes" in run.stderr and "etcd member | Install etcd" in run.stderr
    assert "Control node: CA, certificates and passwords in the PKI folder" in run.stderr
    assert everything() == before


def test_create_as_typed_previews_and_executes_on_enter(tmp_path):
    aborted = typed(str(ROOT / "deploys" / "create.py"), enter=False, inventory=str(ROOT / "inventories" / "lab.py"), cwd=tmp_path)
    assert "Press enter to execute" in aborted.stderr
    assert ssh(NODES[0], "command -v etcd", check=False).returncode != 0  # no Enter: nothing ran
    run = typed("deploys/create.py")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Press enter to execute" in run.stderr and "--> Results:" in run.stderr
    assert etcdctl(NODES[1], "endpoint health --cluster").returncode == 0


@pytest.mark.parametrize(
    "sop, args, nodes, shown",
    [
        (
            "create",
            ("--data", "etcd_heartbeat_interval=150", "--data", "etcd_election_timeout=1500"),
            "1,2,3",
            "Restart needed: etcd.conf changed",
        ),
        ("join", ("--limit", NEW), "1,2,3,4", "Announce etcd-4 (learner)"),
        ("remove", ("--limit", NODES[2]), "1,2,3", "Remove etcd-3 from the cluster"),
        ("destroy", ("--data", "etcd_safeguard=false"), "1,2,3", "Save a snapshot to"),
        ("reload", ("--data", "etcd_reload=restart"), "1,2,3", "Restart needed: a rolling restart was asked for"),
    ],
    ids=["create", "join", "remove", "destroy", "reload"],
)
def test_dry_on_a_live_cluster_shows_the_change_and_makes_none(sop, args, nodes, shown):
    before = everything()
    run = typed(f"deploys/{sop}.py", *args, "--dry", nodes=nodes)
    assert run.returncode == 0, run.stderr[-3000:]
    assert shown in run.stderr
    assert everything() == before


def test_dry_ca_rotation_shows_its_phases_and_changes_nothing(tmp_path):
    CertificateAuthority.create(CASource(tmp_path / "next"), datetime.datetime.now(datetime.UTC))
    before = everything()
    new_ca = ("--data", f"etcd_ca_cert={tmp_path}/next/ca.crt", "--data", f"etcd_ca_key={tmp_path}/next/ca.key")
    run = typed("deploys/rotate_ca.py", *new_ca, "--dry")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Restart etcd to trust the old and the new ca (one member at a time)" in run.stderr
    assert "Restart etcd to trust only the new ca (one member at a time)" in run.stderr
    assert "Control node: certificates of the new CA" in run.stderr
    assert everything() == before


def test_join_remove_and_reload_as_typed():
    joined = typed("deploys/join.py", "--limit", NEW, nodes="1,2,3,4")
    assert joined.returncode == 0, joined.stderr[-3000:]
    assert len(json.loads(etcdctl(NODES[0], "member list -w json").stdout)["members"]) == 4
    removed = typed("deploys/remove.py", "--limit", NEW, nodes="1,2,3,4")
    assert removed.returncode == 0, removed.stderr[-3000:]
    reloaded = typed("deploys/reload.py")
    assert reloaded.returncode == 0, reloaded.stderr[-3000:]
    assert sorted(m["name"] for m in json.loads(etcdctl(NODES[0], "member list -w json").stdout)["members"]) == [
        "etcd-1",
        "etcd-2",
        "etcd-3",
    ]
    assert deploy("reload").changed == {}


def root_password() -> str:
    return (PKI / "etcd" / "root.password").read_text().strip()


def logs_in(address: str, password: str) -> bool:
    login = f"ETCDCTL_USER=root:{shlex.quote(password)} etcdctl get --limit=1 x"
    return ssh(address, f"bash -lc {shlex.quote(login)}", check=False).returncode == 0


def test_the_root_password_changes_on_a_live_cluster_under_writes():
    old, new = root_password(), secrets.token_urlsafe(18)
    pids = main_pids(NODES)
    with Writer(NODES) as writer:
        time.sleep(1)
        run = deploy("create", "--data", f"etcd_root_password={new}")
        time.sleep(2)
    assert run.changed["Change root's password in etcd first"] == [NODES[0]]
    assert new not in run.stdout + run.stderr
    assert root_password() == new  # the control node keeps the new one
    for address in NODES:
        assert ssh(address, "cat /etc/etcd/etcd.pass").stdout == new
        assert not logs_in(address, old) and logs_in(address, new)
        assert ssh(address, "bash -lc 'etcdctl get --limit=1 x >/dev/null && echo ok'").stdout.strip() == "ok"  # the env works
    assert main_pids(NODES) == pids  # nothing restarted
    counts = writer.counts(NODES[0])
    print(f"continuous writer during the rotation: {counts}")
    assert counts.acknowledged > 50 and counts.lost == 0
    assert deploy("create").changed == {}  # the next run, without --data, needs nothing


def test_a_control_node_without_the_clusters_pki_is_refused(tmp_path):
    before = everything(NODES)
    run = deploy("create", "--data", f"etcd_pki_dir={tmp_path / 'empty-pki'}", check=False)
    assert run.returncode != 0 and not run.executed
    assert "but the control node has no CA" in run.stderr and "Copy the PKI folder" in run.stderr
    assert not (tmp_path / "empty-pki").exists()
    assert everything(NODES) == before


def test_a_bad_setting_does_not_spread():
    # etcd on every member refuses to start with heartbeat-interval 170: a setting etcd accepts in
    # general, fatal here, as a bad value would be
    guard = "[Service]\nExecStartPre=/bin/sh -c \"! grep -q '^heartbeat-interval: 170' /etc/etcd/etcd.conf\"\n"
    for address in NODES:
        ssh(
            address,
            "mkdir -p /etc/systemd/system/etcd.service.d && cat > /etc/systemd/system/etcd.service.d/guard.conf && systemctl daemon-reload",
            input_=guard,
        )
    try:
        pids = main_pids(NODES)
        run = deploy(
            "create",
            "--data",
            "etcd_heartbeat_interval=170",
            "--data",
            "etcd_election_timeout=1700",
            "--data",
            "etcd_restart_timeout=15",
            check=False,
        )
        assert run.returncode != 0
        assert "did not come back healthy within 15 s with its new configuration" in run.stdout + run.stderr
        assert "was put back and it serves again" in run.stdout + run.stderr
        confs = {address: ssh(address, "grep ^heartbeat-interval /etc/etcd/etcd.conf").stdout.strip() for address in NODES}
        assert set(confs.values()) == {"heartbeat-interval: 100"}
        after = main_pids(NODES)
        assert sum(after[a] != pids[a] for a in NODES) == 1  # only the first member restarted (twice), the others kept theirs
        assert etcdctl(NODES[1], "endpoint health --cluster").returncode == 0
    finally:
        for address in NODES:
            ssh(address, "rm -rf /etc/systemd/system/etcd.service.d && systemctl daemon-reload")
    assert deploy("create").changed == {}


def test_reload_renews_a_certificate_close_to_its_end():
    ca = CertificateAuthority.load(CASource(PKI))
    ca.issue(CertRequest(PKI / "etcd", "etcd-2", NODES[1], days=10), datetime.datetime.now(datetime.UTC))  # as if issued long ago
    pids = main_pids(NODES)
    run = deploy("reload")
    assert run.changed["etcd member | etcd's files"] == [NODES[1]]  # the certificate renewed (and only there)
    served = x509.load_pem_x509_certificate(ssh(NODES[1], "cat /etc/etcd/server.crt").stdout.encode())
    assert served.not_valid_after_utc - datetime.datetime.now(datetime.UTC) > datetime.timedelta(days=700)
    assert main_pids(NODES) == pids  # etcd reads certificates on each new connection: no restart
    assert etcdctl(NODES[0], "endpoint health --cluster").returncode == 0
    assert deploy("reload").changed == {}


def peer_port_answer(name: str) -> str:
    """What the peer port of a member says to a TLS client with the control node's certificate `name`."""
    context = ssl.create_default_context(cafile=str(PKI / "ca.crt"))
    context.load_cert_chain(str(PKI / "etcd" / f"{name}.crt"), str(PKI / "etcd" / f"{name}.key"))
    try:
        with urllib.request.urlopen(f"https://{NODES[0]}:2380/members", context=context, timeout=5) as response:
            return f"served {response.status}"
    except (OSError, ssl.SSLError) as error:
        return str(error)


def test_only_members_are_peers():
    # every member certificate names the cluster's peers (a DNS SAN) and the members accept no other
    assert "bad certificate" in peer_port_answer("admin")
    assert etcdctl(NODES[1], "endpoint health --cluster").returncode == 0


def test_destroy_as_typed():
    run = typed("deploys/destroy.py", "--data", "etcd_safeguard=false")
    assert run.returncode == 0, run.stderr[-3000:]
    assert all(ssh(address, "test -e /etc/etcd", check=False).returncode != 0 for address in NODES)
