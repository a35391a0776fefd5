"""etcd-status from plain data: the document, the problems and exit codes, the version problems and
advice, the table, the CLI."""

import dataclasses
import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from etcdkit.facts.etcd import EtcdAlarms, EtcdCluster, EtcdClusterAuth, EtcdHost

from etcdkit.cli import status as cli
from etcdkit.cli.run import Outcome
from etcdkit.model import paths
from etcdkit.model.auth import AuthState
from etcdkit.model.cluster import Alarm
from etcdkit.model.host import HeldCertificates
from etcdkit.model.run import RunContext
from etcdkit.plans import gather, status
from etcdkit.plans.status import build, format_report
from tests.unit.plans_data import NOW, with_health, with_status

DATA = Path(__file__).parent / "data"

HOSTS = [
    {"host": f"10.10.10.1{i}", "name": f"etcd-{i + 1}", "peer_url": f"https://10.10.10.1{i}:2380", "reachable": True, "service": "active"}
    for i in range(3)
]
CERTS = {h["host"]: {"server": NOW + dt.timedelta(days=365), "ca": NOW + dt.timedelta(days=3650)} for h in HOSTS}
AUTH_ON = AuthState(anonymous=False, root=True, refused=False)
ETCD_3 = 15417120162344794780  # the member ID of etcd-3 in the captured output

MEMBER_KEYS = {
    "name", "id", "host", "peer_urls", "client_urls", "state", "role", "health", "error", "version",
    "db_size", "db_size_in_use", "raft_term", "raft_index", "alarms", "cert_expires", "cert_days",
}  # fmt: skip
TOP_KEYS = {
    "cluster", "checked_at", "cluster_id", "cluster_version", "downgrade", "leader", "leader_id", "auth", "ca_expires",
    "ca_days", "hosts", "members", "alarms", "refused_urls", "problems", "advice", "status", "exit_code",
}  # fmt: skip


def view(name="cluster_healthy.txt"):
    return EtcdCluster().process((DATA / name).read_text().splitlines())


def document(live="default", hosts=HOSTS, alarms=(), auth=AUTH_ON, certs=CERTS):
    return build("etcd", [dict(h) for h in hosts], view() if live == "default" else live, tuple(alarms), auth, certs, NOW)


def third_member(live, **changes):
    """The view with etcd-3's entry of the member list changed."""
    return dataclasses.replace(live, members=(*live.members[:2], dataclasses.replace(live.members[2], **changes)))


def messages(doc):
    return [p["message"] for p in doc["problems"]]


def test_a_healthy_cluster_exits_0_with_every_field():
    doc = document()
    assert (doc["exit_code"], doc["status"], doc["problems"]) == (0, "healthy", [])
    assert set(doc) == TOP_KEYS
    assert all(set(member) == MEMBER_KEYS for member in doc["members"])
    assert (doc["cluster_id"], doc["leader"], doc["cluster_version"], doc["auth"]) == ("51134bfa79c3b3fe", "etcd-2", "3.5", True)
    assert doc["ca_days"] == 3650
    first = doc["members"][0]
    assert first["name"] == "etcd-1" and first["host"] == "10.10.10.10" and first["role"] == "follower"
    assert (first["db_size"], first["db_size_in_use"], first["raft_term"], first["raft_index"]) == (20480, 16384, 5, 238)
    assert (first["cert_days"], first["health"], first["alarms"]) == (365, "healthy", [])
    assert [m["role"] for m in doc["members"]] == ["follower", "leader", "follower"]
    assert json.loads(json.dumps(doc)) == doc


def test_a_member_down_is_degraded():
    doc = document(view("cluster_member_down.txt"))
    assert doc["exit_code"] == 1 and doc["status"] == "degraded"
    assert messages(doc) == ["member etcd-3 is not healthy: context deadline exceeded"]
    assert doc["members"][2]["health"] == "unhealthy"


