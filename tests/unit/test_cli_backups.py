"""etcd-backup and etcd-restore: what they check before any pyinfra run, and which runs they make."""

import pytest

from etcdkit.cli import backups
from etcdkit.cli.membership import run_cli


@pytest.fixture
def inventory(tmp_path):
    path = tmp_path / "inventory.py"
    path.write_text('etcd = ([("10.10.10.10", {"etcd_seq": 1})], {"etcd_cluster": "etcd"})\n')
    return path


@pytest.fixture
def runs(monkeypatch):
    """The pyinfra runs the command makes (SOP and arguments); each succeeds unless its SOP is in `fail`."""
    made, fail = [], set()
    monkeypatch.setattr(
        backups, "pyinfra", lambda inventory, sop, *args, options=(): made.append((sop, *args, *options)) or (1 if sop in fail else 0)
    )
    return made, fail


def test_backup_runs_the_backup_sop(inventory, runs):
    assert run_cli(backups.backup, ["-i", str(inventory)], "etcd-backup") == 0
    assert runs[0] == [("backup",)]


def test_pyinfra_options_are_passed_through_to_every_run(inventory, runs):
    options = ["--ssh-user", "admin", "--ssh-key", "/keys/admin", "--sudo", "--data", "etcd_backup_keep=3", "-vv"]
    assert run_cli(backups.backup, ["-i", str(inventory), *options], "etcd-backup") == 0
    assert runs[0] == [("backup", "--ssh-user", "admin", "--ssh-key", "/keys/admin", "--sudo", "--data", "etcd_backup_keep=3", "-vv")]


def test_restore_restores_then_reloads_the_clients(tmp_path, inventory, runs):
    snapshot = tmp_path / "etcd-20250101T120000Z.db"
    snapshot.write_bytes(b"x")
    assert run_cli(backups.restore, ["-i", str(inventory), "-y", str(snapshot)], "etcd-restore") == 0
    assert runs[0] == [("restore", "--data", f"etcd_restore={snapshot}"), ("reload",)]


def test_a_failed_restore_reloads_nothing(tmp_path, inventory, runs):
    snapshot = tmp_path / "etcd-20250101T120000Z.db"
    snapshot.write_bytes(b"x")
    runs[1].add("restore")
    assert run_cli(backups.restore, ["-i", str(inventory), "-y", str(snapshot)], "etcd-restore") == 1
    assert runs[0] == [("restore", "--data", f"etcd_restore={snapshot}")]


@pytest.mark.parametrize("argv", [["-y", "missing.db"], ["-i", "no-such-inventory.py", "-y", "x.db"]], ids=["no file", "no inventory"])
def test_a_missing_file_or_inventory_runs_nothing(tmp_path, inventory, runs, argv, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = argv if "-i" in argv else ["-i", str(inventory), *argv]
    assert run_cli(backups.restore, argv, "etcd-restore") == 2
    assert runs[0] == [] and capsys.readouterr().err.startswith("etcd-restore: no ")


def test_no_inventory_is_a_usage_error(monkeypatch):
    monkeypatch.delenv("ETCD_INVENTORY", raising=False)
    with pytest.raises(SystemExit) as exited:
        backups.backup([])
    assert exited.value.code == 2


def test_restore_as_typed_is_previewed_before_the_countdown(tmp_path, inventory, runs, monkeypatch):
    snapshot = tmp_path / "etcd-20250101T120000Z.db"
    snapshot.write_bytes(b"x")
    monkeypatch.setattr(backups, "countdown", lambda warning, yes: runs[0].append("countdown"))
    assert run_cli(backups.restore, ["-i", str(inventory), str(snapshot)], "etcd-restore") == 0
    restore = ("restore", "--data", f"etcd_restore={snapshot}")
    assert runs[0] == [(*restore, "--dry"), "countdown", restore, ("reload",)]


def test_a_refused_preview_stops_before_the_countdown(tmp_path, inventory, runs, monkeypatch, capsys):
    snapshot = tmp_path / "etcd-20250101T120000Z.db"
    snapshot.write_bytes(b"x")
    monkeypatch.setattr(backups, "countdown", lambda warning, yes: runs[0].append("countdown"))
    runs[1].add("restore")
    assert run_cli(backups.restore, ["-i", str(inventory), str(snapshot)], "etcd-restore") == 1
    assert runs[0] == [("restore", "--data", f"etcd_restore={snapshot}", "--dry")]
    assert "refused (see above): nothing was changed" in capsys.readouterr().err
