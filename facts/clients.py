"""Facts about the etcd clients on a host (Patroni, vip-manager): the values of the keys we manage
in their YAML configs. Secrets are read as their SHA-256 only, so that not even `-vvv` (which
prints fact output) shows them."""

import json
import shlex
from pathlib import Path

from pyinfra.api import FactBase

SCRIPT = (Path(__file__).resolve().parent.parent / "templates" / "scripts" / "yaml-keys.py").read_text()


class YamlKeys(FactBase):
    """
    The values of `keys` ("a.b" is key b of mapping a) in a YAML file, secrets as "sha256:<hex>";
    None when the file does not exist.

    + path: the YAML file
    + keys: the keys to read
    + secrets: those of the keys that are secrets
    """

    requires_command = "python3"

    def command(self, path: str, keys: tuple[str, ...], secrets: tuple[str, ...] = ()) -> str:
        args = " ".join(shlex.quote(arg) for arg in (path, json.dumps(list(keys)), json.dumps(list(secrets))))
        return f"python3 -c {shlex.quote(SCRIPT)} {args}"

    def process(self, output):
        return json.loads("\n".join(output))
