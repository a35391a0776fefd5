"""Operations on the hosts of etcd's clients (Patroni, vip-manager): their configs and services."""

import json
import shlex
from io import BytesIO
from pathlib import Path

from pyinfra import host
from pyinfra.api import FileUploadCommand, OperationError, StringCommand, operation

from etcdkit.clients import hashed
from facts.clients import YamlKeys

SET_SCRIPT = (Path(__file__).resolve().parent.parent / "templates" / "scripts" / "yaml-set.py").read_text()


@operation()
def yaml_keys(path: str, values: dict, secrets: tuple[str, ...] = ()):
    """
    Set keys of a YAML config ("a.b" is key b of mapping a), keeping every other key, the owner and
    the mode. The values travel in a 0600 temporary file, never on a command line or in the output.

    + path: the YAML file, which must exist
    + values: key -> value
    + secrets: the keys whose values are secrets
    """
    current = host.get_fact(YamlKeys, path=path, keys=tuple(values), secrets=tuple(secrets))
    if current is None:
        raise OperationError(f"{path} does not exist")
    if current == hashed(values):
        host.noop(f"{path} names the live members already")
        return
    temporary, upload = host.get_temp_filename(f"yaml-keys-{path}"), host.get_temp_filename(f"yaml-keys-upload-{path}")
    yield StringCommand(f"(umask 077 && : > {temporary} && : > {upload})")
    yield FileUploadCommand(BytesIO(json.dumps(values).encode()), temporary, remote_temp_filename=upload)
    yield StringCommand(f"python3 -c {shlex.quote(SET_SCRIPT)} {shlex.quote(path)} {temporary}; status=$?; rm -f {temporary}; exit $status")


@operation(is_idempotent=False)
def take_config(service: str, action: str):
    """
    Make a running client take its new config: `reload` or `restart` it. A stopped one stays stopped.

    + service: the systemd unit
    + action: reload or restart
    """
    yield f"if systemctl is-active --quiet {shlex.quote(service)}; then systemctl {action} {shlex.quote(service)}; fi"
