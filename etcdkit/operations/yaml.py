"""Keys of the YAML configs of etcd's clients (Patroni, vip-manager), set in place.

The edit runs on the control node (download, ruamel.yaml's round trip, upload): PyYAML, all a
PostgreSQL host is sure to have, would drop the file's comments and order. The file written is
the one the config path leads to (Pigsty links /etc/patroni/patroni.yml to /pg/conf/<instance>.yml):
it replaces its target in the target's folder, with the target's owner and mode, and the link stays.
"""

import shlex
import tempfile
from pathlib import Path

from pyinfra import host, state
from pyinfra.api import FunctionCommand, OperationError, StringCommand, operation

from etcdkit.facts.yaml import ConfigFile, YamlKeys, hashed
from etcdkit.operations import on_host
from etcdkit.operations.files import read_source
from etcdkit.remote.yaml_edit import set_keys


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
        yield StringCommand(f": {path} gets passwords the control node generates when the run executes")
        return
    if current == hashed(resolved, secrets):
        host.noop(f"{path} names the live members already")
        return
    target = host.get_fact(ConfigFile, path=path)
    if target is None:
        raise OperationError(f"{path} does not lead to a file")
    yield FunctionCommand(edit, (target["target"], values, tuple(secrets)), {})


def edit(target: str, values: dict, secrets: tuple[str, ...]) -> bool:
    """Callback: the target downloaded, its keys set, and written back over it."""
    with tempfile.TemporaryDirectory(prefix="etcdkit-yaml-") as folder:  # 0700: the file holds passwords
        local = Path(folder) / "config.yml"
        if not on_host.fetch(target, local):
            raise OperationError(f"could not read {target}")
        text = set_keys(local.read_text(), _resolved(values, secrets))
    upload = on_host.private_copy(text.encode(), f"yaml-keys-{target}")
    on_host.output(replace_command(upload, target), f"writing {target}")
    return True


def replace_command(source: str, target: str) -> str:
    """Replace target by the content of source (then deleted), atomically, in target's folder with
    target's owner and mode."""
    quoted = shlex.quote(target)
    folder = shlex.quote(str(Path(target).parent))
    return (
        f't=$(mktemp {folder}/.etcdkit-XXXXXX) && {{ cat {source} > "$t" && chown --reference={quoted} "$t" && '
        f'chmod --reference={quoted} "$t" && mv -f "$t" {quoted} || {{ rm -f "$t"; false; }}; }}; '
        f"status=$?; rm -f {source}; exit $status"
    )


def _resolved(values: dict, secrets: tuple[str, ...]) -> dict:
    """The values as plain data: secrets read from their sources now (None: not written yet)."""
    resolved = {key: read_source(value) if key in secrets and value is not None else value for key, value in values.items()}
    return {key: str(value) if isinstance(value, str) else value for key, value in resolved.items()}
