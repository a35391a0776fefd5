"""The CA and member certificates issued on the control node."""

import ipaddress
import os
import stat

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from etcdkit.pki import CertificateAuthority, PKIError


def test_ca_is_created_once_with_a_private_key(tmp_path):
    ca = CertificateAuthority.load_or_create(tmp_path)
    assert stat.S_IMODE(os.stat(tmp_path / "ca.key").st_mode) == 0o600
    again = CertificateAuthority.load_or_create(tmp_path)
    assert again.certificate == ca.certificate
    assert ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_member_certificate_names_and_usages(tmp_path):
    ca = CertificateAuthority.load_or_create(tmp_path)
    cert_pem, key_pem = ca.member_certificate(tmp_path / "etcd", "etcd-1", "10.10.10.10", 730)
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.IPAddress)) == {ipaddress.ip_address("10.10.10.10"), ipaddress.ip_address("127.0.0.1")}
    assert set(names.get_values_for_type(x509.DNSName)) == {"localhost", "etcd-1"}
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usages) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    cert.verify_directly_issued_by(ca.certificate)
    assert stat.S_IMODE(os.stat(tmp_path / "etcd" / "etcd-1.key").st_mode) == 0o600
    assert "PRIVATE KEY" in key_pem


def test_member_certificate_is_reused_until_something_changes(tmp_path):
    ca = CertificateAuthority.load_or_create(tmp_path)
    first = ca.member_certificate(tmp_path / "etcd", "etcd-1", "10.10.10.10", 730)
    assert ca.member_certificate(tmp_path / "etcd", "etcd-1", "10.10.10.10", 730) == first
    moved = ca.member_certificate(tmp_path / "etcd", "etcd-1", "10.10.10.20", 730)
    assert moved != first
    expiring = ca.member_certificate(tmp_path / "other", "etcd-1", "10.10.10.10", 10)
    assert ca.member_certificate(tmp_path / "other", "etcd-1", "10.10.10.10", 730) != expiring


def test_certificates_of_another_ca_are_replaced(tmp_path):
    first = CertificateAuthority.load_or_create(tmp_path / "a").member_certificate(tmp_path / "etcd", "etcd-1", "10.0.0.1", 730)
    second = CertificateAuthority.load_or_create(tmp_path / "b").member_certificate(tmp_path / "etcd", "etcd-1", "10.0.0.1", 730)
    assert first != second


def test_own_ca_by_path(tmp_path):
    own = CertificateAuthority.load_or_create(tmp_path / "own")
    used = CertificateAuthority.load_or_create(tmp_path / "pki", str(tmp_path / "own" / "ca.crt"), str(tmp_path / "own" / "ca.key"))
    assert used.certificate == own.certificate
    assert not (tmp_path / "pki" / "ca.crt").exists()
    with pytest.raises(PKIError, match="go together"):
        CertificateAuthority.load_or_create(tmp_path / "pki", str(tmp_path / "own" / "ca.crt"), None)
    cert_pem, _ = own.member_certificate(tmp_path / "etcd", "etcd-1", "10.0.0.1", 730)
    (tmp_path / "leaf.crt").write_text(cert_pem)
    with pytest.raises(PKIError, match="not a CA certificate|does not belong"):
        CertificateAuthority.load_or_create(tmp_path, str(tmp_path / "leaf.crt"), str(tmp_path / "own" / "ca.key"))


def test_admin_client_certificate(tmp_path):
    ca = CertificateAuthority.load_or_create(tmp_path)
    cert_pem, _ = ca.client_certificate(tmp_path / "etcd", "admin", 730)
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert ca.client_certificate(tmp_path / "etcd", "admin", 730)[0] == cert_pem