def test_an_alarm_is_degraded():
    doc = document(alarms=(Alarm(ETCD_3, "NOSPACE"),))
    assert doc["exit_code"] == 1
    assert messages(doc) == ["alarm NOSPACE on member etcd-3"]
    assert doc["members"][2]["alarms"] == ["NOSPACE"]
    assert doc["alarms"] == [{"member_id": f"{ETCD_3:x}", "alarm": "NOSPACE"}]


def test_auth_off_is_degraded_and_unknown_auth_is_not_a_problem():
    off = document(auth=AuthState(anonymous=True, root=True, refused=False))
    assert (off["auth"], off["exit_code"], messages(off)) == (False, 1, ["authentication is off: anonymous requests are served"])
    unknown = document(auth=AuthState(anonymous=False, root=False, refused=False))
    assert (unknown["auth"], unknown["exit_code"]) == (None, 0)


def test_a_learner_pending_is_degraded():
    live = third_member(view(), is_learner=True)
    doc = document(live)
    assert doc["members"][2]["role"] == "learner"
    assert (doc["exit_code"], messages(doc)) == (1, ["member etcd-3 is a learner waiting for promotion"])


def test_an_unstarted_member_is_degraded():
    live = with_health(third_member(view(), name=""), "https://10.10.10.12:2379", None)
    doc = document(live)
    assert doc["exit_code"] == 1
    assert messages(doc) == [f"member {ETCD_3:x} (https://10.10.10.12:2380) was added but never started"]


@pytest.mark.parametrize(("days", "code"), [(31, 0), (30, 1), (2, 1), (-1, 1)])
def test_a_member_certificate_within_30_days_is_degraded(days, code):
    certs = {**CERTS, "10.10.10.11": {"server": NOW + dt.timedelta(days=days, hours=1), "ca": CERTS["10.10.10.11"]["ca"]}}
    doc = document(certs=certs)
    assert doc["members"][1]["cert_days"] == days
    assert doc["exit_code"] == code
    if code:
        assert messages(doc) == [f"the certificate of member etcd-2 expires in {days} days"]


def test_a_ca_certificate_within_30_days_is_degraded():
    certs = {name: {"server": c["server"], "ca": NOW + dt.timedelta(days=20, hours=1)} for name, c in CERTS.items()}
    doc = document(certs=certs)
    assert (doc["ca_days"], doc["exit_code"], messages(doc)) == (20, 1, ["the CA certificate expires in 20 days"])


def test_no_leader_is_exit_2():
    live = view()
    for url in list(live.status):
        live = with_status(live, url, leader=0)
    doc = document(live)
    assert (doc["leader"], doc["exit_code"], doc["status"]) == (None, 2, "no quorum")
    assert "the cluster has no leader" in messages(doc)


def test_two_voters_down_of_three_is_exit_2():
    live = view("cluster_member_down.txt")
    live = with_health(live, "https://10.10.10.11:2379", "context deadline exceeded")
    doc = document(live)
    assert doc["exit_code"] == 2
    assert "1 of 3 voting members are healthy: no quorum" in messages(doc)


def test_reachable_hosts_whose_etcd_does_not_answer_are_exit_2():
    hosts = [{**h, "service": "inactive"} for h in HOSTS]
    doc = document(None, hosts=hosts, alarms=(), auth=None)
    assert (doc["exit_code"], doc["members"], doc["cluster_id"]) == (2, [], None)
    assert messages(doc) == ["no member answers: 10.10.10.10 (inactive), 10.10.10.11 (inactive), 10.10.10.12 (inactive)"]


def test_nothing_reachable_is_exit_3():
    hosts = [{**h, "reachable": False, "service": None} for h in HOSTS]
    doc = document(None, hosts=hosts, auth=None, certs={})
    assert (doc["exit_code"], doc["status"]) == (3, "not checked")
    assert messages(doc) == ["no host of the inventory can be reached over SSH (10.10.10.10, 10.10.10.11, 10.10.10.12)"]


