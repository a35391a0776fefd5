"""The reload SOP on lab nodes with real clients: Patroni + PostgreSQL and vip-manager on node4
(also an admin host with the etcdctl environment) against the etcd cluster of nodes 1-3, over TLS with their own etcd user; then a member leaves
and joins again, and a rolling restart under the continuous writer. Patroni's config is laid out as
Pigsty lays it out: a symlink to /pg/conf/<instance>.yml, owned by postgres, with comments.

Debian's vip-manager (1.0.2) speaks only etcd's v2 API, which etcd 3.5 does not serve: its config
is refreshed and the service restarted, but it binds no address here (vip-manager 2 does).

Tests run in order on one lab: each starts from what the previous one left.
"""

import hashlib
import json
import secrets
import shlex
import shutil
import socket
import ssl
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
from cryptography import x509

from tests.helpers import ROOT, deploy, etcdctl, lab, main_pids, script, ssh
from tests.writer import Writer

pytestmark = pytest.mark.etcd("3.5.30", "create", "reload", "join", "remove", "rotate_ca")

MEMBERS = ["10.10.10.10", "10.10.10.11", "10.10.10.12"]
PG = "10.10.10.13"
PATRONI_CONFIG = "/etc/patroni/config.yml"  # the Debian unit's path: patroni_config is configurable
PATRONI_TARGET = "/pg/conf/pg-test-1.yml"  # where Pigsty keeps it; the unit's path is a symlink to it
INVENTORY = Path("/tmp/etcdkit-test-reload-inventory.py")

PATRONI = f"""\
# pg-test-1: the site's own comment, kept by every edit
scope: pg-test
namespace: /pg/
name: pg-test-1
restapi: {{listen: "{PG}:8008", connect_address: "{PG}:8008"}}
etcd3: {{hosts: ["{MEMBERS[0]}:2379"], protocol: https}}
bootstrap:
  dcs: {{ttl: 30, loop_wait: 5, retry_timeout: 10}}
  initdb: [{{encoding: UTF8}}]
postgresql:
  listen: "{PG}:5432"
  connect_address: "{PG}:5432"
  data_dir: /var/lib/postgresql/patroni
  bin_dir: /usr/lib/postgresql/17/bin
  authentication:
    superuser: {{username: postgres, password: superuser-secret}}
    replication: {{username: replicator, password: replication-secret}}
  pg_hba: ["local all all trust", "host all all 10.10.10.0/24 scram-sha-256", "host replication replicator 10.10.10.0/24 scram-sha-256"]
"""

VIP_MANAGER = f"""\
ip: 10.10.10.99
netmask: 24
interface: host0
trigger-key: /pg/pg-test/leader
trigger-value: pg-test-1
dcs-type: etcd
dcs-endpoints: ["https://{MEMBERS[0]}:2379"]
interval: 1000
"""


def write_inventory(members: list[str]) -> str:
    INVENTORY.write_text(
        textwrap.dedent(f"""\
        etcd = ([{", ".join(f"({a!r}, {{'etcd_seq': {MEMBERS.index(a) + 1}}})" for a in members)}], {{"etcd_cluster": "etcd"}})
        pg_test = ([({PG!r}, {{"pg_seq": 1}})], {{"pg_cluster": "pg-test", "patroni_config": {PATRONI_CONFIG!r}}})
        etcd_clients = ([{PG!r}], {{}})
        """)
    )
    return str(INVENTORY)


@pytest.fixture(scope="module", autouse=True)
def cluster_and_clients():
    lab("up", "-n", "4")
    lab("reset", "1", "2", "3", "4")
    deploy("create")
    ssh(
        PG,
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -q patroni python3-etcd postgresql vip-manager >/dev/null && "
        "pg_dropcluster 17 main --stop && systemctl disable --quiet postgresql",
        timeout=300,  # PostgreSQL's packages: 45 s on an idle CI machine, over 60 s on a busy one
    )
    ssh(
        PG,
        f"install -d -o postgres -g postgres -m 700 /etc/patroni /pg/conf && cat > {PATRONI_TARGET} && "
        f"chown postgres:postgres {PATRONI_TARGET} && chmod 600 {PATRONI_TARGET} && ln -s {PATRONI_TARGET} {PATRONI_CONFIG}",
        input_=PATRONI,
    )
    ssh(
        PG,
        "cat > /etc/default/vip-manager.yml && chmod 600 /etc/default/vip-manager.yml && "
        "mkdir -p /etc/systemd/system/vip-manager.service.d && printf '[Service]\\nEnvironmentFile=\\nExecStart=\\n"
        "ExecStart=/usr/bin/vip-manager --config=/etc/default/vip-manager.yml\\n' "
        "> /etc/systemd/system/vip-manager.service.d/config.conf && systemctl daemon-reload",
        input_=VIP_MANAGER,
    )
    yield
    INVENTORY.unlink(missing_ok=True)


