"""templates/scripts/config-file.py run for real against folders laid out as the clients' hosts
lay them out (Pigsty: Patroni's config a link in a postgres folder to postgres' own file): root
reads and writes only where root alone can change the way; elsewhere the file's owner does, and a
file of root's reached that way is refused. `nobody` stands in for postgres."""

import json
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from etcdkit.facts.yaml import ConfigFile

SCRIPT = Path(__file__).resolve().parents[2] / "templates" / "scripts" / "config-file.py"
CONFIG_FILE = SCRIPT.read_text()
CONFIG = "# the site's comment\nscope: pg-test\netcd3:\n  hosts: 10.10.10.10:2379\n"
NEW = "# the site's comment\nscope: pg-test\netcd3:\n  hosts:\n  - 10.10.10.10:2379\n  - 10.10.10.11:2379\n"
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="hands files to another user (chown)")


def config_file(action: str, path, data: bytes = b"", env=None) -> subprocess.CompletedProcess:
    return subprocess.run(["python3", "-c", CONFIG_FILE, action, str(path)], input=data, capture_output=True, env=env)


def locate(path) -> dict | None:
    return ConfigFile().process(config_file("locate", path).stdout.decode().splitlines())


@pytest.fixture
def base():
    """A folder of root's, 0755 (others may walk it, as /etc and /data), removed afterwards; a
    folder of the test's user when it is not root."""
    folder = Path(tempfile.mkdtemp(prefix="etcdkit-config-file-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def owned(path: Path, user: str, mode: int) -> Path:
    account = pwd.getpwnam(user)
    os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)
    if not path.is_symlink():
        path.chmod(mode)
    return path


def test_the_fact_runs_the_script_by_its_path():
    command = ConfigFile().command(path="/etc/patroni/a b.yml").get_raw_value()
    assert command == f"python3 -c {shlex.quote(CONFIG_FILE)} locate '/etc/patroni/a b.yml'"


def test_a_file_is_read_and_replaced_in_its_folder_with_its_mode(base):
    config = base / "patroni.yml"
    config.write_text(CONFIG)
    config.chmod(0o640)
    found = locate(config)
    me = pwd.getpwuid(os.geteuid()).pw_name
    assert (found.target, found.user, found.mode, found.refused) == (str(config), me, "640", None)
    assert json.loads(config_file("read", config).stdout) == CONFIG
    before = config.stat().st_ino
    written = config_file("write", config, NEW.encode())
    assert written.returncode == 0, written.stderr
    assert config.read_text() == NEW and config.stat().st_ino != before  # a new file renamed over it
    assert stat.S_IMODE(config.stat().st_mode) == 0o640 and os.listdir(base) == ["patroni.yml"]


def test_no_file_no_answer(base):
    assert locate(base / "missing.yml") is None and locate(base) is None  # a folder is no config
    (base / "dangling.yml").symlink_to(base / "missing.yml")
    assert locate(base / "dangling.yml") is None
    failed = config_file("write", base / "missing.yml", b"x")
    assert failed.returncode == 1 and b"does not lead to a file" in failed.stderr and not (base / "missing.yml").exists()


@as_root
def test_where_root_alone_can_change_the_way_root_writes_and_keeps_the_owner(base):
    (base / "etc").mkdir(mode=0o755)
    config = base / "etc" / "vip-manager.yml"
    config.write_text(CONFIG)
    owned(config, "nobody", 0o640)
    found = locate(config)
    assert (found.writer, found.user, found.refused) == ("root", "nobody", None)
    assert config_file("write", config, NEW.encode()).returncode == 0
    info = config.stat()
    assert config.read_text() == NEW and (info.st_uid, stat.S_IMODE(info.st_mode)) == (pwd.getpwnam("nobody").pw_uid, 0o640)


def pigsty(base: Path) -> tuple[Path, Path]:
    """Pigsty's layout: /etc/patroni (postgres, 0700) links patroni.yml to /pg/conf/<instance>.yml
    (postgres' folder and file, 0700 and 0600)."""
    (base / "etc-patroni").mkdir()
    (base / "pg" / "conf").mkdir(parents=True)
    config = base / "pg" / "conf" / "pg-test-1.yml"
    config.write_text(CONFIG)
    owned(config, "nobody", 0o600)
    owned(base / "pg" / "conf", "nobody", 0o700)
    link = base / "etc-patroni" / "patroni.yml"
    link.symlink_to(config)
    owned(base / "etc-patroni", "nobody", 0o700)
    return link, config


@as_root
def test_where_postgres_can_change_the_way_its_file_is_read_and_written_as_postgres(base):
    link, config = pigsty(base)
    found = locate(link)
    assert (found.target, found.user, found.writer, found.refused) == (str(config), "nobody", "nobody", None)
    assert json.loads(config_file("read", link).stdout) == CONFIG
    assert config_file("write", link, NEW.encode()).returncode == 0
    info = config.stat()
    assert config.read_text() == NEW and (info.st_uid, stat.S_IMODE(info.st_mode)) == (pwd.getpwnam("nobody").pw_uid, 0o600)
    assert link.is_symlink() and os.listdir(config.parent) == ["pg-test-1.yml"]


@as_root
@pytest.mark.parametrize("where", ["the link", "the file"])
def test_a_file_of_root_reached_through_a_folder_of_postgres_is_refused(base, where):
    link, config = pigsty(base)
    victim = base / "victim.yml"
    victim.write_text("root-only: true\n")
    victim.chmod(0o600)
    swapped = link if where == "the link" else config
    swapped.unlink()
    swapped.symlink_to(victim)
    owned(swapped, "nobody", 0)
    folder = swapped.parent
    found = locate(link)
    assert found.refused.startswith(
        f"{link} leads to {victim}, a file of root's, through {base / 'etc-patroni'}, which nobody can change: "
        "etcdkit does not write it as root"
    )
    for action in ("read", "write"):
        refused = config_file(action, link, NEW.encode())
        assert refused.returncode == 1 and refused.stdout == b"" and found.refused.encode() in refused.stderr
    assert victim.read_text() == "root-only: true\n" and victim.stat().st_uid == 0 and folder.exists()


@as_root
def test_postgres_swapping_its_file_for_a_link_while_it_is_written_gains_nothing(base, tmp_path):
    """The race the folder's owner can always run: its file swapped for a link to a file of root's
    right before the new file is made. The write runs as postgres: the link is replaced, never
    followed, and root's file stays as it was."""
    link, config = pigsty(base)
    victim = base / "victim.yml"
    victim.write_text("root-only: true\n")
    victim.chmod(0o644)
    driver = tmp_path / "race.py"
    driver.write_text(
        "import os, runpy, sys, tempfile\n"
        "real = tempfile.mkstemp\n"
        "def swapping(*args, **kwargs):\n"
        "    os.unlink(os.environ['SWAP'])\n"
        "    os.symlink(os.environ['VICTIM'], os.environ['SWAP'])\n"
        "    return real(*args, **kwargs)\n"
        "tempfile.mkstemp = swapping\n"
        "sys.argv = ['config-file.py', 'write', sys.argv[1]]\n"
        "runpy.run_path(os.environ['SCRIPT'], run_name='__main__')\n"
    )
    driver.chmod(0o644)
    tmp_path.chmod(0o755)
    env = {**os.environ, "SWAP": str(config), "VICTIM": str(victim), "SCRIPT": str(SCRIPT)}
    raced = subprocess.run([sys.executable, str(driver), str(link)], input=NEW.encode(), capture_output=True, env=env)
    assert raced.returncode == 0, raced.stderr
    assert victim.read_text() == "root-only: true\n" and (victim.stat().st_uid, stat.S_IMODE(victim.stat().st_mode)) == (0, 0o644)
    assert not config.is_symlink() and config.read_text() == NEW and config.stat().st_uid == pwd.getpwnam("nobody").pw_uid


@as_root
@pytest.mark.parametrize(
    "mode, sticky_owner, who",
    [(0o775, None, "the group root"), (0o777, None, "every user"), (0o1777, "nobody", "nobody"), (0o1777, "root", None)],
    ids=["group-writable", "world-writable", "sticky, another user's entry", "sticky, root's entry"],
)
def test_who_can_change_a_folder_of_root(base, mode, sticky_owner, who):
    shared = base / "shared"
    shared.mkdir()
    shared.chmod(mode)
    (shared / "sub").mkdir()
    if sticky_owner:
        owned(shared / "sub", sticky_owner, 0o755)
    (shared / "sub" / "vip.yml").write_text(CONFIG)
    found = locate(shared / "sub" / "vip.yml")
    if who is None:
        assert found.refused is None and found.writer == "root"
    else:
        assert f"through {shared}, which {who} can change" in found.refused


@as_root
def test_an_owner_without_an_account_writes_by_its_number(base):
    (base / "conf").mkdir()
    config = base / "conf" / "patroni.yml"
    config.write_text(CONFIG)
    config.chmod(0o600)
    os.chown(config, 4242, 4242)
    os.chown(base / "conf", 4242, 4242)
    found = locate(config)
    assert (found.user, found.writer) == ("4242", "4242")
    assert config_file("write", config, NEW.encode()).returncode == 0
    assert config.read_text() == NEW and (config.stat().st_uid, config.stat().st_gid) == (4242, 4242)
