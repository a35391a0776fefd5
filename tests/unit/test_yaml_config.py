"""Both inventory forms, Python (inventories/prod.py) and Pigsty's YAML (inventories/yaml_config.py),
loaded as the pyinfra CLI loads them and validated as create validates them."""

from pathlib import Path

import pytest
from pyinfra.api import State
from pyinfra.api.exceptions import InventoryError as PyinfraInventoryError
from pyinfra.context import ctx_state
from pyinfra_cli.inventory import make_inventory_from_files

from etcdkit.model import params
from etcdkit.model.inventory import InventoryError, cluster_spec
from etcdkit.model.yaml_config import groups_from_env, load_groups, parse

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "inventories" / "example.yml")


def load_inventory(name: str):
    """The inventory file exactly as `pyinfra inventories/NAME ...` loads it (the loader needs a State)."""
    with ctx_state.use(State()):
        return make_inventory_from_files(str(ROOT / "inventories" / name))


def yaml_inventory(monkeypatch, path: str):
    monkeypatch.setenv("ETCD_CONFIG", path)
    return load_inventory("yaml_config.py")


def etcd_settings(inventory) -> dict:
    return {host.name: {name: params.get(host.data, name) for name in params.BY_NAME} for host in inventory.get_group("etcd")}


def problems(text: str, tmp_path) -> list[str]:
    path = tmp_path / "config.yml"
    path.write_text(text)
    with pytest.raises(InventoryError) as error:
        load_groups(path)
    assert all(problem.startswith(f"{path}: ") for problem in error.value.problems)
    return [problem.removeprefix(f"{path}: ") for problem in error.value.problems]


def test_prod_inventory_is_the_seeds_cluster_without_a_password():
    inventory = load_inventory("prod.py")
    spec = cluster_spec(inventory)
    assert [(m.name, m.address) for m in spec.members] == [("etcd-1", "10.10.10.10"), ("etcd-2", "10.10.10.11"), ("etcd-3", "10.10.10.12")]
    assert spec.warnings == ()
    assert all(host.data.get("etcd_root_password") is None for host in inventory)


def test_yaml_example_loads_with_dashed_group_names(monkeypatch):
    inventory = yaml_inventory(monkeypatch, EXAMPLE)
    assert [host.name for host in inventory.get_group("pg-test")] == ["10.10.10.11"]
    assert inventory.get_group_data("pg-test") == {"pg_cluster": "pg-test"}
    assert [host.name for host in inventory.get_group("infra")] == ["10.10.10.10"]
    assert inventory.get_host("10.10.10.11").data.get("pg_role") == "primary"
    assert [m.name for m in cluster_spec(inventory).members] == ["etcd-1", "etcd-2", "etcd-3"]


def test_yaml_example_and_prod_py_are_the_same_cluster(monkeypatch):
    prod, example = load_inventory("prod.py"), yaml_inventory(monkeypatch, EXAMPLE)
    assert etcd_settings(example) == etcd_settings(prod)
    assert example.get_group_data("etcd") == prod.get_group_data("etcd")
    assert cluster_spec(example) == cluster_spec(prod)


def test_unset_config_is_a_pyinfra_error_naming_the_variable(monkeypatch):
    monkeypatch.delenv("ETCD_CONFIG", raising=False)
    with pytest.raises(PyinfraInventoryError, match="ETCD_CONFIG is not set"):
        load_inventory("yaml_config.py")


def test_missing_file_is_named(tmp_path):
    path = tmp_path / "nope.yml"
    with pytest.raises(InventoryError) as error:
        groups_from_env({"ETCD_CONFIG": str(path)})
    assert error.value.problems == [f"{path}: cannot read the YAML config: No such file or directory"]


def test_precedence_all_then_parents_then_children_then_host_vars():
    groups = parse(
        {
            "all": {
                "vars": {"v": "all", "a": "all"},
                "children": {
                    "prod": {"vars": {"v": "prod", "p": "prod"}, "children": {"etcd": {"vars": {"v": "etcd"}}}},
                    # Same depth as prod: the later name (prod) wins.
                    "apps": {"hosts": {"10.0.0.1": None}, "vars": {"v": "apps", "p": "apps"}},
                },
            },
            "etcd": {"hosts": {"10.0.0.1": {"h": "first"}, "10.0.0.2": {"v": "host"}}},
            "other": {"hosts": {"10.0.0.1": {"h": "later"}}},
        },
        "config.yml",
    )
    data = dict(groups["etcd"][0])
    assert data["10.0.0.1"] == {"v": "etcd", "a": "all", "p": "prod", "h": "later"}
    assert data["10.0.0.2"] == {"v": "host", "a": "all", "p": "prod"}
    assert groups["etcd"][1] == {"v": "etcd"}
    assert groups["all"][1] == {"v": "all", "a": "all"}