def yaml_of(path: str) -> dict:
    return json.loads(ssh(PG, f"python3 -c 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' {path}").stdout)


def wait_for(check, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} within {timeout:.0f} s"
        time.sleep(1)


def patroni_has_a_leader() -> bool:
    listing = ssh(PG, f"patronictl -c {PATRONI_CONFIG} list -f json", check=False).stdout
    return '"Role": "Leader"' in listing and '"State": "running"' in listing


def vip_manager_pid() -> str:
    return ssh(PG, "systemctl show -p MainPID --value vip-manager").stdout.strip()


def test_reload_points_patroni_and_vip_manager_at_the_live_members():
    run = deploy("reload", inventory=write_inventory(MEMBERS))
    # Patroni does not run yet: its role is unknown
    assert run.changed[f"etcd clients | Patroni (role unknown): etcd endpoints and credentials in {PATRONI_CONFIG}"] == [PG]
    patroni = yaml_of(PATRONI_CONFIG)
    assert sorted(patroni["etcd3"]["hosts"]) == [f"{a}:2379" for a in MEMBERS]
    assert patroni["etcd3"]["username"] == "pg-test" and patroni["etcd3"]["cacert"] == "/etc/etcd-client/ca.crt"
    assert patroni["postgresql"]["authentication"]["superuser"]["password"] == "superuser-secret"  # kept
    # edited in place through the link: the link, the target's owner, mode and comments kept
    assert ssh(PG, f"readlink {PATRONI_CONFIG}").stdout.strip() == PATRONI_TARGET
    assert ssh(PG, f"stat -c '%U %a' {PATRONI_TARGET}").stdout.split() == ["postgres", "600"]
    assert ssh(PG, f"head -1 {PATRONI_TARGET}").stdout.startswith("# pg-test-1: the site's own comment")
    assert ssh(PG, "stat -c '%U %a' /etc/etcd-client/pg-test.key").stdout.split() == ["postgres", "600"]  # Patroni reads it
    assert sorted(yaml_of("/etc/default/vip-manager.yml")["dcs-endpoints"]) == [f"https://{a}:2379" for a in MEMBERS]
    # node4 is an admin host too: etcdctl works there as root, against the live members
    listing = json.loads(ssh(PG, "bash -lc 'etcdctl member list -w json'").stdout)["members"]
    assert sorted(m["name"] for m in listing) == ["etcd-1", "etcd-2", "etcd-3"]
    assert ssh(PG, "stat -c '%a' /etc/etcd-client/root.pass /etc/etcd-client/admin.key").stdout.split() == ["600", "600"]
    password = (ROOT / "pki" / "etcd" / "pg-test.password").read_text().strip()
    assert password not in run.stdout + run.stderr
    ssh(PG, "systemctl start patroni vip-manager")
    wait_for(patroni_has_a_leader, "Patroni bootstraps PostgreSQL and leads")
    assert deploy("reload", inventory=write_inventory(MEMBERS)).changed == {}


def test_the_pg_user_is_limited_to_its_prefix():
    user = "ETCDCTL_USER=pg-test:$(cat /etc/etcd/users/pg-test.pass)"
    keys = ssh(MEMBERS[0], f"bash -lc {shlex.quote(user + ' etcdctl get /pg/pg-test/leader --print-value-only')}").stdout
    assert keys.strip() == "pg-test-1"
    denied = ssh(MEMBERS[0], f"bash -lc {shlex.quote(user + ' etcdctl get /other --prefix')}", check=False)
    assert denied.returncode != 0 and "permission denied" in denied.stderr


