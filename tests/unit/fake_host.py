"""A host with canned facts, to run etcdkit's operations without connecting anywhere.

An operation (a function decorated with pyinfra's @operation) keeps its plain generator as
`operation._inner`; it reads `pyinfra.host` and `pyinfra.state`, which are context objects. `run`
sets them to a FakeHost and a FakeState, drains the generator and returns the commands it yielded,
strings turned into StringCommands as pyinfra does.

Facts are keyed by fact class and the keyword arguments the operation passes them with:

    host = FakeHost({EtcdVersion: None, fact(Which, command="apt-get"): "/usr/bin/apt-get"})

A fact the test did not give fails the test (MissingFact): an operation that asks for something
unexpected, or with other arguments, shows up instead of silently reading None. Keyword names are
checked against the fact's `command` signature, so a misspelt argument fails too.
"""

import hashlib
import inspect
import re
import shlex
from contextlib import contextmanager
from io import BytesIO, StringIO

from pyinfra.api import FileDownloadCommand, FileUploadCommand, FunctionCommand, StringCommand
from pyinfra.connectors.util import CommandOutput, OutputLine
from pyinfra.context import ctx_host, ctx_state


class MissingFact(AssertionError):
    """The operation asked for a fact the test did not provide."""


def _frozen(value):
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(item) for item in value)
    return value


def fact(fact_cls, **kwargs):
    """The key of a fact asked for with these keyword arguments."""
    return (fact_cls, _frozen(kwargs))


def _key(key):
    return key if isinstance(key, tuple) else fact(key)


def _name(key) -> str:
    fact_cls, kwargs = key
    return f"{fact_cls.__name__}({', '.join(f'{name}={value!r}' for name, value in kwargs)})"


class Changing:
    """A fact whose value changes each time it is read (the last one stays): a polled cluster."""

    def __init__(self, *values):
        self.values = list(values)

    def next(self):
        return self.values.pop(0) if len(self.values) > 1 else self.values[0]


class FakeState:
    """What operations read of pyinfra's state: whether the run is executing (False: preparing)."""

    def __init__(self, is_executing: bool = False):
        self.is_executing = is_executing
        self.ops: dict = {}  # no operation of the run has run on any host