def test_an_unreachable_host_whose_member_serves_is_degraded():
    hosts = [HOSTS[0], HOSTS[1], {**HOSTS[2], "reachable": False, "service": None}]
    certs = {name: c for name, c in CERTS.items() if name != "10.10.10.12"}
    doc = document(hosts=hosts, certs=certs)
    assert doc["members"][2]["cert_days"] is None
    assert (doc["exit_code"], messages(doc)) == (1, ["10.10.10.12 cannot be reached over SSH"])


def test_inventory_and_cluster_that_differ_are_degraded():
    fourth = {"host": "10.10.10.13", "name": "etcd-4", "peer_url": "https://10.10.10.13:2380", "reachable": True, "service": "inactive"}
    doc = document(hosts=[*HOSTS[:2], fourth])
    assert doc["members"][2]["host"] is None
    assert doc["exit_code"] == 1
    assert messages(doc) == [
        "10.10.10.13 is in the inventory but not a member of the cluster (the join SOP adds it)",
        "member etcd-3 is not in the inventory",
    ]


def test_the_table_has_the_summary_and_a_column_per_field():
    text = format_report(document())
    lines = text.splitlines()
    assert lines[0] == "cluster etcd (id 51134bfa79c3b3fe): 3 members, leader etcd-2, healthy"
    assert lines[1] == "  cluster version 3.5 (lowest server version), auth on, CA expires in 3650 days"
    header = lines[2].split()
    for title in ("MEMBER", "ID", "PEER", "STATE", "ROLE", "HEALTH", "VERSION", "DB", "IN", "TERM", "INDEX", "ALARMS", "CERT", "DAYS"):
        assert title in header
    assert lines[3].split() == [
        "etcd-1", "526e094d1baff4b7", "https://10.10.10.10:2380", "started", "follower", "healthy", "3.5.16",
        "20", "kB", "16", "kB", "(80%)", "5", "238", "-", "365",
    ]  # fmt: skip
    assert lines[6:] == ["VERSION ADVICE (no effect on the exit code):", f"  - {document()['advice'][0]}"]


def test_the_table_lists_the_problems():
    text = format_report(document(view("cluster_member_down.txt"), auth=AuthState(anonymous=True)))
    assert text.splitlines()[0].endswith(", DEGRADED")
    assert "auth OFF" in text.splitlines()[1]
    assert text.splitlines()[-5:-2] == [
        "DEGRADED (exit 1):",
        "  - member etcd-3 is not healthy: context deadline exceeded",
        "  - authentication is off: anonymous requests are served",
    ]


def versions_view(*versions: str, downgrade: str | None = None):
    """The captured cluster with members running these server versions (3.6+: downgrade enabled to it)."""
    live = view()
    for url, version in zip(sorted(live.status), versions, strict=True):
        target = f"{downgrade}.0" if downgrade and not version.startswith(downgrade) else None
        live = with_status(live, url, version=version, downgrade=target)
    return live


def test_the_member_versions_and_the_cluster_version_are_shown():
    doc = document(versions_view("3.5.32", "3.5.33", "3.5.32"))
    assert [m["version"] for m in doc["members"]] == ["3.5.32", "3.5.33", "3.5.32"]
    assert (doc["cluster_version"], doc["downgrade"], doc["exit_code"], doc["advice"]) == ("3.5", None, 0, [])
    assert format_report(doc).splitlines()[1].startswith("  cluster version 3.5 (lowest server version)")


def test_a_release_the_table_flags_is_advice_that_leaves_the_exit_code():
    doc = document()  # the captured cluster runs Debian trixie's 3.5.16
    assert (doc["exit_code"], doc["problems"]) == (0, [])
    [line] = doc["advice"]
    assert line.startswith("etcd 3.5.16 (etcd-1, etcd-2, etcd-3): below 3.5.32, the release every member needs before the step to 3.6;")
    assert "CVE-2026-33413" in line and line.endswith("Move to etcd_version=3.5.32 or later (deploys/upgrade.py).")
    mixed = document(versions_view("3.6.9", "3.6.11", "3.6.11"))
    assert mixed["advice"] == [
        "etcd 3.6.9 (etcd-1): below 3.6.11, the release every member needs before the step to 3.7. "
        "Move to etcd_version=3.6.11 or later (deploys/upgrade.py)."
    ]