def test_patroni_keeps_its_leader_when_its_first_member_leaves():
    vip_manager = vip_manager_pid()
    removed = script("etcd-rm", MEMBERS[0], nodes="1,2,3", inventory=write_inventory(MEMBERS))
    assert "left the cluster" in removed.stderr
    remaining = MEMBERS[1:]
    assert sorted(yaml_of(PATRONI_CONFIG)["etcd3"]["hosts"]) == [f"{a}:2379" for a in remaining]
    assert sorted(yaml_of("/etc/default/vip-manager.yml")["dcs-endpoints"]) == [f"https://{a}:2379" for a in remaining]
    for address in [*remaining, PG]:
        assert MEMBERS[0] not in ssh(address, "bash -lc 'echo $ETCDCTL_ENDPOINTS'").stdout
    assert vip_manager_pid() not in ("0", vip_manager)  # restarted to take its new endpoints
    time.sleep(12)  # more than two of Patroni's loops, each of which talks to etcd
    wait_for(patroni_has_a_leader, "Patroni has a running leader")  # patronictl answers slowly on a busy machine
    assert deploy("reload", inventory=write_inventory(remaining)).changed == {}


def test_a_joined_member_reaches_patroni_and_vip_manager():
    # node1 comes back as a new member (its old data was deleted when it left)
    script("etcd-add", MEMBERS[0], nodes="1,2,3", inventory=write_inventory(MEMBERS))
    assert sorted(yaml_of(PATRONI_CONFIG)["etcd3"]["hosts"]) == [f"{a}:2379" for a in MEMBERS]
    assert sorted(yaml_of("/etc/default/vip-manager.yml")["dcs-endpoints"]) == [f"https://{a}:2379" for a in MEMBERS]
    assert MEMBERS[0] in ssh(PG, "bash -lc 'echo $ETCDCTL_ENDPOINTS'").stdout
    assert patroni_has_a_leader()


def logs_in(password: str) -> bool:
    login = f"ETCDCTL_USER=pg-test:{password} etcdctl get /pg/pg-test/leader --print-value-only"
    return ssh(MEMBERS[0], f"bash -lc {shlex.quote(login)}", check=False).returncode == 0


def test_a_new_pg_password_reaches_etcd_then_patroni():
    old = (ROOT / "pki" / "etcd" / "pg-test.password").read_text().strip()
    new = secrets.token_urlsafe(18)
    # etcd 3.5.30 drops Patroni's login at the change, and Patroni 4.0 logs in again only at its
    # restart (it lost its leader lock within its ttl before etcdkit refused): the primary's restart
    # is the operator's to allow
    refused = deploy("reload", "--data", f"pg_etcd_password={new}", inventory=write_inventory(MEMBERS), check=False)
    assert refused.returncode != 0 and not refused.executed and "reload.patroni_relogin" in refused.stderr
    assert logs_in(old) and not logs_in(new) and new not in refused.stdout + refused.stderr
    run = deploy(
        "reload", "--data", f"pg_etcd_password={new}", "--data", "etcd_patroni_restart_primary=true", inventory=write_inventory(MEMBERS)
    )
    assert new not in run.stdout + run.stderr
    assert logs_in(new) and not logs_in(old)
    assert yaml_of(PATRONI_CONFIG)["etcd3"]["password"] == new
    assert (ROOT / "pki" / "etcd" / "pg-test.password").read_text().strip() == new  # kept for the next run
    time.sleep(40)  # past Patroni's ttl (30 s): it renews its leader lock with its new login
    wait_for(patroni_has_a_leader, "Patroni has a running leader")
    assert deploy("reload", inventory=write_inventory(MEMBERS)).changed == {}


VICTIM = "/etc/etcdkit-victim.yml"  # a file of root's that postgres would like root to write
# postgres' side of the race: woken by inotify as soon as a file appears in its folder, it swaps any
# file of root's for a link to the victim
ADVERSARY = """
import ctypes, os, struct, sys
folder, victim = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
watch = libc.inotify_init()
libc.inotify_add_watch(watch, folder.encode(), 0x100)  # IN_CREATE
while True:
    events, offset = os.read(watch, 65536), 0
    while offset < len(events):
        _, _, _, length = struct.unpack_from("iIII", events, offset)
        name = events[offset + 16 : offset + 16 + length].rstrip(b"\\0").decode()
        offset += 16 + length
        path = os.path.join(folder, name)
        try:
            if os.lstat(path).st_uid == 0 and not os.path.islink(path):
                os.unlink(path)
                os.symlink(victim, path)
        except OSError:
            pass
"""
# the fixed name Patroni's new config passed through in /tmp before
OLD_NAME = f"/tmp/pyinfra-{hashlib.sha1(f'yaml-keys-{PATRONI_TARGET}'.encode()).hexdigest()}"


