"""The create SOP on lab nodes: bare hosts to a healthy TLS + RBAC cluster, then convergence.

Tests run in order on one lab: each says what it starts from.
"""

import hashlib
import json
import re
import subprocess
import textwrap
import time

import pytest
import testinfra

from lab import config
from tests.helpers import ROOT, deploy, etcdctl, lab, main_pids, members, ssh
from tests.writer import get_error, in_child, put

pytestmark = pytest.mark.etcd("3.5.16", "create", "status")

NODES = ["10.10.10.10", "10.10.10.11", "10.10.10.12"]
PKI = ROOT / "pki"


def root_password() -> str:
    return (PKI / "etcd" / "root.password").read_text().strip()


def etcd_installed(address: str) -> bool:
    return ssh(address, "command -v etcd", check=False).returncode == 0


@pytest.fixture(scope="module", autouse=True)
def bare_nodes():
    lab("up", "-n", "3")
    lab("reset", "1", "2", "3")


@pytest.mark.parametrize(
    "hosts, message",
    [
        (
            '("10.10.10.10", {"etcd_seq": 1}), ("10.10.10.11", {"etcd_seq": 1}), ("10.10.10.12", {"etcd_seq": 3})',
            "host 10.10.10.11: etcd_seq 1 is already used by 10.10.10.10",
        ),
        (
            '("10.10.10.10", {"etcd_seq": 1}), ("10.10.10.11", {}), ("10.10.10.12", {"etcd_seq": 3})',
            "host 10.10.10.11: etcd_seq is missing",
        ),
        (
            '("10.10.10.10", {"etcd_seq": 1}), ("node2", {"etcd_seq": 2, "ssh_hostname": "10.10.10.11x"}), ("10.10.10.12", {"etcd_seq": 3})',
            "host node2: `10.10.10.11x` is not an IP address",
        ),
    ],
    ids=["duplicate-seq", "missing-seq", "not-an-ip"],
)
def test_bad_inventory_fails_before_any_host_is_touched(tmp_path, hosts, message):
    inventory = tmp_path / "bad.py"
    inventory.write_text(f"etcd = ([{hosts}], {{'etcd_cluster': 'etcd'}})\n")
    run = deploy("create", inventory=str(inventory), check=False)
    assert run.returncode != 0
    assert message in run.stderr
    assert not run.executed
    for address in NODES:
        assert not etcd_installed(address)
        assert ssh(address, "test -e /etc/etcd", check=False).returncode != 0


def test_create_on_bare_nodes_builds_a_healthy_cluster_with_tls_and_rbac():
    run = deploy("create")
    assert set(run.changed["etcd member | Start etcd"]) == set(NODES)
    listing = members(NODES[0])
    assert sorted((m["name"], m["peerURLs"], m["clientURLs"], m.get("isLearner", False)) for m in listing) == [
        (f"etcd-{n}", [f"https://{a}:2380"], [f"https://{a}:2379"], False) for n, a in enumerate(NODES, start=1)
    ]
    health = json.loads(etcdctl(NODES[1], "endpoint health --cluster -w json").stdout)
    assert sorted(h["endpoint"] for h in health if h["health"]) == [f"https://{a}:2379" for a in NODES]
    status = json.loads(etcdctl(NODES[2], "endpoint status --cluster -w json").stdout)
    assert len({s["Status"]["leader"] for s in status}) == 1
    # RBAC: anonymous requests are refused, root logs in.
    anonymous = ssh(NODES[0], "bash -lc 'unset ETCDCTL_USER; etcdctl get --limit=1 x'", check=False)
    assert anonymous.returncode != 0 and "user name is empty" in anonymous.stderr
    assert etcdctl(NODES[0], "user list").stdout.split() == ["root"]


def test_second_run_changes_nothing_and_restarts_nothing():
    before = main_pids(NODES)
    run = deploy("create")
    assert run.changed == {}
    assert main_pids(NODES) == before


def test_files_owners_and_modes():
    for address in NODES:
        host = testinfra.get_host(f"ssh://{address}")
        expected = {
            "/etc/etcd": ("root", "etcd", 0o750),  # etcd reads its configuration and may change none of it
            "/etc/etcd/etcd.conf": ("root", "etcd", 0o644),
            "/etc/etcd/etcd.pass": ("root", "etcd", 0o640),
            "/etc/etcd/ca.crt": ("root", "etcd", 0o644),
            "/etc/etcd/server.crt": ("root", "etcd", 0o644),
            "/etc/etcd/server.key": ("etcd", "etcd", 0o600),
            "/data/etcd": ("etcd", "etcd", 0o700),
            "/etc/systemd/system/etcd.service": ("root", "root", 0o644),
            "/etc/profile.d/etcdctl.sh": ("root", "root", 0o644),
        }
        for path, (user, group, mode) in expected.items():
            file = host.file(path)
            assert (file.exists, file.user, file.group, file.mode) == (True, user, group, mode), path
        assert host.file("/etc/etcd/etcd.pass").content_string == root_password()
        assert host.service("etcd").is_enabled and host.service("etcd").is_running
        assert host.socket(f"tcp://{address}:2379").is_listening and host.socket("tcp://127.0.0.1:2379").is_listening
        assert host.socket(f"tcp://{address}:2380").is_listening
        unit = host.file("/etc/systemd/system/etcd.service").content_string
        assert "Type=notify" in unit and "User=etcd" in unit