class FakeHost:
    """
    + facts: {fact class or fact(cls, **kwargs): value}
    Records the facts asked for (`asked`, in order) and the noop messages (`noops`).
    """

    def __init__(self, facts: dict | None = None, name: str = "10.10.10.10", shell=None, files: dict | None = None):
        self.name = name
        self.data = {}
        self.facts = {}
        self.asked: list[tuple] = []
        self.noops: list[str] = []
        self.commands: list[str] = []  # what callbacks ran with run_shell_command, in order
        self.privileged: list[str] = []  # those of them (and of the file transfers) run with _sudo
        self.current_op_global_arguments: dict | None = None  # the running operation's (_sudo: the --sudo flag)
        self.shell = shell or (lambda command: (True, "", ""))  # command -> (ok, stdout, stderr)
        self.files = files or {}  # remote path -> bytes, for get_file
        self.uploads: dict[str, bytes] = {}  # what callbacks uploaded with put_file
        self.temporaries: list[str] = []  # what mktemp made, in order
        self.run_state = FakeState()  # the run this host is in: one state, preparing or executing
        self._unnamed = 0
        for key, value in (facts or {}).items():
            self.facts[_key(key)] = value

    def set(self, fact_cls, value, **kwargs) -> "FakeHost":
        self.facts[fact(fact_cls, **kwargs)] = value
        return self

    def get_fact(self, fact_cls, *args, **kwargs):
        if args:
            raise TypeError(f"{fact_cls.__name__}: pass fact arguments by keyword, as etcdkit does")
        accepted = inspect.signature(fact_cls.command).parameters
        unknown = set(kwargs) - set(accepted)
        if unknown:
            raise TypeError(f"{fact_cls.__name__}.command takes no {', '.join(sorted(unknown))}")
        key = fact(fact_cls, **kwargs)
        self.asked.append(key)
        if key not in self.facts:
            given = "\n  ".join(_name(known) for known in self.facts) or "(none)"
            raise MissingFact(f"the test gives no fact {_name(key)}; it gives:\n  {given}")
        value = self.facts[key]
        return value.next() if isinstance(value, Changing) else value

    def run_shell_command(self, command, print_output: bool = False, **arguments):
        text = command.get_raw_value() if isinstance(command, StringCommand) else str(command)
        self.commands.append(text)
        if arguments.get("_sudo"):
            self.privileged.append(text)
        if text.startswith("mktemp "):  # as mktemp does: a new name each time
            self.temporaries.append(f"/tmp/etcdkit.{'dir' if ' -d ' in f' {text} ' else 'file'}{len(self.temporaries) + 1}")
            ok, stdout, stderr = True, self.temporaries[-1], ""
        else:
            ok, stdout, stderr = self.shell(text)
        lines = [OutputLine("stdout", line) for line in stdout.splitlines()] + [OutputLine("stderr", line) for line in stderr.splitlines()]
        return ok, CommandOutput(lines)

    def put_file(self, source, remote: str, print_output: bool = False, **arguments) -> bool:
        # etcdkit's callbacks upload from memory, or a control-node file by its path
        if isinstance(source, str):
            with open(source, "rb") as file:
                self.uploads[remote] = file.read()
        else:
            self.uploads[remote] = source.getvalue()
        if arguments.get("_sudo"):
            self.privileged.append(f"put {remote}")
        return True

    def get_file(self, remote: str, local: str, remote_temp_filename: str | None = None, print_output: bool = False, **arguments) -> bool:
        if arguments.get("_sudo"):
            self.privileged.append(f"get {remote} through {remote_temp_filename}")
        if remote not in self.files:
            return False
        with open(local, "wb") as file:
            file.write(self.files[remote])
        return True

    def installed(self) -> dict[str, bytes]:
        """What callbacks wrote with etcdkit.operations.on_host.install, by destination: each went
        through a private temporary file of the SSH user, then `cat -- TEMPORARY > DEST`."""
        found = {}
        for text in self.commands:
            for temporary, dest in re.findall(r"&& cat -- (\S+) > ([^;&]+)", text):
                found[shlex.split(dest)[0]] = self.uploads[temporary]
        return found

    def asked_for(self, fact_cls) -> list[dict]:
        """The keyword arguments of each time the fact was asked for."""
        return [dict(kwargs) for cls, kwargs in self.asked if cls is fact_cls]

    def noop(self, description: str) -> None:
        self.noops.append(description)

    def get_temp_filename(self, hash_key: str | None = None, hash_filename: bool = True, *, temp_directory: str | None = None):
        # As pyinfra names them: stable for a key, so a test can say which file a command uses.
        if not hash_key:
            self._unnamed += 1
            hash_key = f"unnamed-{self._unnamed}"
        key = hash_key
        if hash_filename:
            key = hashlib.sha1(key.encode()).hexdigest()
        return f"{temp_directory or '/tmp'}/pyinfra-{key}"


@contextmanager
def active(host: FakeHost, executing: bool = False):
    """pyinfra.host and pyinfra.state are the fake ones inside the block (for stepping a generator)."""
    host.run_state.is_executing = executing
    with ctx_state.use(host.run_state), ctx_host.use(host):
        yield


def _command(command):
    return StringCommand(command.strip()) if isinstance(command, str) else command


def steps(operation, *args, **kwargs):
    """The operation's commands one at a time (iterate it inside `active`)."""
    for command in operation._inner(*args, **kwargs):
        yield _command(command)


def run(operation, *args, host: FakeHost, executing: bool = False, **kwargs) -> list:
    """All the commands the operation yields on this host, prepared (default) or executing."""
    with active(host, executing):
        return list(steps(operation, *args, **kwargs))


def call(command: FunctionCommand, host: FakeHost):
    """Run a callback the way pyinfra runs it when the run executes: on the control node, with
    pyinfra.host the host of the operation."""
    with active(host, executing=True):
        return command.function(*command.args, **command.kwargs)


def shell(commands) -> list[str]:
    """The text of the shell commands, as they would run."""
    return [command.get_raw_value() for command in commands if isinstance(command, StringCommand)]


def describe(command) -> str:
    """One line per command kind, for comparing whole command lists."""
    if isinstance(command, StringCommand):
        return command.get_raw_value()
    if isinstance(command, FileUploadCommand):
        return f"upload {command.dest}"
    if isinstance(command, FileDownloadCommand):
        return f"download {command.src} {command.dest}"
    if isinstance(command, FunctionCommand):
        return f"call {getattr(command.function, '__name__', command.function)}"
    raise TypeError(f"not a pyinfra command: {command!r}")


def body(upload: FileUploadCommand) -> str:
    """What an upload sends: the in-memory content, or the control-node file's."""
    src = upload.src
    if isinstance(src, (BytesIO, StringIO)):
        data = src.getvalue()
        return data.decode() if isinstance(data, bytes) else data
    with open(src) as file:
        return file.read()
