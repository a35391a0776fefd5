"""Keys of the YAML configs of etcd's clients (Patroni, vip-manager), set in place."""

import json
import shlex
from io import BytesIO

from pyinfra import host, state
from pyinfra.api import FileUploadCommand, OperationError, StringCommand, operation

from etcdkit.facts.yaml import YamlKeys, hashed
from etcdkit.operations.files import read_source
from etcdkit.remote.render import script

SET_SCRIPT = script("yaml-set.py")


@operation()
def yaml_keys(path: str, values: dict, secrets: tuple[str, ...] = ()):
    """
    Set keys of a YAML config ("a.b" is key b of mapping a), keeping every other key, the owner and
    the mode. The values travel in a 0600 temporary file, never on a command line or in the output.

    + path: the YAML file, which must exist
    + values: key -> value; a secret's value may be a Secret, read when the operation runs
    + secrets: the keys whose values are secrets
    """
    current = host.get_fact(YamlKeys, path=path, keys=tuple(values), secrets=tuple(secrets))
    if current is None:
        raise OperationError(f"{path} does not exist")
    resolved = {key: read_source(value) if key in secrets else value for key, value in values.items()}
    if any(value is None for value in resolved.values()):
        if state.is_executing:
            raise OperationError(f"a password for {path} was not written on the control node")
        yield StringCommand(f": {path} gets passwords the control node generates when the run executes")
        return
    if current == hashed(resolved, secrets):
        host.noop(f"{path} names the live members already")
        return
    temporary, upload = host.get_temp_filename(f"yaml-keys-{path}"), host.get_temp_filename(f"yaml-keys-upload-{path}")
    yield StringCommand(f"(umask 077 && : > {temporary} && : > {upload})")
    yield FileUploadCommand(BytesIO(json.dumps(resolved).encode()), temporary, remote_temp_filename=upload)
    yield StringCommand(f"python3 -c {shlex.quote(SET_SCRIPT)} {shlex.quote(path)} {temporary}; status=$?; rm -f {temporary}; exit $status")
