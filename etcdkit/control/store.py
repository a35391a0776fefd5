"""What the control node must hold for a run: the CA, certificates and generated passwords.

Plans describe it (ControlWork, plain data); the control-node operation of the run writes it when
the run executes (`apply`), so a preview or `--dry` leaves the PKI folder as it was.
"""

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from etcdkit.control.passwords import Secret
from etcdkit.control.pki import CASource, CertificateAuthority, CertRequest, PKIError
from etcdkit.model.settings import Settings


def cluster_folder(settings: Settings, cluster: str) -> Path:
    return Path(settings.etcd_pki_dir).expanduser() / cluster


def ca_source(settings: Settings) -> CASource:
    return CASource(Path(settings.etcd_pki_dir).expanduser(), settings.etcd_ca_cert, settings.etcd_ca_key)


@dataclass(frozen=True)
class ControlWork:
    ca: CASource
    now: datetime  # the run's time: certificates are judged and issued by it
    certificates: tuple[CertRequest, ...] = ()
    passwords: tuple[Secret, ...] = field(default_factory=tuple)  # generated when missing
    kept: tuple[Secret, ...] = field(default_factory=tuple)  # configured ones the members already use: kept in pki/ too

    def merged(self, *others: "ControlWork") -> "ControlWork":
        """The work of this and the others (of one CA, in one run), each file once."""

        def each_once(items, key):
            return tuple({key(item): item for item in items}.values())

        works = (self, *others)
        return ControlWork(
            self.ca,
            self.now,
            each_once((r for w in works for r in w.certificates), lambda r: r.cert_path),
            each_once((s for w in works for s in w.passwords), lambda s: s.path),
            each_once((s for w in works for s in w.kept), lambda s: s.path),
        )

    def pending(self) -> list[str]:
        """What executing the run would write, as lines for the operator; empty when nothing."""
        ca = CertificateAuthority.load(self.ca)
        lines = [] if ca is not None else [f"create the CA {self.ca.files[0]}"]
        lines += [f"issue {r.cert_path}" for r in self.certificates if ca is None or not ca.is_current(r, self.now)]
        lines += [f"generate {s.path}" for s in self.passwords if s.read() is None]
        lines += [f"keep the configured password in {s.path}" for s in self.kept if s.value is not None and s.stored != s.value]
        return lines

    def written(self) -> set[Path]:
        """The control-node files that executing the run would (re)write."""
        ca = CertificateAuthority.load(self.ca)
        written = set() if ca is not None else set(self.ca.files)
        for request in self.certificates:
            if ca is None or not ca.is_current(request, self.now):
                written |= {request.cert_path, request.key_path}
        return written | {s.path for s in self.passwords if s.read() is None} | {s.path for s in self.kept if s.stored != s.value}

    def apply(self) -> None:
        ca = CertificateAuthority.load(self.ca)
        if ca is None:
            if not self.ca.generated:
                raise PKIError(f"the CA {self.ca.files[0]} cannot be read")
            ca = CertificateAuthority.create(self.ca, self.now)
        for request in self.certificates:
            if not ca.is_current(request, self.now):
                ca.issue(request, self.now)
        for secret in self.passwords:
            secret.ensure()
        for secret in self.kept:
            secret.store()
