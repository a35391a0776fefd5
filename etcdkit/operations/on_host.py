"""Commands, uploads and downloads that operations run from Python (FunctionCommand callbacks),
with the privileges of the operation: pyinfra applies `--sudo` (and `_sudo`, `_sudo_user`, ...)
only to the commands an operation yields, not to those its callbacks run.

Secrets and snapshots never rest where others can read them: a private temporary file is created
by the SSH user itself (mode 0600, or in a 0700 folder) before anything is written into it.
"""

from io import BytesIO
from pathlib import Path

from pyinfra import host
from pyinfra.api import OperationError, StringCommand
from pyinfra.api.arguments import CONNECTOR_ARGUMENT_KEYS


def privileges() -> dict:
    """The connector arguments of the running operation (empty outside one)."""
    arguments = host.current_op_global_arguments or {}
    return {key: arguments[key] for key in CONNECTOR_ARGUMENT_KEYS if key in arguments}


def run(command: str) -> tuple[bool, str]:
    """(whether it succeeded, its stderr or else its stdout)."""
    ok, output = host.run_shell_command(StringCommand(command), print_output=False, **privileges())
    return ok, output.stderr or output.stdout


def output(command: str, what: str) -> str:
    """The command's stdout; OperationError("<what> failed: <its error>") when it fails."""
    ok, result = host.run_shell_command(StringCommand(command), print_output=False, **privileges())
    if not ok:
        raise OperationError(f"{what} failed: {result.stderr or result.stdout}")
    return result.stdout


def put(data: bytes, path: str) -> bool:
    """A file that is not secret, written with the operation's privileges."""
    return host.put_file(BytesIO(data), path, print_output=False, **privileges())


def private_copy(data: bytes, name: str) -> str:
    """A temporary 0600 file of the SSH user holding data (a password for a command to read):
    the caller deletes it."""
    temporary = host.get_temp_filename(name)
    ok, result = host.run_shell_command(StringCommand(f"(umask 077 && : > {temporary})"), print_output=False)
    if not ok or not host.put_file(BytesIO(data), temporary, print_output=False):
        raise OperationError(f"could not write a private temporary file on {host.name}: {result.stderr}")
    return temporary


def fetch(remote: str, local: Path) -> bool:
    """Download a file that may be secret (a snapshot): with sudo, through a copy in a 0700
    folder of the SSH user, deleted afterwards."""
    arguments = privileges()
    if not arguments.get("_sudo") and not arguments.get("_su_user"):
        return host.get_file(remote, str(local), print_output=False)
    folder = host.get_temp_filename(f"{remote}.fetch")
    ok, _ = host.run_shell_command(StringCommand(f"mkdir -m 700 {folder}"), print_output=False)
    try:
        return ok and host.get_file(remote, str(local), remote_temp_filename=f"{folder}/copy", print_output=False, **arguments)
    finally:
        host.run_shell_command(StringCommand(f"rm -rf {folder}"), print_output=False, **arguments)
