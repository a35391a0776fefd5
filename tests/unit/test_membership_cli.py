"""etcd-add and etcd-rm: the SOP runs they make, in order, and the progress lines they print on
stderr (which step runs for which member, which one failed, how long the whole took), with
pyinfra's runs faked: no host is contacted."""

import pytest

from etcdkit.cli import membership
from etcdkit.cli.run import Outcome

INVENTORY = """etcd = (
    [("10.10.10.10", {"etcd_seq": 1}), ("10.10.10.11", {"etcd_seq": 2}), ("10.10.10.12", {"etcd_seq": 3}),
     ("10.10.10.13", {"etcd_seq": 4}), ("10.10.10.14", {"etcd_seq": 5})],
    {"etcd_cluster": "etcd-main"},
)
"""


@pytest.fixture
def inventory(tmp_path, monkeypatch):
    monkeypatch.delenv("ETCD_INVENTORY", raising=False)
    path = tmp_path / "inv.py"
    path.write_text(INVENTORY)
    return str(path)


@pytest.fixture
def runs(monkeypatch):
    """The SOP runs made (the SOP's name, its arguments, then the pyinfra options); each takes 4.8 s of a fake clock.
    Set runs.failing to the number of the run (from 1) that fails."""
    made, clock = [], [100.0]

    def run(command):
        at = next(i for i, word in enumerate(command) if word.startswith("etcdkit.sops."))
        made.append([command[at].removeprefix("etcdkit.sops."), *command[at + 1 :], *command[1 : at - 1]])  # the SOP, its args, options
        clock[0] += 4.8
        return Outcome(1 if len(made) == made.failing else 0, None, "")

    made = type("Runs", (list,), {"failing": None})()
    monkeypatch.setattr(membership, "run_pyinfra", run)
    monkeypatch.setattr(membership.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(membership, "reachable", lambda address: address != "10.10.10.14")
    return made


def progress(err: str) -> list[str]:
    """The command's own lines (pyinfra's command echo and output left out)."""
    return [line for line in err.splitlines() if line.startswith(("etcd-add:", "etcd-rm:"))]


ADD = ["add", "--data", "etcd_join=10.10.10.13,10.10.10.14"]  # each run joins the next one, then reloads


def test_etcd_add_announces_each_join_and_reload_and_the_time(inventory, runs, capsys):
    assert membership.add(["-y", "-i", inventory, "10.10.10.13", "10.10.10.14"]) == 0
    assert runs == [ADD, ADD]
    assert progress(capsys.readouterr().err) == [
        "etcd-add: joining 10.10.10.13 to cluster etcd-main, then reloading its members and clients (add SOP)...",
        "etcd-add: joining 10.10.10.14 to cluster etcd-main, then reloading its members and clients (add SOP)...",
        "etcd-add: 10.10.10.13 10.10.10.14 joined; the members' and their clients' configuration reloaded",
        "etcd-add: done in 9.6 s",
    ]


def test_a_failed_run_names_its_step_and_stops_the_rest(inventory, runs, capsys):
    runs.failing = 2
    assert membership.add(["-y", "-i", inventory, "10.10.10.13", "10.10.10.14"]) == 1
    assert runs == [ADD, ADD]
    assert progress(capsys.readouterr().err)[-2:] == [
        "etcd-add: FAILED after 4.8 s: joining 10.10.10.14 to cluster etcd-main, then reloading its members and clients (add SOP)",
        "etcd-add: 10.10.10.13 joined; 10.10.10.14's run failed in its change or in the reload after it. Fix the cause (see above), "
        "then run etcd-add 10.10.10.14",
    ]


def test_etcd_rm_announces_each_removal_a_dead_host_and_the_reload_without_the_departed(inventory, runs, capsys):
    assert membership.remove(["-y", "-i", inventory, "10.10.10.13", "10.10.10.14"]) == 0
    assert runs == [  # each run reloads the others; the hosts that departed before are left out
        ["rm", "--data", "etcd_remove=10.10.10.13"],
        ["rm", "--data", "etcd_remove=10.10.10.14", "--exclude", "10.10.10.13", "--exclude", "10.10.10.14"],
    ]
    assert progress(capsys.readouterr().err) == [
        "etcd-rm: removing 10.10.10.13 from cluster etcd-main, then reloading the members and clients (rm SOP)...",
        "etcd-rm: 10.10.10.14 does not answer on ssh: removing it through the surviving members",
        "etcd-rm: removing 10.10.10.14 from cluster etcd-main, then reloading the members and clients (rm SOP)...",
        "etcd-rm: 10.10.10.13 10.10.10.14 left the cluster; the members' and their clients' configuration reloaded",
        "etcd-rm: done in 9.6 s",
        "etcd-rm: now drop them from the inventory",
    ]


def test_a_failed_removal_names_its_step(inventory, runs, capsys):
    runs.failing = 1
    assert membership.remove(["-y", "-i", inventory, "10.10.10.12"]) == 1
    assert runs == [["rm", "--data", "etcd_remove=10.10.10.12"]]
    assert progress(capsys.readouterr().err)[-2:] == [
        "etcd-rm: FAILED after 4.8 s: removing 10.10.10.12 from cluster etcd-main, then reloading the members and clients (rm SOP)",
        "etcd-rm: 10.10.10.12's run failed in its change or in the reload after it. Fix the cause (see above), then run etcd-rm 10.10.10.12",
    ]


@pytest.mark.parametrize(("failing", "code", "last"), [(None, 0, "etcd-rm: done in 4.8 s"), (1, 1, "etcd-rm: FAILED after 4.8 s")])
def test_destroy_announces_its_one_step(inventory, runs, capsys, failing, code, last):
    runs.failing = failing
    assert membership.remove(["-y", "-i", inventory, "--destroy", "etcd-main"]) == code
    assert runs == [["destroy"]]
    lines = progress(capsys.readouterr().err)
    assert lines[0] == "etcd-rm: destroying cluster etcd-main (destroy SOP)..."
    assert lines[-1].startswith(last)


def test_nothing_runs_for_an_address_outside_the_inventory(inventory, runs):
    with pytest.raises(membership.UsageError, match="10.10.10.99 is not in group `etcd`"):
        membership.add(["-y", "-i", inventory, "10.10.10.99"])
    assert runs == []


def test_the_pyinfra_command_line_it_shows_masks_the_values_of_passwords(inventory, runs, capsys):
    options = ["--data", "etcd_root_password=R00t-S3cret", "--data", "pg_etcd_password=pg-S3cret", "--data", "etcd_rm_pkg=true"]
    assert membership.remove(["-y", "-i", inventory, *options, "10.10.10.13"]) == 0
    err = capsys.readouterr().err
    assert "R00t-S3cret" not in err and "pg-S3cret" not in err
    shown = [line for line in err.splitlines() if line.startswith("$ pyinfra ")]
    assert shown and all("--data etcd_root_password=*** --data pg_etcd_password=*** --data etcd_rm_pkg=true" in line for line in shown)
    assert runs and all("etcd_root_password=R00t-S3cret" in run for run in runs)  # pyinfra itself gets the values
