"""A continuous writer: the etcd3 client on the control node writing numbered keys through every
endpoint in turn while a SOP runs, counting what the cluster acknowledged, what failed, what
was acknowledged but is missing afterwards (lost: must always be 0), and the longest stall: the
longest time between two acknowledged writes, what an application would see as etcd not answering.

The etcd3 client (gRPC) runs only in processes of its own, started with `spawn`: the test process
forks ssh and pyinfra all the time, and gRPC's threads do not survive a fork.
"""

import json
import multiprocessing
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import ROOT, etcdctl

PKI = ROOT / "pki"
PREFIX = "/writer/"
_spawn = multiprocessing.get_context("spawn")


def client(address: str, timeout: float = 2, as_root: bool = True):
    """The etcd3 client with the control node's admin certificate, as root unless as_root is
    false (in a child process). A test may name other files in the environment (the child
    inherits it): $ETCDKIT_TEST_CA (a CA rotation's: the old and the new CA), and
    $ETCDKIT_TEST_CERT, _KEY and _PASSWORD (a site's own client, for a takeover)."""
    import etcd3

    password_file = os.environ.get("ETCDKIT_TEST_PASSWORD", str(PKI / "etcd" / "root.password"))
    login = {"user": "root", "password": Path(password_file).read_text().strip()} if as_root else {}
    return etcd3.client(
        host=address,
        port=2379,
        ca_cert=os.environ.get("ETCDKIT_TEST_CA", str(PKI / "ca.crt")),
        cert_cert=os.environ.get("ETCDKIT_TEST_CERT", str(PKI / "etcd" / "admin.crt")),
        cert_key=os.environ.get("ETCDKIT_TEST_KEY", str(PKI / "etcd" / "admin.key")),
        timeout=timeout,
        **login,
    )


def put(address: str, key: str, value: str) -> None:
    client(address).put(key, value)


def get_error(address: str, key: str, as_root: bool) -> str:
    """Why a get of the key fails ("" when it does not)."""
    try:
        client(address, as_root=as_root).get(key)
    except Exception as error:
        return str(error) or type(error).__name__
    return ""


def fill(address: str, prefix: str, value_bytes: int, keys: int, most: int) -> str:
    """Overwrite `keys` keys under prefix with random values of value_bytes, at most `most` times, through
    one client (one login) until etcd refuses a write; its error ("" if it never did)."""
    etcd = client(address, timeout=10)
    value = os.urandom(value_bytes)
    for number in range(most):
        try:
            etcd.put(f"{prefix}{number % keys}", value)
        except Exception as error:
            return str(error) or type(error).__name__
    return ""


def in_child(function, *args, timeout: float = 60):
    """function(*args) in a spawned process (where gRPC may run), and its result. A plain process
    and a pipe, no pool: a pool waits on threads, which block for ever once a test of the session
    has loaded pyinfra's CLI (gevent patches threading then)."""
    receive, send = _spawn.Pipe(duplex=False)
    child = _spawn.Process(target=_answer, args=(send, function, args), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(timeout):
            raise TimeoutError(f"{function.__name__} took more than {timeout} s")
        ok, value = receive.recv()
    finally:
        child.kill()
        child.join(timeout=10)
    if not ok:
        raise value
    return value


def _answer(send, function, args) -> None:
    try:
        send.send((True, function(*args)))
    except Exception as error:
        send.send((False, error))


@dataclass
class Counts:
    acknowledged: int
    failed: int
    lost: int
    longest_stall: float  # seconds between two consecutive acknowledged writes, at most


def longest_stall(times: list[float]) -> float:
    """The longest gap between consecutive acknowledgements (their times in order): how long
    clients could not write at all. 0 with fewer than two."""
    return max((later - earlier for earlier, later in zip(times, times[1:], strict=False)), default=0.0)


def acknowledgements(path: Path) -> list[tuple[int, float]]:
    """(number, monotonic time) of each acknowledged write the writer has recorded in path, in order;
    a line still being written (no newline yet) is left out."""
    text = path.read_text() if path.exists() else ""
    return [(int(number), float(at)) for number, at in (line.split() for line in text.split("\n")[:-1])]


class Writer:
    """Writes PREFIX<n> = n, one key every `pause` seconds, round-robin over `addresses` (which a
    test updates as members come and go); a failed write moves on to the next endpoint."""

    def __init__(self, addresses: list[str], pause: float = 0.02):
        self._folder = Path(tempfile.mkdtemp(prefix="etcdkit-writer-"))
        self.addresses = addresses
        self._stop = _spawn.Event()
        self._process = _spawn.Process(target=_write, args=(str(self._folder), pause, self._stop), daemon=True)

    @property
    def addresses(self) -> list[str]:
        return json.loads((self._folder / "addresses").read_text())

    @addresses.setter
    def addresses(self, addresses: list[str]) -> None:
        (self._folder / "addresses.new").write_text(json.dumps(list(addresses)))
        (self._folder / "addresses.new").replace(self._folder / "addresses")

    def __enter__(self) -> "Writer":
        self._process.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._process.join(timeout=30)

    def acknowledged(self) -> set[int]:
        """The numbers of the writes the cluster acknowledged so far."""
        return {number for number, _ in acknowledgements(self._folder / "acknowledged")}

    def counts(self, reader: str) -> Counts:
        """Read every key back through `reader` (etcdctl, a linearizable read) and count the
        acknowledged ones missing. Only writes acknowledged before the read began must be in it."""
        recorded = acknowledgements(self._folder / "acknowledged")
        acknowledged = {number for number, _ in recorded}
        failed = len(_lines(self._folder / "failed"))
        keys = etcdctl(reader, f"get {PREFIX} --prefix --keys-only").stdout.split()
        stored = {int(key[len(PREFIX) :]) for key in keys if key.startswith(PREFIX)}
        return Counts(len(acknowledged), failed, len(acknowledged - stored), longest_stall([at for _, at in recorded]))


def _lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def _write(folder: str, pause: float, stop) -> None:
    """The writer process: acknowledged numbers (with their monotonic time, the same clock in every
    process) and failed numbers are appended to files as they happen."""
    folder_path, clients, number = Path(folder), {}, 0
    with open(folder_path / "acknowledged", "a") as acknowledged, open(folder_path / "failed", "a") as failed:
        while not stop.is_set():
            number += 1
            addresses = json.loads((folder_path / "addresses").read_text())
            address = addresses[number % len(addresses)]
            try:
                if address not in clients:
                    clients[address] = client(address)
                clients[address].put(f"{PREFIX}{number:08d}", str(number))
                acknowledged.write(f"{number} {time.monotonic()}\n")
                acknowledged.flush()
            except Exception:
                failed.write(f"{number}\n")
                failed.flush()
                clients.pop(address, None)
            time.sleep(pause)
