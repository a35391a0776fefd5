"""A continuous writer: the etcd3 client on the control node writing numbered keys through every
endpoint in turn while a SOP runs, counting what the cluster acknowledged, what failed, and what
was acknowledged but is missing afterwards (lost: must always be 0)."""

import threading
import time
from dataclasses import dataclass

import etcd3

from tests.helpers import ROOT

PKI = ROOT / "pki"
PREFIX = "/writer/"


def client(address: str, timeout: float = 2) -> etcd3.Etcd3Client:
    """The etcd3 client as root, with the control node's admin certificate."""
    return etcd3.client(
        host=address, port=2379, ca_cert=str(PKI / "ca.crt"),
        cert_cert=str(PKI / "etcd" / "admin.crt"), cert_key=str(PKI / "etcd" / "admin.key"),
        user="root", password=(PKI / "etcd" / "root.password").read_text().strip(), timeout=timeout,
    )


@dataclass
class Counts:
    acknowledged: int
    failed: int
    lost: int


class Writer:
    """Writes PREFIX<n> = n, one key every `pause` seconds, round-robin over `addresses` (which a
    test updates as members come and go); a failed write moves on to the next endpoint."""

    def __init__(self, addresses: list[str], pause: float = 0.02):
        self.addresses, self.pause = list(addresses), pause
        self.acknowledged: list[int] = []
        self.failed = 0
        self._clients: dict[str, etcd3.Etcd3Client] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Writer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        number = 0
        while not self._stop.is_set():
            number += 1
            address = self.addresses[number % len(self.addresses)]
            try:
                if address not in self._clients:
                    self._clients[address] = client(address)
                self._clients[address].put(f"{PREFIX}{number:08d}", str(number))
                self.acknowledged.append(number)
            except Exception:
                self.failed += 1
                self._clients.pop(address, None)
            time.sleep(self.pause)

    def counts(self, reader: str) -> Counts:
        """Read every key back through `reader` (a linearizable read) and count the acknowledged ones
        missing. Only writes acknowledged before the read began must be in it."""
        acknowledged, failed = set(self.acknowledged), self.failed
        stored = {int(value) for value, _ in client(reader, timeout=10).get_prefix(PREFIX)}
        return Counts(len(acknowledged), failed, len(acknowledged - stored))