def test_groups_hold_their_children_hosts_and_all_holds_every_host():
    groups = parse(
        {
            "all": {"hosts": {"10.0.0.9": None}, "children": {"prod": {"children": {"etcd": {"hosts": {"10.0.0.1": None}}}}}},
            "pg-test": {"hosts": {"10.0.0.2": None}},
        },
        "config.yml",
    )
    hosts = {name: [host for host, _ in group[0]] for name, group in groups.items()}
    assert hosts == {"all": ["10.0.0.9", "10.0.0.1", "10.0.0.2"], "prod": ["10.0.0.1"], "etcd": ["10.0.0.1"], "pg-test": ["10.0.0.2"]}


def test_bad_yaml_names_the_line(tmp_path):
    found = problems("etcd:\n  hosts:\n    10.0.0.1: {etcd_seq: 1\n  vars: {}\n", tmp_path)
    assert found == ["line 4, column 7: not valid YAML: expected ',' or '}', but got ':' (while parsing a flow mapping on line 3)"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "the top level must be a mapping of group names (such as `all` or `etcd`), not empty"),
        ("- 10.0.0.1\n", "the top level must be a mapping of group names (such as `all` or `etcd`), not a list"),
        ("etcd: [10.0.0.1]\n", "group `etcd`: must be a mapping with hosts, vars, children, not a list"),
        ("etcd:\n  hosts: [10.0.0.1]\n", "group `etcd`: hosts must be a mapping of host: vars (or null), not a list"),
        ("etcd:\n  hosts:\n    10.0.0.1: 1\n", "group `etcd`: host 10.0.0.1: vars must be a mapping of key: value, not 1"),
        ("etcd:\n  hosts:\n    10.10: {etcd_seq: 1}\n", "group `etcd`: host 10.1 (as YAML reads it) is not a string: quote the host name"),
        ("etcd:\n  host:\n    10.0.0.1: {etcd_seq: 1}\n", "group `etcd`: unknown key `host`: a group has only hosts, vars, children"),
        ("etcd:\n  vars: etcd_cluster=etcd\n", "group `etcd`: vars must be a mapping of key: value, not 'etcd_cluster=etcd'"),
        ("all:\n  children: [etcd]\n", "group `all`: children must be a mapping of group: group, not a list"),
        (
            "_etcd:\n  hosts: {10.0.0.1: null}\n",
            "group '_etcd': a group name must be a string not starting with '_' (pyinfra ignores those)",
        ),
        ("a:\n  children:\n    b:\n      children:\n        a:\n", "group `a`: is its own descendant (a > b > a)"),
    ],
)
def test_structure_errors_name_file_group_host_and_key(text, expected, tmp_path):
    assert problems(text, tmp_path) == [expected]


def test_etcd_group_gets_creates_validation_with_the_file_name(tmp_path):
    found = problems(
        "all:\n  children:\n    etcd:\n      hosts:\n        10.0.0.1: {etcd_seq: 1}\n        10.0.0.2: {etcd_port: [1]}\n"
        "        10.0.0.3: {etcd_seq: 3, etcd_safeguard: maybe}\n",
        tmp_path,
    )
    assert found == [
        "host 10.0.0.2: etcd_port must be an integer, not [1]",
        "host 10.0.0.2: etcd_seq is missing: give it a unique integer, e.g. `etcd_seq: 2`",
        "host 10.0.0.3: etcd_safeguard must be true or false, not 'maybe'",
    ]


def test_a_config_without_an_etcd_group_loads(tmp_path):
    path = tmp_path / "pg.yml"
    path.write_text("pg-test:\n  hosts: {10.0.0.1: {pg_seq: 1}}\n")
    assert load_groups(path)["pg-test"] == ([("10.0.0.1", {"pg_seq": 1})], {})
