"""The CA rotation when something goes wrong, on lab nodes: members on nodes 1-3, node 4 an admin
host (the etcdctl environment). A client host left out of the run, or that does not answer, stops
the rotation before any change unless it is named as left behind on purpose; a member whose files
cannot be written stops it before the phase that would cut anyone off, and the same command
finishes it once the cause is fixed, under the continuous writer.

Tests run in order on one lab: each starts from what the previous one left.
"""

import subprocess
import textwrap
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature

from lab.nodes import root_dir
from tests.helpers import ROOT, deploy, etcdctl, host_state, lab, ssh, typed
from tests.writer import Writer

MEMBERS = ["10.10.10.10", "10.10.10.11", "10.10.10.12"]
ADMIN = "10.10.10.13"
INVENTORY = Path("/tmp/etcdkit-test-rotate-ca-inventory.py")
CLIENT_FILES = "sha256sum /etc/etcd-client/* /etc/profile.d/etcdctl.sh"


@pytest.fixture(scope="module", autouse=True)
def cluster_and_admin_host():
    INVENTORY.write_text(
        textwrap.dedent(f"""\
        etcd = ([{", ".join(f"({a!r}, {{'etcd_seq': {n}}})" for n, a in enumerate(MEMBERS, 1))}], {{"etcd_cluster": "etcd"}})
        etcd_clients = ([{ADMIN!r}], {{}})
        """)
    )
    lab("up", "-n", "4")
    lab("reset", "1", "2", "3", "4")
    deploy("create", "--limit", "etcd", inventory=str(INVENTORY))
    deploy("reload", inventory=str(INVENTORY))  # the admin host gets the etcdctl environment
    yield
    INVENTORY.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def new_ca(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ca") / "next"
    subprocess.run([str(ROOT / "bin" / "etcd-ca"), "new", str(folder)], check=True, capture_output=True)
    return folder


def new_ca_data(new_ca: Path) -> tuple[str, ...]:
    return ("--data", f"etcd_ca_cert={new_ca}/ca.crt", "--data", f"etcd_ca_key={new_ca}/ca.key")


def rotate(new_ca: Path, *args: str, check: bool = True):
    return deploy("rotate_ca", *new_ca_data(new_ca), *args, inventory=str(INVENTORY), check=check)


def immutable(number: int, on: bool) -> None:
    """`chattr +i /etc/etcd` on a node (from the lab's host: the nodes have no e2fsprogs)."""
    subprocess.run(["chattr", "+i" if on else "-i", str(root_dir(number) / "etc" / "etcd")], check=True)


def everything() -> dict[str, str]:
    return {**{a: host_state(a) for a in MEMBERS}, ADMIN: ssh(ADMIN, CLIENT_FILES).stdout}


def test_a_client_host_left_out_of_the_run_is_refused_before_any_change(new_ca):
    before = everything()
    run = rotate(new_ca, "--limit", "etcd", check=False)
    assert run.returncode != 0 and not run.executed
    assert ADMIN in run.stderr and f"--data etcd_rotate_skip={ADMIN}" in run.stderr, run.stderr[-2000:]
    # named as left behind on purpose, the plan goes ahead (previewed only here)
    skip = ("--data", f"etcd_rotate_skip={ADMIN}")
    preview = typed("deploys/rotate_ca.py", *new_ca_data(new_ca), "--limit", "etcd", *skip, "--dry", inventory=str(INVENTORY))
    assert preview.returncode == 0, preview.stderr[-2000:]
    assert f"{ADMIN} (admin host) is left behind on purpose" in preview.stdout + preview.stderr
    assert everything() == before


def test_a_client_host_that_does_not_answer_is_refused_before_any_change(new_ca):
    before = {a: host_state(a) for a in MEMBERS}
    lab("cut", "4")
    try:
        run = rotate(new_ca, check=False)
    finally:
        lab("heal", "4")
    assert run.returncode != 0 and not run.executed
    assert ADMIN in run.stderr and "etcd_rotate_skip" in run.stderr, run.stderr[-2000:]
    assert {a: host_state(a) for a in MEMBERS} == before


def issued_by(pem: str, ca: x509.Certificate) -> bool:
    try:
        x509.load_pem_x509_certificate(pem.encode()).verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def test_a_member_that_fails_stops_the_rotation_and_the_same_command_finishes_it(new_ca, tmp_path, monkeypatch):
    old_pem, new_pem = (ROOT / "pki" / "ca.crt").read_text(), (new_ca / "ca.crt").read_text()
    new = x509.load_pem_x509_certificate(new_pem.encode())
    (tmp_path / "both.crt").write_text(old_pem + new_pem)
    monkeypatch.setenv("ETCDKIT_TEST_CA", str(tmp_path / "both.crt"))  # the writer trusts both, as a client in phase 1 does
    immutable(2, True)  # nothing can be created, renamed or deleted in node 2's /etc/etcd
    try:
        with Writer(MEMBERS) as writer:
            failed = rotate(new_ca, check=False)
            time.sleep(1)
    finally:
        immutable(2, False)
    print(f"continuous writer during the rotation that failed: {writer.counts(MEMBERS[0])}")
    assert failed.returncode != 0
    # it stopped before phase 2: no member trusts the new CA alone, no host holds a certificate of it
    for address in MEMBERS:
        assert ssh(address, "cat /etc/etcd/ca.crt").stdout != new_pem
        assert not issued_by(ssh(address, "cat /etc/etcd/server.crt").stdout, new)
    assert not issued_by(ssh(ADMIN, "cat /etc/etcd-client/admin.crt").stdout, new)
    assert not issued_by((ROOT / "pki" / "etcd" / "admin.crt").read_text(), new)
    assert ssh(MEMBERS[1], "cat /etc/etcd/ca.crt").stdout == old_pem
    assert etcdctl(MEMBERS[1], "endpoint health --cluster").returncode == 0
    assert writer.counts(MEMBERS[0]).lost == 0

    with Writer(MEMBERS) as writer:
        rotate(new_ca)  # the cause fixed, the same command
        time.sleep(1)
    counts = writer.counts(MEMBERS[0])
    print(f"continuous writer during the rotation run again: {counts}")
    assert counts.acknowledged > 50 and counts.lost == 0
    for address in MEMBERS:
        assert ssh(address, "cat /etc/etcd/ca.crt").stdout == new_pem
        assert issued_by(ssh(address, "cat /etc/etcd/server.crt").stdout, new)
    assert ssh(ADMIN, "cat /etc/etcd-client/ca.crt").stdout == new_pem
    assert issued_by(ssh(ADMIN, "cat /etc/etcd-client/admin.crt").stdout, new)
    assert ssh(ADMIN, "bash -lc 'etcdctl endpoint health --cluster'").returncode == 0
    assert rotate(new_ca).changed == {}
