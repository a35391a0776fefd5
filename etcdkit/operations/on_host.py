"""Commands, uploads and downloads that operations run from Python (FunctionCommand callbacks),
with the privileges of the operation: pyinfra applies `--sudo` (and `_sudo`, `_sudo_user`, ...)
only to the commands an operation yields, not to those its callbacks run.

Secrets and snapshots never rest where others can read them, nor go through a name others can
foresee: each temporary file or folder is made by the SSH user itself with mktemp (a fresh name,
created exclusively, 0600 or 0700) before anything is written into it. pyinfra's own temporary
names (/tmp/pyinfra-<hash of the destination>) are fixed: a file another user left there would be
written through.
"""

from io import BytesIO
from pathlib import Path

from pyinfra import host
from pyinfra.api import OperationError
from pyinfra.api.arguments import CONNECTOR_ARGUMENT_KEYS

from etcdkit.remote import files
from etcdkit.remote.shell import Command


def privileges() -> dict:
    """The connector arguments of the running operation (empty outside one)."""
    arguments = host.current_op_global_arguments or {}
    return {key: arguments[key] for key in CONNECTOR_ARGUMENT_KEYS if key in arguments}


def run(command: Command) -> tuple[bool, str]:
    """(whether it succeeded, its stderr or else its stdout)."""
    ok, output = host.run_shell_command(command, print_output=False, **privileges())
    return ok, output.stderr or output.stdout


def answer(command: Command) -> tuple[bool, str]:
    """(whether it succeeded, its stdout; else its stderr or stdout): an answer to parse, whatever
    warnings the command printed on stderr."""
    return _answered(command, **privileges())


def _answered(command: Command, **arguments) -> tuple[bool, str]:
    ok, output = host.run_shell_command(command, print_output=False, **arguments)
    return ok, output.stdout if ok else output.stderr or output.stdout


def output(command: Command, what: str) -> str:
    """The command's stdout; OperationError("<what> failed: <its error>") when it fails."""
    ok, result = host.run_shell_command(command, print_output=False, **privileges())
    if not ok:
        raise OperationError(f"{what} failed: {result.stderr or result.stdout}")
    return result.stdout


def own(command: Command) -> tuple[bool, str]:
    """A command as the SSH user itself, whatever the operation's privileges: (succeeded, its
    stdout, else its stderr)."""
    return _answered(command)


def private_temporary(folder: bool = False) -> str:
    """A new temporary file (or folder) of the SSH user: a fresh name in the host's temporary
    folder, created exclusively by mktemp, 0600 (0700); the caller deletes it."""
    ok, made = own(files.temporary(folder))
    made = made.strip()
    if not ok or not made.startswith("/") or "\n" in made:
        raise OperationError(f"could not make a private temporary {'folder' if folder else 'file'} on {host.name}: {made}")
    return made


def private_file(source: bytes | Path) -> str:
    """A private temporary file of the SSH user (private_temporary) holding source, the content
    or a control-node file: a password for a command to read, a file root copies into place."""
    temporary = private_temporary()
    data = BytesIO(source) if isinstance(source, bytes) else str(source.expanduser())
    if not host.put_file(data, temporary, print_output=False):
        own(files.remove(temporary))
        raise OperationError(f"could not write the private temporary file {temporary} on {host.name}")
    return temporary


def fetch(remote: str, local: Path) -> bool:
    """Download a file that may be secret (a snapshot): with sudo, through a copy in a private
    temporary folder of the SSH user (private_temporary), deleted afterwards."""
    arguments = privileges()
    if not arguments.get("_sudo") and not arguments.get("_su_user"):
        return host.get_file(remote, str(local), print_output=False)
    folder = private_temporary(folder=True)
    try:
        return host.get_file(remote, str(local), remote_temp_filename=f"{folder}/copy", print_output=False, **arguments)
    finally:
        host.run_shell_command(files.remove_tree(folder), print_output=False, **arguments)


def install(source: bytes | Path, dest: str) -> None:
    """Write source (the content, or a control-node file) to dest with the operation's privileges,
    readable by nobody else at any moment: it travels through a private temporary file of the SSH
    user (private_file), and dest is made private (a new one 0600) before it is written."""
    output(files.install(private_file(source), dest), f"writing {dest}")
