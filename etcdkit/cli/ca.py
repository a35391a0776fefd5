"""etcd-ca: a new CA on the control node, to move a cluster to with deploys/rotate_ca.py."""

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from etcdkit.control.pki import CASource, CertificateAuthority


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="etcd-ca", description="Make a new CA for a CA rotation (deploys/rotate_ca.py).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    new = commands.add_parser("new", help="create DIR/ca.crt and DIR/ca.key (0600, in a 0700 folder); never overwrites")
    new.add_argument("dir", metavar="DIR")
    args = parser.parse_args(argv)
    source = CASource(Path(args.dir).expanduser())
    cert, key = source.files
    existing = [str(path) for path in (cert, key) if path.exists()]
    if existing:
        print(f"etcd-ca: {' and '.join(existing)} already exist: nothing was written; choose another DIR", file=sys.stderr)
        return 1
    ca = CertificateAuthority.create(source, datetime.now(UTC))
    print(
        f"new CA {cert} (key {key}), valid until {ca.certificate.not_valid_after_utc:%Y-%m-%d}. Move a cluster to it with:\n"
        f"  pyinfra INVENTORY deploys/rotate_ca.py --data etcd_ca_cert={cert} --data etcd_ca_key={key}\n"
        "then set etcd_ca_cert and etcd_ca_key to these paths in the inventory."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