def victim() -> str:
    return ssh(PG, f"stat -c '%U %G %a %i' {VICTIM} && cat {VICTIM}").stdout


def test_a_link_from_patronis_config_to_a_file_of_root_is_refused():
    ssh(PG, f"printf 'root-only: true\\n' > {VICTIM} && chmod 600 {VICTIM}")
    ssh(PG, f"runuser -u postgres -- ln -sfn {VICTIM} {PATRONI_CONFIG}")  # postgres owns /etc/patroni
    before = victim()
    try:
        run = deploy("reload", "--data", "etcd_reload=patroni", inventory=write_inventory(MEMBERS), check=False)
        assert run.returncode != 0 and not run.executed
        assert f"{PATRONI_CONFIG} leads to {VICTIM}, a file of root's, through /etc/patroni, which postgres can change" in run.stderr
        assert victim() == before
    finally:
        ssh(PG, f"runuser -u postgres -- ln -sfn {PATRONI_TARGET} {PATRONI_CONFIG} && rm -f {VICTIM}")
    assert deploy("reload", inventory=write_inventory(MEMBERS)).changed == {}


def test_root_writes_nothing_that_postgres_can_swap_for_a_link():
    ssh(PG, f"printf 'root-only: true\\n' > {VICTIM} && chmod 600 {VICTIM}")
    ssh(PG, f"printf planted > {OLD_NAME} && chown nobody {OLD_NAME} && chmod 666 {OLD_NAME}")
    before, planted = victim(), ssh(PG, f"stat -c '%i %U %a' {OLD_NAME} && cat {OLD_NAME}").stdout
    ssh(
        PG,
        f"setpriv --reuid=postgres --regid=postgres --init-groups python3 -c {shlex.quote(ADVERSARY)} /pg/conf {VICTIM} "
        ">/dev/null 2>&1 </dev/null & echo $! > /run/etcdkit-adversary.pid",
    )
    new = secrets.token_urlsafe(18)
    try:
        deploy(
            "reload", "--data", f"pg_etcd_password={new}", "--data", "etcd_patroni_restart_primary=true", inventory=write_inventory(MEMBERS)
        )
    finally:
        ssh(PG, "kill $(cat /run/etcdkit-adversary.pid) && rm -f /run/etcdkit-adversary.pid")
    try:
        assert victim() == before  # neither written, chowned nor chmodded
        assert ssh(PG, f"stat -c '%F %U %a' {PATRONI_TARGET}").stdout.strip() == "regular file postgres 600"
        assert yaml_of(PATRONI_CONFIG)["etcd3"]["password"] == new
        assert ssh(PG, f"stat -c '%i %U %a' {OLD_NAME} && cat {OLD_NAME}").stdout == planted  # Patroni's passwords never went there
    finally:
        ssh(PG, f"rm -f {VICTIM} {OLD_NAME}")
    time.sleep(40)  # past Patroni's ttl (30 s): it restarted and renews its leader lock with its new login
    wait_for(patroni_has_a_leader, "Patroni has a running leader")


def test_a_rolling_restart_loses_no_write():
    before = main_pids(MEMBERS)
    with Writer(MEMBERS) as writer:
        run = deploy("reload", "--data", "etcd_reload=restart", inventory=write_inventory(MEMBERS))
        time.sleep(1)
    assert sorted(run.changed["etcd member | Restart etcd (one member at a time)"]) == MEMBERS
    after = main_pids(MEMBERS)
    assert all(after[a] != before[a] for a in MEMBERS)
    counts = writer.counts(MEMBERS[0])
    print(f"continuous writer during the rolling restart: {counts}")
    assert counts.acknowledged > 50 and counts.lost == 0
    assert etcdctl(MEMBERS[0], "endpoint health --cluster").returncode == 0
    assert patroni_has_a_leader()


