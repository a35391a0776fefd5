"""etcdkit/model/settings.py is generated from etcdkit/model/params.py and must not drift from it."""

import dataclasses
import subprocess
from pathlib import Path

import pytest

from etcdkit.cli.settings_gen import PATH, SCRIPT, render
from etcdkit.model import params
from etcdkit.model.params import PARAMS, Password
from etcdkit.model.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_settings_module_is_up_to_date():
    assert (ROOT / PATH).read_text(encoding="utf-8") == render(), (
        f"{PATH} does not match etcdkit/model/params.py (a parameter was added or changed): run {SCRIPT} and commit {PATH}"
    )


def test_script_prints_the_same_module():
    result = subprocess.run([str(ROOT / SCRIPT), "--stdout"], capture_output=True, text=True, check=True)
    assert result.stdout == render()


def test_one_field_per_parameter_with_its_default():
    assert [field.name for field in dataclasses.fields(Settings)] == [param.name for param in PARAMS]
    assert Settings() == Settings.of({param.name: params.get({}, param.name) for param in PARAMS})


def test_settings_are_frozen_and_copied_with_changes():
    settings = Settings.of({param.name: params.get({"etcd_seq": "3"}, param.name) for param in PARAMS})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.etcd_seq = 4  # type: ignore[misc]
    changed = dataclasses.replace(settings, etcd_data="/srv/etcd")
    assert (changed.etcd_seq, changed.etcd_data, settings.etcd_data) == (3, "/srv/etcd", "/data/etcd")


def test_a_password_stays_hidden_in_the_settings_repr():
    settings = dataclasses.replace(Settings(), etcd_root_password=Password("s3cret-word"))
    assert settings.etcd_root_password == "s3cret-word"
    assert "s3cret-word" not in repr(settings)
