"""files.put_all: a member's folders and files in one operation, from one reading of the host:
facts in, commands out, a second run a no-op, secrets only in the transfer."""

import hashlib
from pathlib import Path

import pytest
from etcdkit.facts.etcd import HostFiles
from pyinfra.api import OperationError

from etcdkit.control.passwords import Secret
from etcdkit.model import paths
from etcdkit.model.host import EtcdHostState, FileStat
from etcdkit.model.run import run_context
from etcdkit.operations.files import Item, control_node_rewrites, put_all
from tests.unit.fake_host import FakeHost, active, call, describe, fact, run, shell, steps

DATA = "/var/lib/etcd"
CONF = "name: etcd-1\n"
UNIT = "[Service]\nExecStart=/usr/bin/etcd\n"


def items(password: Secret | Path | str = "a long generated root password\n") -> tuple[Item, ...]:
    return (
        Item(paths.CONF_DIR, "root", "etcd", "750"),
        Item(DATA, "etcd", "etcd", "700"),
        Item(paths.PASS, "root", "etcd", "640", password),
        Item(paths.CONF, "root", "etcd", "644", CONF),
        Item(paths.UNIT, "root", "root", "644", UNIT),
    )


def held(*present: Item, **contents: str) -> EtcdHostState:
    """A host holding these items as wanted (a file's content from contents, by its name, else its source)."""
    files, sha256 = {}, {}
    for item in present:
        files[item.path] = FileStat(item.user, item.group, int(item.mode), "directory" if item.source is None else "regular file")
        if item.source is not None:
            sha256[item.path] = hashlib.sha256(contents.get(Path(item.path).name, item.source).encode()).hexdigest()
    return EtcdHostState(files={item.path: files.get(item.path) for item in items()}, sha256=sha256)


def host_with(state: EtcdHostState) -> FakeHost:
    return FakeHost({fact(HostFiles, paths=tuple(item.path for item in items())): state})


def put(host: FakeHost, wanted=None, executing=False) -> list:
    return run(put_all, items=wanted or items(), host=host, executing=executing)


@pytest.mark.parametrize("sudo", [False, True], ids=["as root", "with sudo"])
def test_on_a_bare_host_everything_is_made_in_three_commands_through_one_private_folder(sudo):
    host = host_with(held())
    commands = put(host)
    assert [describe(c) for c in commands] == [
        f"mkdir -p -- {paths.CONF_DIR} {DATA}",
        "call _install_all",
        " && ".join(f"chown {item.user}:{item.group} {item.path} && chmod {item.mode} {item.path}" for item in items()),
    ]  # no daemon-reload for the new unit: the member's start enables it, which reloads systemd
    host.current_op_global_arguments = {"_sudo": True} if sudo else {}
    call(commands[1], host)
    [folder] = host.temporaries
    assert host.commands[0] == 'mktemp -d "${TMPDIR:-/tmp}/etcdkit.XXXXXXXXXX"'  # the SSH user's own, 0700
    assert set(host.uploads) == {f"{folder}/0", f"{folder}/1", f"{folder}/2"}
    assert host.installed() == {paths.PASS: b"a long generated root password\n", paths.CONF: CONF.encode(), paths.UNIT: UNIT.encode()}
    assert host.commands[1].startswith(f"(umask 077 && touch -- {paths.PASS}) && chmod go-rwx -- {paths.PASS} && cat -- {folder}/0 > ")
    assert host.commands[2] == f"rm -rf {folder}"  # whatever happened
    assert host.privileged == ([host.commands[1]] if sudo else [])


def test_the_password_travels_only_in_the_transfer(tmp_path):
    secret = Secret(tmp_path / "root.password")
    secret.path.write_text("s3cret-password-value")
    host = host_with(held())
    commands = put(host, items(secret))
    assert all("s3cret" not in text for text in shell(commands))
    assert all("s3cret" not in repr((c.args, c.kwargs)) for c in commands if describe(c).startswith("call"))
    call(commands[1], host)
    assert host.installed()[paths.PASS] == b"s3cret-password-value"
    assert all("s3cret" not in text for text in host.commands)


def test_a_host_holding_everything_as_the_plan_read_it_is_a_noop_without_a_round_trip():
    host = host_with(held())  # a fresh reading would say otherwise: it must not be asked
    run_context(host.run_state).host_states[host.name] = held(*items())
    assert put(host) == [] and len(host.noops) == 1
    assert host.asked == []


def test_the_second_run_is_a_noop():
    host = host_with(held(*items()))
    assert put(host) == [] and len(host.noops) == 1


def test_what_the_plan_read_as_changed_is_read_again_and_only_what_differs_is_written():
    host = host_with(held(*items(), **{"etcd.conf": "name: etcd-0\n"}))  # fresh: etcd.conf differs
    run_context(host.run_state).host_states[host.name] = held()  # the plan's reading: nothing there
    commands = put(host)
    assert [describe(c) for c in commands] == ["call _install_all", f"chown root:etcd {paths.CONF} && chmod 644 {paths.CONF}"]
    call(commands[0], host)
    assert host.installed() == {paths.CONF: CONF.encode()}


def test_an_owner_or_mode_alone_is_set_without_a_transfer():
    wrong = held(*items())
    owners = {DATA: FileStat("root", "root", 755, "directory"), paths.UNIT: FileStat("root", "root", 600, "regular file")}
    wrong = EtcdHostState(files={**wrong.files, **owners}, sha256=wrong.sha256)
    assert [describe(c) for c in put(host_with(wrong))] == [
        f"chown etcd:etcd {DATA} && chmod 700 {DATA} && chown root:root {paths.UNIT} && chmod 644 {paths.UNIT}"
    ]


@pytest.mark.parametrize(("path", "kind"), [(paths.CONF, "symbolic link"), (paths.CONF, "directory"), (DATA, "regular file")])
def test_nothing_is_written_through_a_link_or_over_a_path_of_another_kind(path, kind):
    state = held()
    state = EtcdHostState(files={**state.files, path: FileStat("root", "root", 777, kind)})
    with pytest.raises(OperationError, match=f"{path} is a {kind} on 10.10.10.10"):
        put(host_with(state))


def test_a_file_the_control_node_rewrites_is_shown_as_a_change_then_written_when_it_runs(tmp_path):
    source = tmp_path / "root.password"
    source.write_text("the old password\n")
    host = host_with(held(*items(), **{"etcd.pass": "the old password\n"}))
    control_node_rewrites(host.run_state, {source})
    prepared = put(host, items(source))
    assert f": '{paths.PASS} gets a file the control node writes when the run executes'" in shell(prepared)
    source.write_text("the new password\n")  # the control-node operation ran
    with active(host, executing=True):
        executed = list(steps(put_all, items=items(source)))
    call(executed[0], host)
    assert host.installed() == {paths.PASS: b"the new password\n"}


def test_a_password_not_written_on_the_control_node_stops_the_run(tmp_path):
    host = host_with(held())
    with pytest.raises(OperationError, match=f"was not written on the control node: nothing to upload to {paths.PASS}"):
        put(host, items(Secret(tmp_path / "root.password")), executing=True)