def served_by(address: str, port: int, cert: Path, key: Path, ca: Path) -> str:
    """What a member's port says to a TLS client with this certificate that trusts this CA."""
    context = ssl.create_default_context(cafile=str(ca))
    context.load_cert_chain(str(cert), str(key))
    try:
        with socket.create_connection((address, port), timeout=5) as raw, context.wrap_socket(raw, server_hostname=address) as tls:
            tls.sendall(b"GET /version HTTP/1.0\r\n\r\n")
            return tls.recv(4096).decode(errors="replace").split("\r\n", 1)[0]
    except (OSError, ssl.SSLError) as error:
        return str(error)


def test_a_ca_rotation_under_writes_moves_members_and_clients_to_the_new_ca(tmp_path, monkeypatch):
    pki = ROOT / "pki"
    old_ca = (pki / "ca.crt").read_text()
    shutil.copy(pki / "etcd" / "admin.crt", tmp_path / "old-admin.crt")  # a client the rotation does not reach
    shutil.copy(pki / "etcd" / "admin.key", tmp_path / "old-admin.key")
    subprocess.run([str(ROOT / "bin" / "etcd-ca"), "new", str(tmp_path / "next")], check=True, capture_output=True)
    new_ca = (tmp_path / "next" / "ca.crt").read_text()
    (tmp_path / "both.crt").write_text(old_ca + new_ca)
    monkeypatch.setenv("ETCDKIT_TEST_CA", str(tmp_path / "both.crt"))  # the writer trusts both, as a client in phase 1 does
    rotate = ("rotate_ca", "--data", f"etcd_ca_cert={tmp_path}/next/ca.crt", "--data", f"etcd_ca_key={tmp_path}/next/ca.key")
    before = main_pids(MEMBERS)
    with Writer(MEMBERS) as writer:
        run = deploy(*rotate, inventory=write_inventory(MEMBERS))
        time.sleep(1)
    counts = writer.counts(MEMBERS[0])
    print(f"continuous writer during the CA rotation: {counts}")
    assert counts.acknowledged > 50 and counts.lost == 0
    for phase in ("1 | Restart etcd to trust the old and the new ca", "3 | Restart etcd to trust only the new ca"):
        assert sorted(run.changed[f"CA rotation, phase {phase} (one member at a time)"]) == MEMBERS
    assert all(pid != before[a] for a, pid in main_pids(MEMBERS).items())
    new = x509.load_pem_x509_certificate(new_ca.encode())
    for address in MEMBERS:
        assert ssh(address, "cat /etc/etcd/ca.crt").stdout == new_ca
        x509.load_pem_x509_certificate(ssh(address, "cat /etc/etcd/server.crt").stdout.encode()).verify_directly_issued_by(new)
    assert ssh(PG, "cat /etc/etcd-client/ca.crt").stdout == new_ca
    x509.load_pem_x509_certificate(ssh(PG, "cat /etc/etcd-client/pg-test.crt").stdout.encode()).verify_directly_issued_by(new)
    assert etcdctl(MEMBERS[1], "endpoint health --cluster").returncode == 0
    assert json.loads(ssh(PG, "bash -lc 'etcdctl endpoint health --cluster -w json'").stdout)  # the admin host's etcdctl
    wait_for(patroni_has_a_leader, "Patroni serves on the new CA")
    # the new CA's certificate is served; a client certificate of the old CA is refused
    assert served_by(MEMBERS[0], 2379, pki / "etcd" / "admin.crt", pki / "etcd" / "admin.key", tmp_path / "next" / "ca.crt").startswith(
        "HTTP/1."
    )
    refused = served_by(MEMBERS[0], 2379, tmp_path / "old-admin.crt", tmp_path / "old-admin.key", tmp_path / "both.crt")
    assert not refused.startswith("HTTP/1."), refused
    assert deploy(*rotate, inventory=write_inventory(MEMBERS)).changed == {}
    ca_data = ("--data", f"etcd_ca_cert={tmp_path}/next/ca.crt", "--data", f"etcd_ca_key={tmp_path}/next/ca.key")
    assert deploy("reload", *ca_data, inventory=write_inventory(MEMBERS)).changed == {}  # the control node matches again
    refusal = deploy("reload", inventory=write_inventory(MEMBERS), check=False)  # the old CA: refused
    assert refusal.returncode != 0 and "deploys/rotate_ca.py" in refusal.stdout + refusal.stderr
