"""Files and scripts rendered from templates/ with jinja2, and what in them a running etcd depends on."""

import re
import shlex
from importlib.resources import files
from pathlib import Path

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from etcdkit.model import paths

# templates/ of the repository, installed as the package data etcdkit.templates
TEMPLATES = Path(str(files("etcdkit.templates")))
# Settings of etcd.conf that etcd reads only when it bootstraps its data dir: changing them later
# (the reload SOP refreshes initial-cluster from the live member list) needs no restart.
BOOTSTRAP_ONLY = ("initial-cluster", "initial-cluster-state", "initial-cluster-token", "initial-advertise-peer-urls")
# libyaml's safe loader and dumper where PyYAML has them: the plans parse and render each member's
# etcd.conf many times (libyaml writes each value as PyYAML's own emitter does: tests/unit/test_render.py)
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SAFE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
ONE_LINE = 2**30  # a line width no value reaches: a value is never folded


def load_yaml(text: str):
    """A YAML document as plain data (yaml.safe_load, through libyaml when it is there)."""
    return yaml.load(text, Loader=SAFE_LOADER)


def to_yaml(value, quoted: bool = False) -> str:
    """A value as one YAML scalar or flow collection, quoted where YAML needs it (always, with
    quoted, for a string): rendered by a YAML emitter, never pasted."""
    if quoted and not isinstance(value, str):
        raise TypeError(f"only a string is quoted, not {value!r}")
    text = yaml.dump(value, Dumper=SAFE_DUMPER, default_flow_style=True, width=ONE_LINE, default_style='"' if quoted else None)
    return text.removesuffix("\n...\n").strip()


_environment = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, keep_trailing_newline=True)
_environment.filters["yaml"] = to_yaml
_environment.filters["shell"] = shlex.quote


def render(template: str, **values) -> str:
    return _environment.get_template(template).render(paths=paths, **values)


def runtime_settings(conf_text: str | None) -> dict:
    """The settings of an etcd.conf that a running etcd depends on (all but the bootstrap-only
    ones), compared as YAML values: quoting, comments and order do not count."""
    try:
        conf = load_yaml(conf_text or "") or {}
    except yaml.YAMLError:
        return {"unreadable": conf_text}
    if not isinstance(conf, dict):
        return {"unreadable": conf_text}
    return {key: value for key, value in conf.items() if key not in BOOTSTRAP_ONLY}


def initial_cluster(pairs) -> str:
    """`name=peer-url,...` in a stable order, so that re-rendering the same members changes nothing."""
    return ",".join(f"{name}={url}" for name, url in sorted(pairs, key=lambda pair: _natural(pair[0])))


def _natural(name: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def script_text(name: str) -> str:
    """A script of templates/scripts/ as it is (a Python one, run with python3 -c on hosts)."""
    return (TEMPLATES / "scripts" / name).read_text()
