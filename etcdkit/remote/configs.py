"""The YAML configs of etcd's clients (Patroni, vip-manager) on their hosts, through Python scripts of
templates/scripts/ run with python3 -c: keys read (secrets as their SHA-256 only), and the file a
config path leads to located, read and written as the user who may write it (config-file.py)."""

import json

from pyinfra.api import StringCommand

from etcdkit.remote.shell import python, sh


def read_keys(path: str, keys: tuple[str, ...], secrets: tuple[str, ...]) -> StringCommand:
    """The keys' values as JSON (null: no file), secrets as "sha256:<hex>"."""
    return python("yaml-keys.py", path, json.dumps(list(keys)), json.dumps(list(secrets)))


def config_file(action: str, path: str) -> StringCommand:
    """config-file.py: `locate` the file path leads to, `read` it (as JSON text), or `write` it from stdin."""
    return python("config-file.py", action, path)


def write_config(path: str, upload: str) -> StringCommand:
    """The file path leads to written from the uploaded (temporary) file, which then goes."""
    return sh("{write} < {upload}; status=$?; rm -f {upload}; exit $status", write=config_file("write", path), upload=upload)
