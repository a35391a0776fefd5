"""Run a SOP of etcdkit.sops in-process, through pyinfra's own API, on hosts whose facts come from
the test: no SSH, no lab, a second or less per run.

    run = SopRun("create", {"10.10.10.10": Machine({EtcdHost: bare(), ...}), ...})
    run.prepare()                    # the deploy functions of every host, as `pyinfra INVENTORY sop` does
    run.ops("10.10.10.10")           # [Op(name, serial, guarded), ...] in the run's order
    run.execute()                    # the run, commands answered by `answers` (default: success)

Hosts are pyinfra's @fake hosts named by their address (the member address comes from `ssh_hostname`).
A fact the test gives is matched by class and keyword arguments (`fact(cls, **kwargs)`), else by class
alone (a function of the run is called with it: `lambda run: after if run.ran("member remove") else before`); pyinfra's file facts and Which are answered from the Machine's files, folders and commands; any
other fact reads as its default and is recorded in `defaulted`, so a test can see what it did not give.
"""

import atexit
import functools
import hashlib
import re
import shutil
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from importlib import import_module
from pathlib import Path

import pyinfra
from etcdkit.facts.etcd import EtcdAuth, EtcdCluster, EtcdClusterAuth, EtcdHost, EtcdMembership, EtcdService, EtcdVersion, HostFiles
from pyinfra.api import Config, Inventory, State
from pyinfra.api.connect import connect_all
from pyinfra.api.exceptions import DeployError, PyinfraError
from pyinfra.api.facts import ShortFactBase
from pyinfra.api.host import Host
from pyinfra.api.operations import run_ops
from pyinfra.api.state import StateStage
from pyinfra.api.util import PYINFRA_INSTALL_DIR
from pyinfra.connectors.fake import FakeConnector
from pyinfra.context import ctx_config, ctx_host, ctx_inventory, ctx_state
from pyinfra.facts.files import Directory, File, Md5File, Sha1File, Sha256File
from pyinfra.facts.server import Which

from etcdkit import sops
from etcdkit.model import paths
from etcdkit.model.auth import AuthState
from etcdkit.model.cluster import ClusterView
from etcdkit.model.host import EtcdHostState, EtcdServiceState, FileStat
from etcdkit.remote.host import MANAGED_FILES
from tests.unit import plans_data
from tests.unit.fake_host import Changing, _frozen

FAKE = "@fake/"
operation = import_module("pyinfra.api.operation")  # the module (pyinfra.api.operation is also its decorator's name)


@dataclass(frozen=True)
class Op:
    """One operation of a host, as the run orders it."""

    name: str
    serial: bool  # _serial: host by host
    guarded: bool  # an _if condition decides at execution whether it runs
    changes: bool | None  # what the preview says: it would change something (None: not checked)

    def __str__(self) -> str:
        return self.name + (" [serial]" if self.serial else "") + (" [if]" if self.guarded else "")


@dataclass
class Machine:
    """What a host holds, for the facts pyinfra's file and server operations read: files (path ->
    (content, user, group, mode)), folders (path -> (user, group, mode)) and commands on its PATH.
    Other facts are given by class (and keyword arguments) in `facts`."""

    facts: dict = field(default_factory=dict)
    files: dict[str, tuple[str, str, str, int]] = field(default_factory=dict)
    folders: dict[str, tuple[str, str, int]] = field(default_factory=lambda: dict(DEBIAN_FOLDERS))
    commands: dict[str, str] = field(default_factory=lambda: {"apt": "/usr/bin/apt", "apt-get": "/usr/bin/apt-get"})

    def answer(self, cls, kwargs: dict):
        """The value of a file or server fact, or NOT_HELD."""
        path = kwargs.get("path")
        if cls is File and path in self.files:
            _, user, group, mode = self.files[path]
            return {"user": user, "group": group, "mode": mode, "size": len(self.files[path][0])}
        if cls in HASHES and path in self.files:
            return HASHES[cls](self.files[path][0].encode()).hexdigest()
        if cls is Directory and path in self.folders:
            user, group, mode = self.folders[path]
            return {"user": user, "group": group, "mode": mode}
        if cls is HostFiles:
            return self.file_states(kwargs["paths"])
        if cls is Which:
            return self.commands.get(kwargs["command"])
        if cls in (File, Directory, *HASHES):
            return None
        return NOT_HELD

    def file_states(self, asked) -> EtcdHostState:
        """What the HostFiles fact reports of these paths."""
        found = {path: FileStat(user, group, mode, "regular file") for path, (_, user, group, mode) in self.files.items()}
        found.update({path: FileStat(user, group, mode, "directory") for path, (user, group, mode) in self.folders.items()})
        sha256 = {path: hashlib.sha256(self.files[path][0].encode()).hexdigest() for path in asked if path in self.files}
        return EtcdHostState(sha256=sha256, files={path: found.get(path) for path in asked})


