"""Uploads of what the control node holds: certificates, keys and passwords.

pyinfra's files.put reads its source when the deploy is prepared and prints file contents with
--diff. These files are written by the run's control-node operation only when the run executes
(etcdkit.operations.control), and some are secrets: so the source is read when the operation
runs, travels through a 0600 temporary file and is never printed.
"""

import hashlib
from pathlib import Path

from pyinfra import host, state
from pyinfra.api import FunctionCommand, OperationError, operation
from pyinfra.facts.files import File, Sha256File
from pyinfra.operations import files as pyinfra_files

from etcdkit.control.passwords import Secret
from etcdkit.model.run import run_context
from etcdkit.operations import known, on_host
from etcdkit.remote import files
from etcdkit.remote.shell import announce

Source = str | Path | Secret


def control_node_rewrites(state, written: set[Path]) -> None:
    """Record, while the run is prepared, the files the control node writes when it executes: an
    upload of one of them is shown as a change, whatever its current content."""
    run_context(state).control_rewrites.update(written)


def read_source(source: Source) -> str | None:
    """The content of a source now: None when the control node has not written it yet."""
    if isinstance(source, Secret):
        return source.read()
    if isinstance(source, Path):
        return source.read_text() if source.exists() else None
    return source


def private_upload(source: bytes | Path | Secret, dest: str) -> list:
    """The command that uploads source (the content, a control-node file or a password, read when
    it runs: its value is never an argument of the command) to dest, readable by nobody else at
    any moment and never through a temporary name another user can foresee (on_host.install)."""
    return [FunctionCommand(_install, (source, dest), {})]


def _install(source: bytes | Path | Secret, dest: str) -> None:
    if isinstance(source, Secret):
        value = source.read()
        if value is None:
            raise OperationError(f"{source} was not written on the control node: nothing to upload to {dest}")
        source = value.encode()
    on_host.install(source, dest)


def _path(source: Path | Secret) -> Path:
    return source.path if isinstance(source, Secret) else source


@operation()
def upload(source: Source, dest: str, user: str, group: str, mode: str):
    """
    Upload a file whose content is a string, a control-node file or a password: never readable by
    others on the host, even during the upload, and never printed.

    + source: the content, a control-node file, or a Secret
    + dest: remote path
    + user, group, mode: final owner and permissions
    """
    content = read_source(source)
    if not state.is_executing and isinstance(source, Path | Secret) and _path(source) in run_context(state).control_rewrites:
        content = None
    if content is None:
        if state.is_executing:
            raise OperationError(f"{source} was not written on the control node: nothing to upload to {dest}")
        yield announce(f"{dest} gets a file the control node writes when the run executes")
        return
    data = content.encode()
    digest = hashlib.sha256(data).hexdigest()
    if known.holds_file(dest, digest, user, group, mode):
        host.noop(f"{dest} is up to date")
        return
    current = host.get_fact(File, path=dest)
    same_content = host.get_fact(Sha256File, path=dest) == digest
    if same_content and current and (current["user"], current["group"], current["mode"]) == (user, group, int(mode)):
        host.noop(f"{dest} is up to date")
        return
    if not same_content:
        yield from private_upload(source if isinstance(source, Path | Secret) else data, dest)
    yield files.owner_and_mode(dest, user, group, mode)


@operation()
def folder(path: str, user: str, group: str, mode: str):
    """
    A folder with this owner and mode: pyinfra's files.directory, unless the plan found it so.

    + path: remote path
    + user, group, mode: its owner and permissions
    """
    if known.holds_folder(path, user, group, mode):
        host.noop(f"{path} is a folder of {user}:{group}, mode {mode}")
        return
    yield from pyinfra_files.directory._inner(path=path, user=user, group=group, mode=mode)
