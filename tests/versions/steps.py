"""Steps the version modules share around the SOP runs they make themselves (the SOP runs stay in each
test: docs/versions.md's check reads them there)."""

import shlex
import subprocess
import time
from pathlib import Path

from tests.helpers import ROOT, etcdctl, lab, ssh

NODES = ["10.10.10.10", "10.10.10.11", "10.10.10.12"]


def lose_the_quorum_for_good() -> None:
    """A key written, then nodes 2 and 3 powered off and their disks wiped: node 1 survives alone."""
    etcdctl(NODES[0], "put /recover/kept yes")
    time.sleep(1)  # the survivor applies what the cluster committed
    for node in ("2", "3"):
        lab("stop", node)
    lab("reset", "2", "3")


def the_survivor_kept_its_data() -> bool:
    get = f"ETCDCTL_ENDPOINTS=https://{NODES[0]}:2379 etcdctl get /recover/kept --print-value-only"
    return ssh(NODES[0], f"bash -lc {shlex.quote(get)}").stdout.strip() == "yes"


def cas_there_and_back(tmp_path: Path) -> list[tuple[Path, tuple[str, ...]]]:
    """A new CA, then the control node's own: (folder, rotate_ca's options) of each."""
    subprocess.run([str(ROOT / "bin" / "etcd-ca"), "new", str(tmp_path / "next")], check=True, capture_output=True)
    return [
        (folder, ("--data", f"etcd_ca_cert={folder}/ca.crt", "--data", f"etcd_ca_key={folder}/ca.key"))
        for folder in (tmp_path / "next", ROOT / "pki")
    ]


def members_trust(folder: Path) -> bool:
    return all(ssh(address, "cat /etc/etcd/ca.crt").stdout == (folder / "ca.crt").read_text() for address in NODES)