NOT_HELD = object()
# what mktemp prints for etcdkit's private temporary files (etcdkit.operations.on_host.private_temporary)
MKTEMP = {re.compile(r'mktemp (-d )?"\$\{TMPDIR:-/tmp\}/etcdkit\.X+"'): "/tmp/etcdkit.fake0123"}
DEBIAN_FOLDERS = {"/etc/profile.d": ("root", "root", 755), "/etc/systemd/system": ("root", "root", 755)}
HASHES = {Md5File: hashlib.md5, Sha1File: hashlib.sha1, Sha256File: hashlib.sha256}


class SopRun:
    """One run of a SOP on fake hosts (see the module's docstring)."""

    def __init__(
        self,
        sop: str,
        facts: dict[str, dict],
        members: list[str] | None = None,
        group_data: dict | None = None,
        host_data: dict[str, dict] | None = None,
        groups: dict[str, list[str]] | None = None,
        data: dict | None = None,
        limit: list[str] | None = None,
        answers: dict | None = None,
        downloads: dict[str, bytes] | None = None,
    ):
        """facts: address -> {fact class or fact(cls, **kwargs): value}; members: the addresses of
        group etcd (default: every host, etcd_seq in order); data: --data overrides; answers: command
        matcher (substring or re.Pattern) -> stdout or {"stdout", "stderr", "success"} (pyinfra's
        fake connector; one host's own in host_data[address]["fake_responses"], tried first); downloads:
        the content a download of a remote path that contains the key gets (any other download fails)."""
        self.sop = sop
        self.machines = {address: machine if isinstance(machine, Machine) else Machine(machine) for address, machine in facts.items()}
        self.facts = {address: {_key(key): value for key, value in m.facts.items()} for address, m in self.machines.items()}
        self.defaulted: list[tuple[str, str]] = []
        self.asked: list[tuple[str, str]] = []  # (address, fact class) of every fact read, in order
        self.downloads = downloads or {}
        self.error: PyinfraError | None = None  # a refusal while prepared, or no host left while executed
        members = list(facts) if members is None else members
        host_data = host_data or {}

        def host(address: str) -> tuple[str, dict]:
            extra = {"etcd_seq": members.index(address) + 1} if address in members else {}
            own = dict(host_data.get(address, {}))
            responses = {**own.pop("fake_responses", {}), **MKTEMP, **(answers or {})}  # a host's own answers first
            data = {"ssh_hostname": address, "fake_delay": 0, "fake_delay_jitter": 0, "fake_responses": responses}
            return FAKE + address, {**data, **extra, **own}

        all_hosts = [host(address) for address in facts]
        group_lists = {"etcd": (members, group_data or {})}
        for name, addresses in (groups or {}).items():
            group_lists[name] = (addresses, {})
        self.inventory = Inventory(
            (all_hosts, {}),
            override_data=data or {},
            **{name: ([FAKE + a for a in addresses], group) for name, (addresses, group) in group_lists.items()},
        )
        self.state = State(self.inventory, Config())
        if limit is not None:
            self.state.limit_hosts = [self.inventory.get_host(FAKE + address) for address in limit]

    # facts

    def _fact(self, host: Host, cls, kwargs: dict):
        self.asked.append((host.name.removeprefix(FAKE), cls.__name__))
        return self._answer(host, cls, kwargs)

    def _answer(self, host: Host, cls, kwargs: dict):
        address = host.name.removeprefix(FAKE)
        known = self.facts.get(address, {})
        if issubclass(cls, ShortFactBase):
            return cls().process_data(self._fact(host, cls.fact, kwargs))
        if cls is EtcdClusterAuth and not {(cls, _frozen(kwargs)), (cls, ())} & set(known):
            # the view and, where it answers, the host's EtcdAuth, each given by class
            view = self._answer(host, EtcdCluster, kwargs)
            return view, (self._answer(host, EtcdAuth, kwargs) if view is not None else None)
        for key in ((cls, _frozen(kwargs)), (cls, ())):
            if key in known:
                value = known[key]
                if isinstance(value, Changing):
                    return value.next()
                return value(self) if callable(value) and not isinstance(value, type) else value
        held = self.machines[address].answer(cls, kwargs) if address in self.machines else NOT_HELD
        if held is not NOT_HELD:
            return held
        self.defaulted.append((address, cls.__name__))
        return cls().default()

    # the run

    @contextmanager
    def _as_cli(self, stage: StateStage):
        """pyinfra as its CLI runs (operations ordered by the deploy code's lines), facts from the test."""
        run = self

        def get_fact(host, cls, *args, **kwargs):
            return run._fact(host, cls, kwargs)

        def get_file(connector, remote_filename, filename_or_io, *args, **kwargs) -> bool:
            content = next((data for key, data in run.downloads.items() if key in remote_filename), None)
            if content is None:
                return False
            Path(filename_or_io).write_bytes(content)
            return True

        saved = Host.get_fact, pyinfra.is_cli, operation.get_operation_order_from_stack, FakeConnector.get_file
        Host.get_fact, pyinfra.is_cli, operation.get_operation_order_from_stack, FakeConnector.get_file = (
            get_fact,
            True,
            _operation_order,
            get_file,
        )
        self.state.set_stage(stage)
        try:
            with ctx_state.use(self.state), ctx_inventory.use(self.inventory):
                yield
        finally:
            Host.get_fact, pyinfra.is_cli, operation.get_operation_order_from_stack, FakeConnector.get_file = saved

    def prepare(self) -> "SopRun":
        """Every host's deploy function, as pyinfra's CLI loads a deploy file: the plan and the
        operations; a refusal (DeployError) is kept in `error`."""
        connect_all(self.state)
        with self._as_cli(StateStage.Prepare):
            try:
                for host in self.state.inventory.get_active_hosts():
                    with ctx_config.use(self.state.config.copy()), ctx_host.use(host):
                        getattr(sops, self.sop)()
            except DeployError as error:
                self.error = error
        return self

    def execute(self) -> "SopRun":
        """The prepared run executed: callbacks run, shell commands are answered by `answers`."""
        with self._as_cli(StateStage.Execute):
            self.state.is_executing = True
            try:
                run_ops(self.state)
            except PyinfraError as error:  # every host of the run failed
                self.error = error
        return self

    # what it did

    def host(self, address: str) -> Host:
        return self.inventory.get_host(FAKE + address)

    def _op(self, op_hash: str, host: Host) -> Op:
        meta, data = self.state.op_meta[op_hash], self.state.ops[host][op_hash]
        return Op(
            " | ".join(sorted(meta.names)),
            bool(meta.global_arguments.get("_serial")),
            bool(data.global_arguments.get("_if")),
            data.operation_meta._maybe_is_change,
        )

    def ops(self, address: str) -> list[Op]:
        host = self.host(address)
        return [self._op(op_hash, host) for op_hash in self.state.get_op_order() if op_hash in self.state.ops[host]]

    def order(self) -> list[str]:
        """Every operation of the run, once, in the order pyinfra executes them (each on every host
        that has it before the next one starts)."""
        return [
            str(next(self._op(op_hash, host) for host in self.inventory if op_hash in self.state.ops[host]))
            for op_hash in self.state.get_op_order()
        ]

    def names(self, address: str) -> list[str]:
        return [str(op) for op in self.ops(address)]

    def changes(self, address: str) -> list[str]:
        """The operations the preview shows as changes on the host (a guarded one is shown whatever
        its guard will say: pyinfra evaluates `_if` only when the run executes)."""
        return [str(op) for op in self.ops(address) if op.changes]

    def commands(self, address: str) -> list[str]:
        """The shell commands the execution ran on the host (masked as pyinfra prints them)."""
        return list(self.host(address).connector.executed_commands)

    def ran(self, text: str) -> bool:
        """Whether a command containing text ran on any host (a fact can depend on it: a value
        that is a function of the run is called with the run each time it is read)."""
        return any(text in command for host in self.inventory for command in getattr(host.connector, "executed_commands", []))

    def failed(self) -> set[str]:
        return {host.name.removeprefix(FAKE) for host in self.state.failed_hosts}