def test_a_key_written_from_the_control_node_reads_back_with_etcdctl_on_a_member():
    in_child(put, NODES[1], "/create-test/key", "written by the control node")
    assert etcdctl(NODES[2], "get /create-test/key --print-value-only").stdout.strip() == "written by the control node"
    assert in_child(get_error, NODES[1], "/create-test/key", True) == ""
    assert re.search("user name is empty|permission denied", in_child(get_error, NODES[1], "/create-test/key", False))


def test_the_etcdctl_environment_just_works():
    listing = json.loads(ssh(NODES[0], "bash -lc 'etcdctl member list -w json'").stdout)
    assert len(listing["members"]) == 3
    shell = ssh(NODES[1], "bash -lic 'e put a 10; e get a; e del a; em list' 2>/dev/null").stdout.splitlines()
    assert shell[:4] == ["OK", "a", "10", "1"]
    assert len(shell) == 7


def test_secrets_stay_out_of_output_logs_and_world_readable_files():
    password = root_password()
    run = deploy("create", "-vvv")
    assert password not in run.stdout + run.stderr
    key = (PKI / "etcd" / "etcd-1.key").read_text().splitlines()[1]
    assert key not in run.stdout + run.stderr
    for address in NODES:
        journal = ssh(address, "journalctl --no-pager -o cat").stdout
        assert password not in journal
        world_readable = ssh(
            address,
            "find /etc /tmp /run /root /data -xdev -type f -perm -o+r -exec grep -l -F -f /etc/etcd/etcd.pass {} + 2>/dev/null; true",
        ).stdout
        assert world_readable.strip() == ""


def test_a_changed_parameter_restarts_members_one_at_a_time():
    before = main_pids(NODES)
    run = deploy("create", "--data", "etcd_heartbeat_interval=150", "--data", "etcd_election_timeout=1500")
    assert set(run.changed["etcd member | Restart etcd (one member at a time)"]) == set(NODES)
    after = main_pids(NODES)
    assert all(after[a] != before[a] for a in NODES)
    windows = []
    for address in NODES:
        show = ssh(address, "systemctl show etcd -p InactiveEnterTimestampMonotonic -p ActiveEnterTimestampMonotonic").stdout
        values = dict(line.split("=", 1) for line in show.split())
        windows.append((int(values["InactiveEnterTimestampMonotonic"]), int(values["ActiveEnterTimestampMonotonic"])))
    windows.sort()
    for (_, back_up), (next_down, _) in zip(windows, windows[1:], strict=False):
        assert back_up < next_down, "a member went down before the previous one was back"
    assert "heartbeat-interval: 150" in ssh(NODES[0], "cat /etc/etcd/etcd.conf").stdout
    assert deploy("create", "--data", "etcd_heartbeat_interval=150", "--data", "etcd_election_timeout=1500").changed == {}
    deploy("create")


def test_a_stopped_member_is_started_again():
    ssh(NODES[2], "systemctl stop etcd")
    run = deploy("create")
    assert run.changed.get("etcd member | Start etcd") == [NODES[2]]
    assert ssh(NODES[2], "systemctl is-active etcd").stdout.strip() == "active"


def test_etcd_status_shows_members_leader_and_health():
    command = [str(ROOT / "bin" / "etcd-status"), "-i", "inventories/lab.py"]
    status = subprocess.run(command, cwd=ROOT, text=True, capture_output=True)
    assert status.returncode == 0, status.stdout + status.stderr
    assert re.search(r": 3 members, leader etcd-[123], healthy$", status.stdout.splitlines()[0])
    assert "auth on" in status.stdout.splitlines()[1]
    assert len([line for line in status.stdout.splitlines() if " started " in line and " healthy " in line]) == 3
    ssh(NODES[1], "systemctl stop etcd")
    try:
        down = subprocess.run(command, cwd=ROOT, text=True, capture_output=True)
        assert down.returncode == 1, down.stdout + down.stderr
        assert down.stdout.splitlines()[0].endswith(", DEGRADED")
        assert "  - member etcd-2 is not healthy: " in down.stdout
    finally:
        ssh(NODES[1], "systemctl start etcd")
        for _ in range(90):
            if etcdctl(NODES[0], "endpoint health --cluster", check=False).returncode == 0:
                break
            time.sleep(2)


def test_a_new_host_in_the_inventory_is_sent_to_the_join_sop():
    lab("up", "-n", "4")
    lab("reset", "4")
    before = main_pids(NODES)
    run = deploy("create", nodes="1,2,3,4", check=False)
    assert run.returncode != 0
    assert "10.10.10.13 is not a member of the running cluster `etcd`: add it with the join SOP" in run.stderr
    assert not run.executed and main_pids(NODES) == before
    assert not etcd_installed("10.10.10.13")