def test_a_minor_version_etcdkit_does_not_support_is_degraded():
    doc = document(versions_view("3.8.0", "3.8.0", "3.8.0"))
    assert doc["exit_code"] == 1
    assert messages(doc) == ["etcd-1, etcd-2, etcd-3 run etcd 3.8.0, which etcdkit does not support (etcd 3.4 to 3.7)"]


def test_members_on_different_minor_versions_are_degraded():
    doc = document(versions_view("3.5.32", "3.6.11", "3.6.11"))
    assert doc["exit_code"] == 1 and doc["cluster_version"] == "3.5"
    assert messages(doc) == [
        "members run different minor versions (3.5: etcd-1; 3.6: etcd-2, etcd-3): an upgrade or a downgrade is unfinished; "
        "finish it (deploys/upgrade.py, deploys/downgrade.py)"
    ]


def test_an_enabled_downgrade_sets_the_cluster_version_and_is_degraded():
    doc = document(versions_view("3.6.11", "3.6.11", "3.6.11", downgrade="3.5"))
    assert (doc["cluster_version"], doc["downgrade"], doc["exit_code"]) == ("3.5", "3.5", 1)
    assert messages(doc) == [
        "a downgrade of the cluster to 3.5 is enabled: finish it (deploys/downgrade.py --data etcd_version=3.5.x), "
        "or cancel it (etcdctl downgrade cancel)"
    ]
    assert format_report(doc).splitlines()[1].startswith("  cluster version 3.5 (downgrading to it)")


def test_alarms_are_parsed_from_etcdctl_json():
    header = '"header":{"cluster_id":1,"member_id":2}'
    lines = ["{" + header + ',"alarms":[{"memberID":15417120162344794780,"alarm":1},{"memberID":2,"alarm":"CORRUPT"}]}']
    assert EtcdAlarms().process(lines) == (Alarm(ETCD_3, "NOSPACE"), Alarm(2, "CORRUPT"))
    assert EtcdAlarms().process(["{" + header + "}"]) == ()
    assert EtcdAlarms().process(["{}"]) == ()  # etcd 3.4 without alarms: no header either (seen on the lab)
    assert EtcdAlarms().process([""]) is None


def _certificate(expires: dt.datetime) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "etcd-1")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(expires - dt.timedelta(days=400))
        .not_valid_after(expires)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_certificates_are_read_with_the_host_and_parsed_on_the_control_node():
    expires = dt.datetime(2027, 6, 1, tzinfo=dt.UTC)
    pem = _certificate(expires)
    fact = (
        EtcdHost()
        .process(["version=3.5.16", *(f"pem={paths.CERT}:{line}" for line in pem.splitlines()), "conf<<", "name: etcd-1"])
        .certificates
    )
    assert fact == HeldCertificates(cert=pem, ca=None)
    assert status.not_after(fact.cert) == expires
    assert status.not_after(fact.ca) is None
    assert status.not_after("not a certificate") is None
    assert status.days_left(expires, NOW) == 182


def _run(monkeypatch, report: dict | None = None, exit_code: int = 0, output: str = ""):
    """The status run, in place of pyinfra's: it left `report` in its context (None: no report)."""
    calls = []

    def run(args, capture):
        calls.append((list(args), capture))
        return Outcome(exit_code, RunContext(status_report=report), output)

    monkeypatch.setattr(cli, "run_pyinfra", run)
    monkeypatch.setattr(cli, "_member_count", lambda inventory: 3)
    return calls