def _operation_order(state) -> list[int]:
    """pyinfra's get_operation_order_from_stack (the line numbers of the deploy code's call stack,
    pyinfra's own frames left out), without inspect.stack(), which reads every frame's source file:
    the same order, in a tenth of the time."""
    frames = []
    frame = sys._getframe(1)
    while frame is not None:
        frames.append((frame.f_code.co_filename, frame.f_lineno))
        frame = frame.f_back
    frames.reverse()
    start = next((i for i, (name, _) in enumerate(frames) if name == state.current_deploy_filename), 0)
    return [state.current_op_file_number] + [line for name, line in frames[start:] if not name.startswith(PYINFRA_INSTALL_DIR)]


def _key(key):
    return key if isinstance(key, tuple) else (key, ())


def matching(pattern: str, names: list[str]) -> list[str]:
    return [name for name in names if re.search(pattern, name)]


def pki(tmp_path: Path) -> dict:
    """Group data that keeps the control node's files in the test's folder."""
    return {"etcd_pki_dir": str(tmp_path / "pki"), "etcd_backup_dir": str(tmp_path / "backups")}


def created(tmp_path: Path) -> None:
    """The control node's files after the create of members 1-3 (the CA, the members' certificates and
    the passwords) in the test's folder, where pki(tmp_path) keeps them: one create per test session
    makes them, each test gets its own copy."""
    shutil.copytree(_created_once() / "pki", tmp_path / "pki")


