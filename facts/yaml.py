"""Facts about the etcd clients on a host (Patroni, vip-manager): the values of the keys we manage
in their YAML configs, and the file a config really is. Secrets are read as their SHA-256 only, so
that not even `-vvv` (which prints fact output) shows them."""

import hashlib
import json

from pyinfra.api import FactBase

from etcdkit.model.config_file import ConfigLocation
from etcdkit.remote.configs import config_file, read_keys


class YamlKeys(FactBase):
    """
    The values of `keys` ("a.b" is key b of mapping a) in a YAML file, secrets as "sha256:<hex>";
    None when the file does not exist.

    + path: the YAML file
    + keys: the keys to read
    + secrets: those of the keys that are secrets
    """

    requires_command = "python3"

    def command(self, path: str, keys: tuple[str, ...], secrets: tuple[str, ...] = ()):
        return read_keys(path, keys, secrets)

    def process(self, output):
        return json.loads("\n".join(output))


class ConfigFile(FactBase):
    """
    The file a config path leads to, through any symlinks (Pigsty links /etc/patroni/patroni.yml
    to /pg/conf/<instance>.yml), with its owner and mode, and who may write it: root when only root
    can change the way to it, else its owner, never root (templates/scripts/config-file.py).
    None when there is no such file.

    + path: the config's path

    .. code:: python

        ConfigLocation(target="/pg/conf/pg-test-1.yml", user="postgres", group="postgres", mode="640", writer="postgres", refused=None)
    """

    requires_command = "python3"

    def command(self, path: str):
        return config_file("locate", path)

    def process(self, output) -> ConfigLocation | None:
        found = json.loads("\n".join(output))
        return ConfigLocation(**found) if found is not None else None


def hashed(values: dict, secrets: tuple[str, ...]) -> dict:
    """Values as YamlKeys reports them: the secrets among them by their SHA-256."""
    return {
        key: "sha256:" + hashlib.sha256(str(value).encode()).hexdigest() if key in secrets and value is not None else value
        for key, value in values.items()
    }
