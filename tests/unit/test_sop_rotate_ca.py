"""The CA rotation's wiring, in-process: three phases in order, each after the one before on every
host, and none after a host failed in the one before (the control node issues nothing either)."""

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from etcdkit.control.pki import CASource, CertificateAuthority
from tests.unit import plans_data
from tests.unit.sop_run import SopRun, created, member_machine, pki, with_view
from tests.unit.test_sop_create import ADDRESSES

ORDER = [
    "CA rotation, phase 1 | Restart etcd to trust the old and the new ca (one member at a time) [serial]",
    "Control node: certificates of the new CA [if]",
    "CA rotation, phase 2 | Upload /etc/etcd/server.crt [if]",
    "CA rotation, phase 2 | Upload /etc/etcd/server.key [if]",
    "CA rotation, phase 3 | Restart etcd to trust only the new ca (one member at a time) [serial] [if]",
]


def rotate(tmp_path, host_data: dict | None = None) -> SopRun:
    created(tmp_path)
    CertificateAuthority.create(CASource(tmp_path / "next"), plans_data.NOW)
    inv = plans_data.inventory(tmp_path)
    machines = with_view({address: member_machine(inv, seq) for seq, address in enumerate(ADDRESSES, 1)}, plans_data.view(1, 2, 3))
    new_ca = {"etcd_ca_cert": str(tmp_path / "next" / "ca.crt"), "etcd_ca_key": str(tmp_path / "next" / "ca.key")}
    run = SopRun("rotate_ca", machines, group_data=pki(tmp_path), data=new_ca, host_data=host_data).prepare()
    assert run.error is None, run.error
    return run


def new_certificates_issued(tmp_path) -> bool:
    """Whether etcd-1's certificate on the control node is signed by the new CA (both CAs have the same name)."""
    new_ca = CertificateAuthority.load(CASource(tmp_path / "next")).certificate
    try:
        x509.load_pem_x509_certificate((tmp_path / "pki" / "etcd" / "etcd-1.crt").read_bytes()).verify_directly_issued_by(new_ca)
    except InvalidSignature:
        return False
    return True


def test_the_three_phases_come_in_order_each_gated_on_the_one_before(tmp_path):
    run = rotate(tmp_path)
    assert run.order() == ORDER
    run.execute()
    assert run.failed() == set() and new_certificates_issued(tmp_path)
    assert all(any("> /etc/etcd/server.crt" in command for command in run.commands(address)) for address in ADDRESSES)


def test_a_member_whose_ca_file_cannot_be_kept_stops_the_rotation_everywhere(tmp_path):
    stuck = {"fake_responses": {"cp -p /etc/etcd/ca.crt": {"success": False, "stderr": "Operation not permitted"}}}  # chattr +i
    run = rotate(tmp_path, host_data={ADDRESSES[1]: stuck}).execute()
    assert ADDRESSES[1] in run.failed()
    assert not new_certificates_issued(tmp_path)  # phase 2 began nowhere, not even on the control node
    assert not any("> /etc/etcd/server.crt" in command for address in ADDRESSES for command in run.commands(address))
