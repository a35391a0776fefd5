"""`pip install .` outside the repository: one namespace, templates as package data, console
scripts that run with the interpreter they were installed with."""

import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(folder), str(ROOT)], check=True, capture_output=True)
    return next(folder.glob("etcdkit-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel; its dependencies come from this environment (a .pth file),
    so that the test needs no package index."""
    target = tmp_path_factory.mktemp("venv")
    venv.create(target, with_pip=False)
    site = next((target / "lib").glob("python3*/site-packages"))
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(target / "bin" / "python"), "install", "-q", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    return target


def test_the_wheel_holds_one_namespace_with_facts_and_templates(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.startswith("etcdkit-")}
    assert top == {"etcdkit"}
    for expected in (
        "etcdkit/sops.py",
        "etcdkit/facts/etcd.py",
        "etcdkit/templates/etcd.conf.j2",
        "etcdkit/templates/scripts/yaml-keys.py",
        "etcdkit/templates/scripts/etcd-backup.sh.j2",
        "etcdkit/templates/etcd-backup.timer.j2",
        "etcdkit/templates/prometheus/etcd-alerts.yml",
        "etcdkit/templates/grafana/etcd-dashboard.json",
    ):
        assert expected in names
    assert not any(name.startswith(("etcdkit/tests", "etcdkit/lab", "etcdkit/deploys")) for name in names)


def test_modules_import_and_templates_render_outside_the_repository(installed, tmp_path):
    code = (
        "import etcdkit.sops, etcdkit.facts.etcd; from etcdkit.remote.render import TEMPLATES, render; "
        "print(etcdkit.sops.__file__); print(TEMPLATES)"
    )
    result = subprocess.run([str(installed / "bin" / "python"), "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    sops, templates = result.stdout.split()
    assert sops.startswith(str(installed)) and templates.startswith(str(installed))


@pytest.mark.parametrize("script", ["etcd-add", "etcd-rm", "etcd-status", "etcd-backup", "etcd-restore"])
def test_console_scripts_answer_help(installed, tmp_path, script):
    path = installed / "bin" / script
    assert path.read_text().splitlines()[0] == f"#!{installed / 'bin' / 'python'}"
    result = subprocess.run([str(path), "--help"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith(f"usage: {script}")


def test_etcd_status_with_a_missing_inventory_fails_without_a_traceback(installed, tmp_path):
    result = subprocess.run([str(installed / "bin" / "etcd-status"), "-i", "nowhere.py"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode != 0 and "Traceback" not in result.stderr
