"""Keys of the YAML configs of etcd's clients (Patroni, vip-manager), set in place.

The edit runs on the control node (read, ruamel.yaml's round trip, write back): PyYAML, all a
PostgreSQL host is sure to have, would drop the file's comments and order. The file written is
the one the config path leads to (Pigsty links /etc/patroni/patroni.yml to /pg/conf/<instance>.yml):
it is replaced in its own folder, with its owner and mode, and the link stays. Where another user
can change the way to it (Pigsty's /etc/patroni and /pg/conf are postgres'), it is read and written
as its owner, never as root (templates/scripts/config-file.py); its content travels through a
private temporary file of the SSH user, never on a command line nor in the output.
"""

import json

from pyinfra import host, state
from pyinfra.api import FunctionCommand, OperationError, operation

from etcdkit.facts.yaml import ConfigFile, YamlKeys, hashed
from etcdkit.operations import on_host
from etcdkit.operations.files import read_source
from etcdkit.remote.configs import config_file, write_config
from etcdkit.remote.shell import announce


@operation()
def yaml_keys(path: str, values: dict, secrets: tuple[str, ...] = ()):
    """
    Set keys of a YAML config ("a.b" is key b of mapping a; None removes the key), keeping every
    other line of it, its comments, and the owner and mode of the file it links to. Secrets never
    appear on a command line or in the output.

    + path: the YAML file (or a symlink to it), which must exist
    + values: key -> value; a secret's value may be a Secret, read when the operation runs
    + secrets: the keys whose values are secrets
    """
    current = host.get_fact(YamlKeys, path=path, keys=tuple(values), secrets=tuple(secrets))
    if current is None:
        raise OperationError(f"{path} does not exist")
    resolved = _resolved(values, secrets)
    if any(resolved[key] is None and values[key] is not None for key in values):
        if state.is_executing:
            raise OperationError(f"a password for {path} was not written on the control node")
        yield announce(f"{path} gets passwords the control node generates when the run executes")
        return
    if current == hashed(resolved, secrets):
        host.noop(f"{path} names the live members already")
        return
    target = host.get_fact(ConfigFile, path=path)
    if target is None:
        raise OperationError(f"{path} does not lead to a file")
    if target.refused:
        raise OperationError(target.refused)
    yield FunctionCommand(edit, (path, values, tuple(secrets)), {})


def edit(path: str, values: dict, secrets: tuple[str, ...]) -> bool:
    """Callback: the file read, its keys set, and written back over it, as its writer (ConfigFile)."""
    # ruamel.yaml takes 50 ms to import: only a run that changes a client's config pays for it
    from etcdkit.remote.yaml_edit import set_keys

    text = json.loads(on_host.output(config_file("read", path), f"reading {path}"))
    upload = on_host.private_file(set_keys(text, _resolved(values, secrets)).encode())
    on_host.output(write_config(path, upload), f"writing {path}")
    return True


def _resolved(values: dict, secrets: tuple[str, ...]) -> dict:
    """The values as plain data: secrets read from their sources now (None: not written yet)."""
    resolved = {key: read_source(value) if key in secrets and value is not None else value for key, value in values.items()}
    return {key: str(value) if isinstance(value, str) else value for key, value in resolved.items()}