@pytest.fixture
def inventory(tmp_path, monkeypatch):
    monkeypatch.delenv("ETCD_INVENTORY", raising=False)
    path = tmp_path / "inv.py"
    path.write_text("etcd = ([('10.10.10.10', {'etcd_seq': 1})], {})\n")
    return path


def test_the_cli_exits_with_the_code_of_the_document(monkeypatch, inventory, capsys):
    degraded = document(view("cluster_member_down.txt"))
    calls = _run(monkeypatch, degraded)
    assert cli.main(["-i", str(inventory)]) == 1
    assert calls == [(["-y", str(inventory), "etcdkit.sops.status"], True)]  # pyinfra's output captured
    out, err = capsys.readouterr()
    assert out.startswith("cluster etcd (id 51134bfa79c3b3fe): 3 members, leader etcd-2, DEGRADED")
    assert f"etcd-status: inventory {inventory} (from -i)" in err
    assert f"etcd-status: reading 3 members of {inventory}" in err


def test_the_cli_prints_json_and_reads_etcd_inventory(monkeypatch, inventory, capsys):
    _run(monkeypatch, document())
    monkeypatch.setenv("ETCD_INVENTORY", str(inventory))
    assert cli.main(["--json"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert set(doc) == TOP_KEYS | {"inventory"} and doc["inventory"] == str(inventory.resolve())
    assert "(from $ETCD_INVENTORY)" in err


def test_a_failed_run_is_exit_3(monkeypatch, inventory, capsys):
    _run(monkeypatch, exit_code=1, output="--> Connecting to hosts...\n--> pyinfra error: No hosts remaining!\n")
    assert cli.main(["-i", str(inventory), "--json"]) == 3
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert (doc["exit_code"], doc["status"], doc["members"]) == (3, "not checked", [])
    assert set(doc) == TOP_KEYS | {"inventory"}
    assert "error: No hosts remaining!" in err
    assert "No hosts remaining!" in doc["problems"][0]["message"]


def test_no_inventory_or_a_missing_one_or_a_usage_error_is_exit_3(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("ETCD_INVENTORY", raising=False)
    calls = _run(monkeypatch)
    assert cli.main([]) == 3
    assert "name one with -i INVENTORY or ETCD_INVENTORY" in capsys.readouterr().err
    assert cli.main(["-i", str(tmp_path / "missing.py")]) == 3
    assert f"no inventory file {tmp_path / 'missing.py'}" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--no-such-option"])
    assert exit_.value.code == 3
    assert calls == []


class _Host:
    """A pyinfra host with canned facts; not connected, and raises ConnectError, when it has none."""

    def __init__(self, name, facts):
        self.name, self.facts, self.asked = name, facts, []
        self.connected = facts is not None

    def get_fact(self, fact, **kwargs):
        from pyinfra.api.exceptions import ConnectError

        self.asked.append((fact.__name__, kwargs))
        if self.facts is None:
            raise ConnectError("unreachable")
        return self.facts[fact]


def test_gather_asks_the_answering_member_and_reads_every_reachable_host(tmp_path, monkeypatch):
    from tests.unit import plans_data

    inv = plans_data.inventory(tmp_path)
    pem = _certificate(NOW + dt.timedelta(days=100))
    fakes = _gathering(monkeypatch, inv, inv.hosts(states={3: plans_data.UNREACHABLE, **_holding(inv, pem, 1, 2)}), live=None)

    doc = status.gather(_Inventory(fakes), NOW)
    assert doc["exit_code"] == 2 and doc["cluster"] == "etcd"
    assert [h["reachable"] for h in doc["hosts"]] == [True, True, False]
    first = inv.member(1)  # asked beside the hosts' facts, before anyone knows whether its member answers
    assert sorted(fakes[first.host_name].asked) == [
        ("EtcdAlarms", {"endpoint": first.client_url}),
        ("EtcdClusterAuth", {"endpoint": first.client_url}),  # the view and the authentication state: one round trip
    ]
    assert fakes[inv.name(2)].asked == [] and fakes[inv.name(3)].asked == []  # the certificates came with EtcdHost
    assert doc["ca_days"] == 100


def _holding(inv, pem: str, *seqs: int) -> dict:
    """The EtcdHost states of these members, each holding pem as its certificate and CA."""
    return {seq: dataclasses.replace(inv.ours(seq), pems={paths.CERT: pem, paths.CA: pem}) for seq in seqs}


def _gathering(monkeypatch, inv, hosts: dict, live) -> dict[str, "_Host"]:
    """A fake pyinfra host per member (not connected where hosts has no state), with read_hosts giving
    these hosts and reading early through the first member as the real one does (gather.read_early),
    and read_view giving live."""
    canned = {EtcdCluster: live, EtcdClusterAuth: (live, AUTH_ON if live else None), EtcdAlarms: (), status.EtcdAuth: AUTH_ON}
    fakes = {name: _Host(name, canned if host_state.state is not None else None) for name, host_state in hosts.items()}

    def read_hosts(inventory, state, auth=False, alarms=False):
        gather.read_early(inventory, state, inv.member(1), (), auth, alarms)
        return inv.spec, hosts

    monkeypatch.setattr(status, "read_hosts", read_hosts)
    monkeypatch.setattr(status, "read_view", lambda inventory, candidates, strict: live)
    return fakes


class _Inventory:
    def __init__(self, fakes):
        self.fakes, self.state = fakes, SimpleNamespace()  # a run's own state: its context starts empty

    def get_host(self, name):
        return self.fakes[name]


def test_gather_asks_alarms_and_auth_of_the_member_that_answered(tmp_path, monkeypatch):
    from tests.unit import plans_data

    inv = plans_data.inventory(tmp_path)
    pem = _certificate(NOW + dt.timedelta(days=100))
    fakes = _gathering(monkeypatch, inv, inv.hosts(states=_holding(inv, pem, 1, 2, 3)), live=view())

    doc = status.gather(_Inventory(fakes), NOW)
    answered = inv.member(1)  # etcd-1 answered the member list in the captured output: the first, asked once
    assert sorted(fakes[answered.host_name].asked) == [
        ("EtcdAlarms", {"endpoint": answered.client_url}),
        ("EtcdClusterAuth", {"endpoint": answered.client_url}),
    ]
    assert doc["exit_code"] == 0, doc["problems"]
    assert [m["cert_days"] for m in doc["members"]] == [100] * 3
    a_year_on = status.gather(_Inventory(fakes), NOW + dt.timedelta(days=400))  # the same hosts, checked 400 days later
    assert [m["cert_days"] for m in a_year_on["members"]] == [-300] * 3 and a_year_on["exit_code"] == 1
    assert a_year_on["checked_at"] == "2028-01-04T12:00:00+00:00"


def test_gather_asks_alarms_and_auth_again_of_the_member_that_answered_when_it_is_not_the_first(tmp_path, monkeypatch):
    from tests.unit import plans_data

    inv = plans_data.inventory(tmp_path)
    pem = _certificate(NOW + dt.timedelta(days=100))
    live = view()
    second = next(member for member in live.members if member.name == "etcd-2")
    fakes = _gathering(
        monkeypatch, inv, inv.hosts(states=_holding(inv, pem, 1, 2, 3)), live=dataclasses.replace(live, answered_by=second.id)
    )

    doc = status.gather(_Inventory(fakes), NOW)
    first, answered = inv.member(1), inv.member(2)
    assert ("EtcdClusterAuth", {"endpoint": first.client_url}) in fakes[first.host_name].asked  # beside the hosts' facts, unused
    assert sorted(fakes[answered.host_name].asked) == [
        ("EtcdAlarms", {"endpoint": answered.client_url}),
        ("EtcdAuth", {"endpoint": answered.client_url}),
    ]
    assert doc["exit_code"] == 0, doc["problems"]
