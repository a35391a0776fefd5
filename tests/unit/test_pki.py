"""The CA and certificates on the control node: read without writing, written only when applied."""

import datetime
import ipaddress
import os
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from etcdkit.control.passwords import Secret
from etcdkit.control.pki import CASource, CertificateAuthority, CertRequest, PKIError
from etcdkit.control.store import ControlWork
from tests.unit.plans_data import NOW


def new_ca(folder) -> CertificateAuthority:
    return CertificateAuthority.create(CASource(folder), NOW)


def cert(request: CertRequest) -> x509.Certificate:
    return x509.load_pem_x509_certificate(request.cert_path.read_bytes())


def test_loading_a_missing_generated_ca_writes_nothing(tmp_path):
    assert CertificateAuthority.load(CASource(tmp_path / "pki")) is None
    assert not (tmp_path / "pki").exists()


def test_ca_is_created_once_with_a_private_key(tmp_path):
    ca = new_ca(tmp_path)
    assert stat.S_IMODE(os.stat(tmp_path / "ca.key").st_mode) == 0o600
    assert CertificateAuthority.load(CASource(tmp_path)).certificate == ca.certificate
    assert ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_member_certificate_names_and_usages(tmp_path):
    ca = new_ca(tmp_path)
    request = CertRequest(tmp_path / "etcd", "etcd-1", "10.10.10.10", 730)
    assert not ca.is_current(request, NOW)
    ca.issue(request, NOW)
    names = cert(request).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.IPAddress)) == {ipaddress.ip_address("10.10.10.10"), ipaddress.ip_address("127.0.0.1")}
    assert set(names.get_values_for_type(x509.DNSName)) == {"localhost", "etcd-1"}
    usages = cert(request).extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usages) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    cert(request).verify_directly_issued_by(ca.certificate)
    assert stat.S_IMODE(os.stat(request.key_path).st_mode) == 0o600
    assert ca.is_current(request, NOW)


def test_a_certificate_is_current_until_something_changes(tmp_path):
    ca = new_ca(tmp_path)
    ca.issue(CertRequest(tmp_path / "etcd", "etcd-1", "10.10.10.10", 730), NOW)
    assert not ca.is_current(CertRequest(tmp_path / "etcd", "etcd-1", "10.10.10.20", 730), NOW)  # moved
    expiring = CertRequest(tmp_path / "other", "etcd-1", "10.10.10.10", 10)
    ca.issue(expiring, NOW)
    assert not ca.is_current(expiring, NOW)  # within 30 days of its end
    assert not new_ca(tmp_path / "b").is_current(CertRequest(tmp_path / "etcd", "etcd-1", "10.10.10.10", 730), NOW)  # another CA


def test_a_certificate_is_renewed_by_the_time_the_run_passes_not_the_machines_clock(tmp_path):
    ca = new_ca(tmp_path)
    request = CertRequest(tmp_path / "etcd", "etcd-1", "10.10.10.10", 730)
    ca.issue(request, NOW)
    assert ca.is_current(request, NOW + datetime.timedelta(days=699))
    assert not ca.is_current(request, NOW + datetime.timedelta(days=701))  # within 30 days of its end
    assert cert(request).not_valid_after_utc == NOW + datetime.timedelta(days=730)
    assert cert(request).not_valid_before_utc == NOW - datetime.timedelta(hours=1)


def test_own_ca_by_path(tmp_path):
    own = new_ca(tmp_path / "own")
    used = CertificateAuthority.load(CASource(tmp_path / "pki", str(tmp_path / "own" / "ca.crt"), str(tmp_path / "own" / "ca.key")))
    assert used.certificate == own.certificate
    assert not (tmp_path / "pki").exists()
    with pytest.raises(PKIError, match="go together"):
        CertificateAuthority.load(CASource(tmp_path / "pki", str(tmp_path / "own" / "ca.crt"), None))
    leaf = CertRequest(tmp_path / "etcd", "etcd-1", "10.0.0.1", 730)
    own.issue(leaf, NOW)
    with pytest.raises(PKIError, match="not a CA certificate|does not belong"):
        CertificateAuthority.load(CASource(tmp_path, str(leaf.cert_path), str(tmp_path / "own" / "ca.key")))


def site_ca(folder, key) -> CASource:
    """A CA a site made itself (Pigsty's is RSA), with this key: cert and key files under folder."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "site CA")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    )
    folder.mkdir()
    (folder / "ca.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "ca.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return CASource(folder / "pki", str(folder / "ca.crt"), str(folder / "ca.key"))


def test_a_sites_rsa_ca_issues_and_a_ca_etcdkit_cannot_sign_with_is_refused(tmp_path):
    ca = CertificateAuthority.load(site_ca(tmp_path / "rsa", rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    leaf = CertRequest(tmp_path / "etcd", "etcd-1", "10.0.0.1", 730)
    ca.issue(leaf, NOW)
    assert ca.is_current(leaf, NOW)
    with pytest.raises(PKIError, match="is a .*Ed25519PrivateKey.*: etcdkit signs with an EC or RSA CA"):
        CertificateAuthority.load(site_ca(tmp_path / "ed25519", ed25519.Ed25519PrivateKey.generate()))


def test_client_certificate_is_for_clients_only(tmp_path):
    ca = new_ca(tmp_path)
    admin = CertRequest(tmp_path / "etcd", "admin")
    ca.issue(admin, NOW)
    assert list(cert(admin).extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_control_work_is_pending_until_applied_and_then_converged(tmp_path):
    work = ControlWork(
        CASource(tmp_path / "pki"),
        NOW,
        (CertRequest(tmp_path / "pki" / "etcd", "etcd-1", "10.0.0.1"), CertRequest(tmp_path / "pki" / "etcd", "admin")),
        (Secret(tmp_path / "pki" / "etcd" / "root.password"),),
    )
    assert len(work.pending()) == 4 and not (tmp_path / "pki").exists()
    pki = tmp_path / "pki"
    assert work.written() == {
        pki / "ca.crt",
        pki / "ca.key",
        *(pki / "etcd" / f"{name}.{suffix}" for name in ("etcd-1", "admin") for suffix in ("crt", "key")),
        pki / "etcd" / "root.password",
    }
    work.apply()
    assert work.pending() == [] and work.written() == set()
    password = (tmp_path / "pki" / "etcd" / "root.password").read_text()
    assert len(password) >= 24 and stat.S_IMODE(os.stat(tmp_path / "pki" / "etcd" / "root.password").st_mode) == 0o600
    work.apply()
    assert (tmp_path / "pki" / "etcd" / "root.password").read_text() == password


def test_a_configured_secret_is_never_written_and_never_shown(tmp_path):
    secret = Secret(tmp_path / "root.password", "s3cret-value")
    assert secret.read() == "s3cret-value" and not secret.ensure() and not secret.path.exists()
    assert "s3cret-value" not in repr(secret)