def test_a_foreign_etcd_instance_stops_create_before_any_change():
    # node4 runs the Debian package's default single-node etcd; node5 is bare.
    lab("up", "-n", "5")
    lab("reset", "4", "5")
    ssh("10.10.10.13", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server >/dev/null && systemctl is-active etcd")
    inventory = "etcd = ([('10.10.10.13', {'etcd_seq': 4}), ('10.10.10.14', {'etcd_seq': 5})], {'etcd_cluster': 'other'})\n"
    run = deploy("create", inventory=_write(inventory), check=False)
    assert run.returncode != 0
    assert "10.10.10.13: etcd runs with a configuration that is not member other-4" in run.stderr
    assert "not this cluster's to stop or delete" in run.stderr
    assert not etcd_installed("10.10.10.14")
    assert ssh("10.10.10.13", "systemctl is-active etcd").stdout.strip() == "active"
    lab("reset", "4", "5")


def test_clean_rebuilds_the_cluster_unless_the_safeguard_is_on():
    etcdctl(NODES[0], "put /clean-test survivor")
    cluster_id = json.loads(etcdctl(NODES[0], "member list -w json").stdout)["header"]["cluster_id"]
    refused = deploy("create", "--data", "etcd_clean=true", "--data", "etcd_safeguard=true", check=False)
    assert refused.returncode != 0 and "etcd_clean asks to wipe live etcd instances, but etcd_safeguard is on" in refused.stderr
    assert etcdctl(NODES[1], "get /clean-test --print-value-only").stdout.strip() == "survivor"
    rebuilt = deploy("create", "--data", "etcd_clean=true")
    assert set(rebuilt.changed["Wipe the etcd instance and its data (etcd_clean)"]) == set(NODES)
    assert etcdctl(NODES[1], "get /clean-test --print-value-only").stdout.strip() == ""
    assert json.loads(etcdctl(NODES[0], "member list -w json").stdout)["header"]["cluster_id"] != cluster_id
    assert deploy("create").changed == {}


def release_tarball(folder):
    """A tarball in the layout of etcd's official releases, made from the lab repository's
    Debian binaries (the tests download nothing)."""
    top = folder / "etcd-v3.5.16-linux-amd64"
    top.mkdir()
    for deb in (config.IMAGES_DIR / "trixie" / "repo").glob("etcd-*_*.deb"):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(folder / "unpacked")], check=True)
    for binary in ("etcd", "etcdctl", "etcdutl"):
        (folder / "unpacked" / "usr" / "bin" / binary).rename(top / binary)
    tarball = folder / f"{top.name}.tar.gz"
    subprocess.run(["tar", "-czf", str(tarball), "-C", str(folder), top.name], check=True)
    return tarball, hashlib.sha256(tarball.read_bytes()).hexdigest()


def test_install_from_a_release_tarball(tmp_path):
    lab("reset", "1", "2", "3")
    tarball, digest = release_tarball(tmp_path)
    wrong = deploy("create", "--data", f"etcd_tarball={tarball}", "--data", f"etcd_tarball_sha256={'f' * 64}", check=False)
    assert wrong.returncode != 0 and "refused: tarball.checksum" in wrong.stderr and f"not {'f' * 64}" in wrong.stderr
    assert not any(etcd_installed(address) for address in NODES)
    options = ("--data", f"etcd_tarball={tarball}", "--data", f"etcd_tarball_sha256={digest}")
    deploy("create", *options)
    for address in NODES:
        assert ssh(address, "/usr/local/bin/etcd --version").stdout.startswith("etcd Version: 3.5.16")
        assert ssh(address, "dpkg -s etcd-server", check=False).returncode != 0
        assert "ExecStart=/usr/local/bin/etcd " in ssh(address, "cat /etc/systemd/system/etcd.service").stdout
    health = json.loads(etcdctl(NODES[0], "endpoint health --cluster -w json").stdout)
    assert [h["health"] for h in health] == [True, True, True]
    assert deploy("create", *options).changed == {}


@pytest.mark.etcd("3.4.23", "create")
def test_create_on_bookworm_with_etcd_3_4():
    lab("down")
    lab("up", "--release", "bookworm")
    try:
        deploy("create")
        status = json.loads(etcdctl(NODES[0], "endpoint status --cluster -w json").stdout)
        assert {s["Status"]["version"] for s in status} == {"3.4.23"}
        assert len({s["Status"]["leader"] for s in status}) == 1
        anonymous = ssh(NODES[1], "bash -lc 'unset ETCDCTL_USER; etcdctl get x'", check=False)
        assert anonymous.returncode != 0 and "user name is empty" in anonymous.stderr
        assert deploy("create").changed == {}
    finally:
        lab("down")
        lab("up")


def _write(text: str) -> str:
    path = ROOT / ".pytest_cache" / "inventory_test.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return str(path)
