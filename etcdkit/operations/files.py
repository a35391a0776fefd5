"""Uploads of what the control node holds: certificates, keys and passwords.

pyinfra's files.put reads its source when the deploy is prepared and prints file contents with
--diff. These files are written by the run's control-node operation only when the run executes
(etcdkit.operations.control), and some are secrets: so the source is read when the operation
runs, travels through a 0600 temporary file and is never printed.
"""

import hashlib
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from pyinfra import host, state
from pyinfra.api import FunctionCommand, OperationError, operation
from pyinfra.facts.files import File, Sha256File
from pyinfra.operations import files as pyinfra_files

from etcdkit.control.passwords import Secret
from etcdkit.facts.etcd import HostFiles
from etcdkit.model.host import EtcdHostState
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
    on_host.install(_readable(source, dest), dest)


def _readable(source: bytes | Path | Secret, dest: str) -> bytes | Path:
    """What an upload's callback sends: a password read now (an error when it was never written)."""
    if not isinstance(source, Secret):
        return source
    value = source.read()
    if value is None:
        raise OperationError(f"{source} was not written on the control node: nothing to upload to {dest}")
    return value.encode()


def _content(source: Source, dest: str) -> str | None:
    """The content an upload wants at dest. None while the run is prepared: the control node has not
    written it yet, or rewrites it when the run executes (shown as a change whatever the host holds).
    Once the run executes, a source never written stops the operation."""
    content = read_source(source)
    if not state.is_executing and isinstance(source, Path | Secret) and _path(source) in run_context(state).control_rewrites:
        content = None
    if content is None and state.is_executing:
        raise OperationError(f"{source} was not written on the control node: nothing to upload to {dest}")
    return content


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
    content = _content(source, dest)
    if content is None:
        yield announce(f"{dest} gets a file the control node writes when the run executes")
        return
    data = content.encode()
    digest = _digest(content)
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


@dataclass(frozen=True)
class Item:
    """A file (its source: the content, a control-node file or a password) or a folder (no source)
    that put_all makes with this owner and mode."""

    path: str
    user: str
    group: str
    mode: str
    source: Source | None = field(default=None, repr=False)


@operation()
def put_all(items: tuple[Item, ...]):
    """
    Folders and files, each as `folder` and `upload` make them, in one operation: decided from one
    reading of the host (the plan's when it shows them all as wanted, else the HostFiles fact); the
    contents that differ travel in one transfer through a private temporary folder and are written
    by one command, and one more sets owners and modes.

    + items: the folders and files, folders first
    """
    wanted = {item.path: None if item.source is None else _content(item.source, item.path) for item in items}
    found = known.host_state()
    if found is None or _changes(items, wanted, found):
        found = host.get_fact(HostFiles, paths=tuple(item.path for item in items))
    changed = _changes(items, wanted, found)
    if not changed:
        host.noop(f"{', '.join(wanted)} are up to date")
        return
    missing = [item.path for item in changed if item.source is None and found.files.get(item.path) is None]
    if missing:
        yield files.folders(*missing)
    sent = [
        item
        for item in changed
        if item.source is not None and wanted[item.path] is not None and not _same(found, item.path, wanted[item.path])
    ]
    if sent:
        yield FunctionCommand(_install_all, ([(_send(item.source, wanted[item.path]), item.path) for item in sent],), {})
    for item in changed:
        if item.source is not None and wanted[item.path] is None:
            yield announce(f"{item.path} gets a file the control node writes when the run executes")
    yield files.owners_and_modes([(item.path, item.user, item.group, item.mode) for item in changed])


def _changes(items: tuple[Item, ...], wanted: dict[str, str | None], found: EtcdHostState) -> list[Item]:
    """The items the host does not hold as wanted: a folder that is no folder of that owner and mode,
    a file whose content, owner or mode differs (or whose content the control node writes later).
    A path of another kind stops the operation: nothing is written through a link or over a folder."""
    changes = []
    for item in items:
        stat = found.files.get(item.path)
        kind = "directory" if item.source is None else "file"
        if stat is not None and not stat.of_kind(kind):
            raise OperationError(
                f"{item.path} is a {stat.kind} on {host.name}, not a {'folder' if kind == 'directory' else 'file'}: move it away"
            )
        content = wanted[item.path]
        if item.source is None:
            held = found.holds_folder(item.path, item.user, item.group, item.mode)
        else:
            held = content is not None and found.holds_file(item.path, _digest(content), item.user, item.group, item.mode)
        if not held:
            changes.append(item)
    return changes


def _digest(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()


def _same(found: EtcdHostState, path: str, content: str) -> bool:
    return found.sha256.get(path) == _digest(content)


def _send(source: Source, content: str) -> bytes | Path | Secret:
    """What travels: a control-node file or a password is read again when the transfer runs."""
    return source if isinstance(source, Path | Secret) else content.encode()


def _install_all(sources: list[tuple[bytes | Path | Secret, str]]) -> None:
    """Each source written to its destination with the operation's privileges, readable by nobody
    else at any moment: through one private temporary folder of the SSH user (on_host), then one
    command that copies each into a private dest."""
    folder = on_host.private_temporary(folder=True)
    try:
        for number, (source, dest) in enumerate(sources):
            readable = _readable(source, dest)
            data = BytesIO(readable) if isinstance(readable, bytes) else str(readable.expanduser())
            if not host.put_file(data, f"{folder}/{number}", print_output=False):
                raise OperationError(f"could not write the private temporary folder {folder} on {host.name}")
        on_host.output(files.install_all(folder, [dest for _, dest in sources]), f"writing {', '.join(dest for _, dest in sources)}")
    finally:
        on_host.own(files.remove_tree(folder))
