"""The cluster's CA and certificates, kept on the control node and issued with `cryptography`.

Layout of the PKI folder (0700):
    ca.crt, ca.key                  the generated CA (unless etcd_ca_cert/etcd_ca_key name your own)
    <cluster>/<member>.crt, .key    one key and certificate per member, for server, peer and client use
    <cluster>/<client>.crt, .key    client-only certificates: admin, monitor, one per PostgreSQL cluster

Nothing here reads the clock: the run reads it once (`ControlState.now`) and passes it in, so the
preview and the run judge a certificate by the same time, and tests by their own.
Reading (load, is_current) never writes: plans read the folder while they decide, and only the
control-node operation of a run that executes writes it (issue, create), so `--dry` changes nothing.
A certificate is kept while it is signed by the current CA, names the same addresses and usages
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
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
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


@dataclass(frozen=True)
class CertRequest:
    """A certificate the cluster needs: a member's (server, peer and client use, with SANs) or a
    client's (client use only: no member key ever leaves its member)."""

    folder: Path  # the cluster's sub-folder of the PKI folder
    name: str  # the common name, and the file names
    address: str | None = None  # a member's IP address; None: a client certificate
    days: int = 730
    peer_name: str | None = None  # a member's: the name every member certificate of the cluster carries

    @property
    def cert_path(self) -> Path:
        return self.folder / f"{self.name}.crt"

    @property
    def key_path(self) -> Path:
        return self.folder / f"{self.name}.key"

    @property
    def alt_names(self) -> list:
        if self.address is None:
            return []
        return [
            x509.IPAddress(ipaddress.ip_address(self.address)),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.DNSName("localhost"),
            x509.DNSName(self.name),
            *([x509.DNSName(self.peer_name)] if self.peer_name else []),
        ]

    @property
    def usages(self) -> list:
        if self.address is None:
            return [ExtendedKeyUsageOID.CLIENT_AUTH]
        return [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]


@dataclass(frozen=True)
class CASource:
    """Where the CA is: the generated one in the PKI folder, or the operator's own files."""

    pki_dir: Path
    cert_path: str | None = None
    key_path: str | None = None

    @property
    def generated(self) -> bool:
        return not self.cert_path

    @property
    def files(self) -> tuple[Path, Path]:
        if self.cert_path and self.key_path:
            return Path(self.cert_path).expanduser(), Path(self.key_path).expanduser()
        return self.pki_dir / "ca.crt", self.pki_dir / "ca.key"


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


# the CA key types etcdkit signs with (SHA-256), as etcdkit's own CA (EC) and sites' CAs (EC or RSA) have
ISSUER_KEYS = (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)


def _same_key(certificate: x509.Certificate, key: PrivateKeyTypes) -> bool:
    """Whether the key is the certificate's (any key type: their public keys, DER-encoded, are equal)."""
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return certificate.public_key().public_bytes(*spki) == key.public_key().public_bytes(*spki)


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _key_usage(**granted) -> x509.KeyUsage:
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    return x509.KeyUsage(**{name: granted.get(name, False) for name in names})


@dataclass(frozen=True)
class CertificateAuthority:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey  # etcdkit makes an EC key; a site's own CA may hold an RSA one

    @property
    def cert_pem(self) -> str:
        return _pem(self.certificate).decode()

    @classmethod
    def load(cls, source: CASource) -> "CertificateAuthority | None":
        """The CA, or None when the generated CA does not exist yet (create makes it when it runs)."""
        if bool(source.cert_path) != bool(source.key_path):
            raise PKIError("etcd_ca_cert and etcd_ca_key go together: give both paths or neither")
        cert_file, key_file = source.files
        if source.generated and not cert_file.exists() and not key_file.exists():
            return None
        try:
            certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
            key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as error:
            raise PKIError(f"cannot load the CA from {cert_file} and {key_file}: {error}") from None
        if not isinstance(key, ISSUER_KEYS):
            raise PKIError(f"the CA key {key_file} is a {type(key).__name__}: etcdkit signs with an EC or RSA CA")
        if not _same_key(certificate, key):
            raise PKIError(f"the CA key {key_file} does not belong to the CA certificate {cert_file}")
        try:
            constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            constraints = None
        if constraints is None or not constraints.ca:
            raise PKIError(f"{cert_file} is not a CA certificate (basicConstraints CA:TRUE missing)")
        return cls(certificate, key)

    @classmethod
    def create(cls, source: CASource, now: datetime.datetime) -> "CertificateAuthority":
        """A new CA in the PKI folder (key 0600), valid from `now`."""
        cert_file, key_file = source.files
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "etcdkit"), x509.NameAttribute(NameOID.COMMON_NAME, "etcd CA")])
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(digital_signature=True, key_cert_sign=True, crl_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        write_private(key_file, _key_pem(key))
        write_private(cert_file, _pem(certificate), mode=0o644)
        return cls(certificate, key)

    def is_current(self, request: CertRequest, now: datetime.datetime) -> bool:
        """Whether the request's files hold a certificate that can be kept at `now`."""
        try:
            certificate = x509.load_pem_x509_certificate(request.cert_path.read_bytes())
            key = serialization.load_pem_private_key(request.key_path.read_bytes(), password=None)
            certificate.verify_directly_issued_by(self.certificate)
            extensions = certificate.extensions
            names: x509.SubjectAlternativeName | list = (
                extensions.get_extension_for_class(x509.SubjectAlternativeName).value if request.alt_names else []
            )
            granted = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (OSError, ValueError, TypeError, x509.ExtensionNotFound, InvalidSignature):
            return False
        return (
            _same_key(certificate, key)
            and set(names) == set(request.alt_names)
            and set(granted) == set(request.usages)
            and certificate.not_valid_after_utc - now > RENEW_BEFORE
        )

    def issue(self, request: CertRequest, now: datetime.datetime) -> None:
        """A new key and certificate in the request's files, valid from `now`."""
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, request.name)]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(now + datetime.timedelta(days=request.days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(digital_signature=True, key_encipherment=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage(request.usages), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
        )
        if request.alt_names:
            builder = builder.add_extension(x509.SubjectAlternativeName(request.alt_names), critical=False)
        write_private(request.key_path, _key_pem(key))
        write_private(request.cert_path, _pem(builder.sign(self.key, hashes.SHA256())), mode=0o644)


def issued_files(folder: Path, names) -> list[Path]:
    """The certificate and key files the control node holds for these names (those that exist)."""
    return [folder / f"{name}.{suffix}" for name in names for suffix in ("crt", "key") if (folder / f"{name}.{suffix}").exists()]