@functools.cache
def _created_once() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="etcdkit-created-"))
    atexit.register(shutil.rmtree, folder, True)
    addresses = [plans_data.address(seq) for seq in (1, 2, 3)]
    run = SopRun("create", {address: bare_machine() for address in addresses}, group_data=pki(folder)).prepare().execute()
    assert run.error is None and run.failed() == set(), run.error
    return folder


# Hosts as the tests of the SOPs need them, on the lab's addresses (member seq at 10.10.10.<9+seq>)


def bare_machine() -> Machine:
    """A Debian host without etcd."""
    return Machine(
        {
            EtcdHost: plans_data.bare(),
            EtcdService: EtcdService().process(["inactive", "not-found", "0", "0"]),
            EtcdVersion: None,
        }
    )


def member_machine(inv: plans_data.Inventory, seq: int, *, running: bool = True, pending: int = 0, **files) -> Machine:
    """Member seq of inv exactly as create leaves it: its rendered files (plans_data's token), the
    control node's CA, certificate, key and root password (the PKI folder must hold them), etcd
    running (or stopped) and enabled; pending: the MainPID a restart was recorded for (0: none)."""
    rendered = inv.files(seq, **files)
    folder = inv.pki_dir / inv.spec.cluster
    name = inv.member(seq).name
    sources = {
        paths.CA: inv.pki_dir / "ca.crt",
        paths.CERT: folder / f"{name}.crt",
        paths.KEY: folder / f"{name}.key",
        paths.PASS: folder / "root.password",
    }
    contents = {**rendered, **{path: source.read_text() for path, source in sources.items()}}
    held = {path: (text, *paths.OWNERS[path][:2], int(paths.OWNERS[path][2])) for path, text in contents.items()}
    pid = 2671 if running else 0
    folders = {**DEBIAN_FOLDERS, paths.CONF_DIR: ("root", "etcd", 750), inv.settings.etcd_data: ("etcd", "etcd", 700)}
    state = inv.ours(seq, running=running, ca_pem=contents[paths.CA], root=contents[paths.PASS], **files)
    state = replace(
        state,
        sha256={path: plans_data.sha256(text) for path, text in contents.items()},
        files=stats(held, folders, inv.settings),
        pems={path: contents[path] for path in (paths.CERT, paths.CA)},
        restart_pending=pending,
    )
    return Machine(
        {
            EtcdHost: state,
            EtcdService: EtcdServiceState("active" if running else "inactive", "enabled", pid, pending),
            EtcdVersion: "3.5.16",
            EtcdAuth: AuthState(root=True),
        },
        files=held,
        folders=folders,
        commands={"apt-get": "/usr/bin/apt-get", "etcdutl": "/usr/bin/etcdutl"},  # Debian's etcd-client 3.5 has etcdutl
    )


def stats(held: dict, folders: dict, settings) -> dict[str, FileStat | None]:
    """What the EtcdHost fact reports of the paths it is asked about, on a host with these files and folders."""
    found = {path: FileStat(user, group, mode, "regular file") for path, (_, user, group, mode) in held.items()}
    found.update({path: FileStat(user, group, mode, "directory") for path, (user, group, mode) in folders.items()})
    also = (f"{settings.etcd_backup_metric_dir}/{paths.BACKUP_METRIC}", settings.etcd_backup_dir_remote)
    return {path: found.get(path) for path in (paths.CONF_DIR, settings.etcd_data, *MANAGED_FILES, *also)}


def with_view(machines: dict[str, Machine], live: ClusterView) -> dict[str, Machine]:
    """Every running member answers the member list with this view."""
    for machine in machines.values():
        machine.facts.setdefault(EtcdCluster, live)
        machine.facts.setdefault(EtcdMembership, live)
    return machines
