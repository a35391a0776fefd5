"""Pigsty's YAML config (an Ansible YAML inventory, pigsty.yml) as pyinfra inventory groups.

Users moving to this toolkit keep their clusters in that file; `inventories/yaml_config.py` reads it.
Every group (top level, or nested under `children` at any depth) becomes a pyinfra group of the same
name, holding its own hosts and those of its child groups, as Ansible does.

Each host's data is resolved here, with Ansible's precedence (lowest first): `all.vars`, then the vars
of every group the host is in, parents before children and groups of the same depth in name order,
then its host vars (a host listed twice: the later listing wins). The result is the host data of every
group entry, so pyinfra's own group-data order never decides; a group's data is its own `vars`.
Not supported: host ranges (`10.10.10.[10:12]`), `ansible_group_priority`, group_vars/host_vars folders.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pyinfra.api import Inventory

from etcdkit.model.inventory import GROUP, InventoryError, cluster_spec

Group = tuple[list[tuple[str, dict[str, Any]]], dict[str, Any]]
GROUP_KEYS = ("hosts", "vars", "children")
ENV = "ETCD_CONFIG"


def groups_from_env(environ: Mapping[str, str]) -> dict[str, Group]:
    """The groups of the file named by ETCD_CONFIG."""
    path = environ.get(ENV)
    if not path:
        raise InventoryError(
            [
                f"{ENV} is not set: name the YAML config, e.g. {ENV}=inventories/example.yml pyinfra inventories/yaml_config.py deploys/create.py"
            ]
        )
    return load_groups(path)


def load_groups(path: str | Path) -> dict[str, Group]:
    """Read, map and check the file: its `etcd` group gets the same validation as create gives it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise InventoryError([f"{path}: cannot read the YAML config: {error.strerror}"]) from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = getattr(error, "problem", None) or str(error)
        context, start = getattr(error, "context", None), getattr(error, "context_mark", None)
        if context and start:
            reason += f" ({context} on line {start.line + 1})"
        raise InventoryError([f"{path}: {where}not valid YAML: {reason}"]) from None
    groups = parse(document, str(path))
    if groups.get(GROUP, ([], {}))[0]:
        try:
            cluster_spec(Inventory(groups["all"], **{name: group for name, group in groups.items() if name != "all"}))
        except InventoryError as error:
            raise InventoryError([f"{path}: {problem}" for problem in error.problems]) from None
    return groups


class _Parser:
    def __init__(self, source: str):
        self.source = source
        self.problems: list[str] = []
        self.vars: dict[str, dict[str, Any]] = {"all": {}}  # every group, in order of first appearance
        self.parents: dict[str, list[str]] = {"all": []}
        self.direct_hosts: dict[str, list[str]] = {"all": []}
        self.host_vars: dict[str, dict[str, Any]] = {}

    def problem(self, where: str, text: str) -> None:
        self.problems.append(f"{self.source}: {where}: {text}")

    def group(self, name: Any, body: Any, parent: str | None) -> None:
        if not isinstance(name, str) or name.startswith("_"):
            self.problem(f"group {name!r}", "a group name must be a string not starting with '_' (pyinfra ignores those)")
            return
        where = f"group `{name}`"
        self.vars.setdefault(name, {})
        self.parents.setdefault(name, [])
        self.direct_hosts.setdefault(name, [])
        if parent and parent not in self.parents[name]:
            self.parents[name].append(parent)
        if body is None:
            return
        if not isinstance(body, dict):
            self.problem(where, f"must be a mapping with {', '.join(GROUP_KEYS)}, not {_kind(body)}")
            return
        for key in body:
            if key not in GROUP_KEYS:
                self.problem(where, f"unknown key `{key}`: a group has only {', '.join(GROUP_KEYS)}")
        self.vars[name].update(self.mapping(body.get("vars"), where))
        hosts = body.get("hosts")
        if hosts is not None and not isinstance(hosts, dict):
            self.problem(where, f"hosts must be a mapping of host: vars (or null), not {_kind(hosts)}")
        for host, host_vars in (hosts if isinstance(hosts, dict) else {}).items():
            if not isinstance(host, str):
                self.problem(where, f"host {host!r} (as YAML reads it) is not a string: quote the host name")
                continue
            self.direct_hosts[name].append(host)
            self.host_vars.setdefault(host, {}).update(self.mapping(host_vars, f"{where}: host {host}"))
        children = body.get("children")
        if children is not None and not isinstance(children, dict):
            self.problem(where, f"children must be a mapping of group: group, not {_kind(children)}")
        for child, child_body in (children if isinstance(children, dict) else {}).items():
            self.group(child, child_body, name)

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(where, f"vars must be a mapping of key: value, not {_kind(value)}")
            return {}
        for key in value:
            if not isinstance(key, str):
                self.problem(where, f"key {key!r} must be a string")
        return {key: item for key, item in value.items() if isinstance(key, str)}

    def depths(self) -> dict[str, int]:
        """Ansible's group depth: 0 for `all`, else one more than the deepest parent."""
        depths: dict[str, int] = {}

        def depth(name: str, path: tuple[str, ...]) -> int:
            if name in path:
                self.problem(f"group `{name}`", f"is its own descendant ({' > '.join((*path[path.index(name) :], name))})")
                return 0
            if name not in depths:
                depths[name] = 1 + max((depth(parent, (*path, name)) for parent in self.parents[name]), default=-1)
            return depths[name]

        for name in self.vars:
            depth(name, ())
        return depths

    def members(self) -> dict[str, list[str]]:
        """Every group's hosts: its own, then those of its child groups (so `all` holds every host)."""
        children: dict[str, list[str]] = {name: [] for name in self.vars}
        for name, parents in self.parents.items():
            for parent in parents:
                children[parent].append(name)

        def collect(name: str, seen: set[str]) -> list[str]:
            seen.add(name)
            hosts = list(self.direct_hosts[name])
            for child in children[name]:
                if child not in seen:
                    hosts += collect(child, seen)
            return hosts

        return {name: list(dict.fromkeys(collect(name, set()))) for name in self.vars}


def parse(document: Any, source: str) -> dict[str, Group]:
    """Map a loaded YAML document to pyinfra groups (`all` included); `source` names the file in errors."""
    parser = _Parser(source)
    if not isinstance(document, dict):
        raise InventoryError([f"{source}: the top level must be a mapping of group names (such as `all` or `etcd`), not {_kind(document)}"])
    for name, body in document.items():
        # Top-level groups other than `all` are children of `all`, as in Ansible.
        parser.group(name, body, None if name == "all" else "all")
    depths = parser.depths()
    if parser.problems:
        raise InventoryError(parser.problems)
    members = parser.members()
    host_data = {}
    for host in members["all"]:
        data: dict[str, Any] = {}
        for name in sorted((name for name in members if host in members[name]), key=lambda name: (depths[name], name)):
            data.update(parser.vars[name])
        host_data[host] = {**data, **parser.host_vars[host]}
    return {name: ([(host, dict(host_data[host])) for host in members[name]], dict(parser.vars[name])) for name in parser.vars}


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", type(None): "empty"}.get(type(value)) or repr(value)
