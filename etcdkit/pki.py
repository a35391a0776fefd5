"""The cluster's CA and member certificates, issued on the control node with `cryptography`.

Layout of the PKI folder (0700):
    ca.crt, ca.key                  the generated CA (unless etcd_ca_cert/etcd_ca_key name your own)
    <cluster>/<member>.crt, .key    one key and certificate per member, for server, peer and client use
    <cluster>/admin.crt, .key       the control node's client certificate

A certificate is reused while it is signed by the current CA, names the same addresses and usages
and has more than RENEW_BEFORE left; otherwise a new key and certificate are issued.
"""

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
RENEW_BEFORE = datetime.timedelta(days=30)
CLOCK_SKEW = datetime.timedelta(hours=1)


class PKIError(Exception):
    pass


def write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write a file that is never readable by others, not even for a moment."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.replace(temporary, path)


def issued_files(settings: dict, cluster: str, names) -> list[Path]:
    """The certificate and key files the control node holds for these members (those that exist)."""
    folder = Path(settings["etcd_pki_dir"]).expanduser() / cluster
    return [folder / f"{name}.{suffix}" for name in names for suffix in ("crt", "key") if (folder / f"{name}.{suffix}").exists()]


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass(frozen=True)
class CertificateAuthority:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> str:
        return _pem(self.certificate).decode()

    @classmethod
    def load_or_create(cls, pki_dir: Path, cert_path: str | None = None, key_path: str | None = None) -> "CertificateAuthority":
        if bool(cert_path) != bool(key_path):
            raise PKIError("etcd_ca_cert and etcd_ca_key go together: give both paths or neither")
        if cert_path:
            return cls._load(Path(cert_path).expanduser(), Path(key_path).expanduser())
        cert_file, key_file = pki_dir / "ca.crt", pki_dir / "ca.key"
        if cert_file.exists() or key_file.exists():
            return cls._load(cert_file, key_file)
        return cls._create(cert_file, key_file)

    @classmethod
    def _load(cls, cert_file: Path, key_file: Path) -> "CertificateAuthority":
        try:
            certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
            key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as error:
            raise PKIError(f"cannot load the CA from {cert_file} and {key_file}: {error}") from None
        if certificate.public_key().public_numbers() != key.public_key().public_numbers():
            raise PKIError(f"the CA key {key_file} does not belong to the CA certificate {cert_file}")
        try:
            constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            constraints = None
        if constraints is None or not constraints.ca:
            raise PKIError(f"{cert_file} is not a CA certificate (basicConstraints CA:TRUE missing)")
        return cls(certificate, key)

    @classmethod
    def _create(cls, cert_file: Path, key_file: Path) -> "CertificateAuthority":
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "etcdkit"), x509.NameAttribute(NameOID.COMMON_NAME, "etcd CA")])
        now = _now()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                    key_encipherment=False, data_encipherment=False, key_agreement=False,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        write_private(key_file, _key_pem(key))
        write_private(cert_file, _pem(certificate), mode=0o644)
        return cls(certificate, key)

    def member_certificate(self, folder: Path, name: str, address: str, days: int) -> tuple[str, str]:
        """The member's (certificate PEM, key PEM) for server, peer and client use."""
        usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
        return self._certificate(folder, name, _member_names(name, address), usages, days)

    def client_certificate(self, folder: Path, name: str, days: int) -> tuple[str, str]:
        """A client-only certificate (the control node's `admin`): no member key leaves its member."""
        return self._certificate(folder, name, [], [ExtendedKeyUsageOID.CLIENT_AUTH], days)

    def _certificate(self, folder: Path, name: str, alt_names: list, usages: list, days: int) -> tuple[str, str]:
        """Reused while still good, else a new key and certificate."""
        cert_file, key_file = folder / f"{name}.crt", folder / f"{name}.key"
        if cert_file.exists() and key_file.exists() and self._still_good(cert_file, key_file, alt_names, usages):
            return cert_file.read_text(), key_file.read_text()
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, key_encipherment=True, content_commitment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
        )
        if alt_names:
            builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        write_private(key_file, _key_pem(key))
        write_private(cert_file, _pem(builder.sign(self.key, hashes.SHA256())), mode=0o644)
        return cert_file.read_text(), key_file.read_text()

    def _still_good(self, cert_file: Path, key_file: Path, alt_names: list, usages: list) -> bool:
        try:
            certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
            key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
            certificate.verify_directly_issued_by(self.certificate)
            extensions = certificate.extensions
            names = extensions.get_extension_for_class(x509.SubjectAlternativeName).value if alt_names else []
            granted = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, x509.ExtensionNotFound, InvalidSignature):
            return False
        return (
            certificate.public_key().public_numbers() == key.public_key().public_numbers()
            and set(names) == set(alt_names)
            and set(granted) == set(usages)
            and certificate.not_valid_after_utc - _now() > RENEW_BEFORE
        )


def _member_names(name: str, address: str) -> list:
    return [
        x509.IPAddress(ipaddress.ip_address(address)),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.DNSName("localhost"),
        x509.DNSName(name),
    ]
