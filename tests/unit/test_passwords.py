"""Passwords from files of the control node (etcd_root_password_file, pg_etcd_password_file): read
when the plan is made, refused with one line naming the host, the key and the fix, and never shown
by the repr or str of the settings, facts and plans that carry them."""

import os
from types import SimpleNamespace

import pytest
from etcdkit.facts.yaml import hashed

from etcdkit.control.passwords import user_secret
from etcdkit.model import params
from etcdkit.model.inventory import InventoryError
from etcdkit.model.settings import Settings
from etcdkit.plans import create, patroni, reload
from etcdkit.plans.gather import host_settings
from tests.unit.plans_data import inventory, view
from tests.unit.test_plan_create import facts as create_facts
from tests.unit.test_plan_reload import PG, pg_host
from tests.unit.test_plan_reload import facts as reload_facts

ROOT_PASSWORD = "kept-in-a-file-7Qx"
PG_PASSWORD = "pg-main-from-a-file-3Zr"


def secret_file(tmp_path, text: str, mode: int = 0o600, name: str = "root.password"):
    path = tmp_path / name
    path.write_text(text)
    os.chmod(path, mode)
    return path


def settings_of(**data) -> Settings:
    return host_settings(SimpleNamespace(name="10.10.10.10", data=data))


def refusal(**data) -> str:
    with pytest.raises(InventoryError) as error:
        settings_of(**data)
    assert len(error.value.problems) == 1
    return error.value.problems[0]


def test_the_password_is_read_from_the_file_without_its_trailing_newline(tmp_path):
    root = secret_file(tmp_path, ROOT_PASSWORD + "\n")
    pg = secret_file(tmp_path, PG_PASSWORD, mode=0o400, name="pg-main.password")
    settings = settings_of(etcd_root_password_file=str(root), pg_etcd_password_file=str(pg))
    assert (settings.etcd_root_password, settings.pg_etcd_password) == (ROOT_PASSWORD, PG_PASSWORD)
    assert settings.etcd_root_password_file == str(root)


def test_without_a_file_the_configured_password_is_kept():
    assert settings_of(etcd_root_password="from-the-inventory").etcd_root_password == "from-the-inventory"
    assert settings_of().etcd_root_password is None


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_file_others_or_the_group_can_read_is_refused(tmp_path, mode):
    path = secret_file(tmp_path, ROOT_PASSWORD, mode)
    assert refusal(etcd_root_password_file=str(path)) == (
        f"host 10.10.10.10: etcd_root_password_file {path} can be read by group or others (mode {mode:04o}): run chmod 600 {path}"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "is empty: write the password into it"),
        ("\n", "is empty: write the password into it"),
        ("two words\n", "the password must be non-empty, without whitespace"),
    ],
)
def test_an_empty_file_or_one_etcdctl_cannot_read_as_one_word_is_refused(tmp_path, text, expected):
    path = secret_file(tmp_path, text, name="pg-main.password")
    problem = refusal(pg_etcd_password_file=str(path))
    assert problem.startswith(f"host 10.10.10.10: pg_etcd_password_file {path}") and expected in problem
    assert "two words" not in problem


def test_a_missing_file_is_refused(tmp_path):
    path = tmp_path / "nowhere.password"
    assert refusal(etcd_root_password_file=str(path)) == (
        f"host 10.10.10.10: etcd_root_password_file {path} cannot be read (No such file or directory): name a file of the control node"
    )


def test_a_password_and_its_file_for_the_same_user_are_refused_together(tmp_path):
    path = secret_file(tmp_path, ROOT_PASSWORD)
    assert refusal(etcd_root_password="on-the-command-line", etcd_root_password_file=str(path)) == (
        "host 10.10.10.10: etcd_root_password and etcd_root_password_file are both set: "
        "keep etcd_root_password_file and drop etcd_root_password (inventory or --data)"
    )


def test_a_password_never_shows_in_a_repr_or_an_error():
    password = params.get({"etcd_root_password": "a-password-1"}, "etcd_root_password")
    assert password == "a-password-1" and f"{password}" == "a-password-1" and password.encode() == b"a-password-1"
    assert "a-password-1" not in repr(password) and "a-password-1" not in str({"password": password})
    assert params.get({"etcd_root_password_file": "/root/x"}, "etcd_root_password_file") == "/root/x"


def test_the_create_plan_of_a_root_password_from_a_file_never_shows_it(tmp_path):
    path = secret_file(tmp_path, ROOT_PASSWORD + "\n")
    settings = settings_of(etcd_root_password_file=str(path))
    inv = inventory(tmp_path, etcd_root_password=settings.etcd_root_password)
    members = {seq: inv.ours(seq, root="the-old-password") for seq in (1, 2, 3)}
    plan_facts = create_facts(inv, members, view(1, 2, 3), root=ROOT_PASSWORD, configured=True)
    plan = create.decide(plan_facts)
    assert plan.rotate_root_on == inv.member(1) and plan.secrets.root.read() == ROOT_PASSWORD
    for shown in (repr(plan_facts), str(plan_facts), repr(plan), str(plan)):
        assert ROOT_PASSWORD not in shown


def test_the_reload_plan_of_a_pg_password_from_a_file_never_shows_it(tmp_path):
    path = secret_file(tmp_path, PG_PASSWORD, name="pg-main.password")
    password = settings_of(pg_etcd_password_file=str(path)).pg_etcd_password
    current = hashed(patroni.patroni_change("", {}, ["https://10.10.10.10:2379"], "pg-main", password).values, patroni.SECRETS)
    pg = pg_host(tmp_path, patroni_keys=current, vip_keys={}, pg_etcd_password=password)
    plan_facts = reload_facts(inventory(tmp_path), pg=[pg], passwords={"pg-main": password})
    plan = reload.decide(plan_facts)
    assert plan.clients[PG].patroni.values["etcd3.password"] == PG_PASSWORD
    for shown in (repr(plan_facts), str(plan_facts), repr(plan), str(plan)):
        assert PG_PASSWORD not in shown


def test_a_password_kept_in_the_pki_folder_never_shows_either(tmp_path):
    secret_file(tmp_path, "generated-earlier\n", name="pg-main.password")
    kept = user_secret(None, tmp_path, "pg-main").read()
    assert kept == "generated-earlier" and "generated-earlier" not in repr({"pg-main": kept})
