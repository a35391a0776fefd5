"""Files and scripts rendered from templates/ with jinja2, and what in them a running etcd depends on."""

import re
from importlib.resources import files
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from etcdkit.model import paths

# templates/ of the repository, installed as the package data etcdkit.templates
TEMPLATES = Path(str(files("etcdkit.templates")))
_environment = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, keep_trailing_newline=True)

# Lines of etcd.conf that etcd reads only when it bootstraps its data dir: changing them later
# (the reload SOP refreshes initial-cluster from the live member list) needs no restart.
BOOTSTRAP_ONLY = re.compile(r"^(initial-cluster|initial-cluster-state|initial-cluster-token|initial-advertise-peer-urls):")


def render(template: str, **values) -> str:
    return _environment.get_template(template).render(paths=paths, **values)


def runtime_settings(conf_text: str | None) -> list[str]:
    """The lines of an etcd.conf that a running etcd depends on (all but the bootstrap-only ones)."""
    return [line for line in (conf_text or "").splitlines() if not BOOTSTRAP_ONLY.match(line)]


def initial_cluster(pairs) -> str:
    """`name=peer-url,...` in a stable order, so that re-rendering the same members changes nothing."""
    return ",".join(f"{name}={url}" for name, url in sorted(pairs, key=lambda pair: _natural(pair[0])))


def _natural(name: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def script(name: str) -> str:
    """A script of templates/scripts/ as it is (run with python3 -c on hosts)."""
    return (TEMPLATES / "scripts" / name).read_text()
