"""The gate between the CA rotation's phases, in a real pyinfra run over fake hosts (pyinfra's
@fake connector): a phase starts on no host once any host of the rotation failed in the previous
one, however it failed: a command that exits non-zero, an exception in a Python callback, a lost
connection."""

import errno
from types import SimpleNamespace

import pytest
from pyinfra import host
from pyinfra.api import Config, Inventory, OperationError, State
from pyinfra.api.connect import connect_all
from pyinfra.api.operation import add_op
from pyinfra.api.operations import run_ops
from pyinfra.operations import python, server

from etcdkit.tasks.rotation import all_succeeded

HOSTS = ["@fake/node1", "@fake/node2", "@fake/node3"]


def failure(how: str):
    """What the previous phase does on node2 (None: it succeeds there too)."""

    def callback(error):
        def fail():
            if host.name == "@fake/node2":
                raise error

        return fail

    return {
        "exits non-zero": None,
        "raises an OperationError": callback(OperationError("could not upload /etc/etcd/ca.crt")),
        "raises an OSError": callback(OSError(errno.EPERM, "Operation not permitted")),
        "loses its connection": callback(EOFError("SSH session not active")),
        "succeeds": None,
    }[how]


@pytest.mark.parametrize("how", ["exits non-zero", "raises an OperationError", "raises an OSError", "loses its connection", "succeeds"])
def test_the_next_phase_starts_only_when_every_host_succeeded(how):
    data = {"fake_delay": 0, "fake_delay_jitter": 0}
    failing = {"fake_responses": {"previous-phase": {"success": False}}} if how == "exits non-zero" else {}
    inventory = Inventory(([(name, {**data, **(failing if name.endswith("2") else {})}) for name in HOSTS], {}))
    state = State(inventory, Config())
    connect_all(state)
    reached = []
    plan = SimpleNamespace(hosts={name for name in HOSTS})
    if failure(how):
        add_op(state, python.call, name="Previous phase", function=failure(how))
    else:
        add_op(state, server.shell, name="Previous phase", commands=["true previous-phase"])
    add_op(state, python.call, name="Next phase", function=lambda: reached.append(host.name), _if=all_succeeded(plan))
    run_ops(state)
    assert sorted(reached) == ([] if how != "succeeds" else HOSTS)
    assert {h.name for h in state.failed_hosts} == (set() if how == "succeeds" else {"@fake/node2"})


def test_a_host_outside_the_rotation_that_fails_does_not_hold_it_up():
    inventory = Inventory(([(name, {"fake_delay": 0, "fake_delay_jitter": 0}) for name in HOSTS], {}))
    state = State(inventory, Config())
    connect_all(state)
    reached = []
    add_op(state, python.call, name="Previous phase", function=failure("raises an OSError"))
    plan = SimpleNamespace(hosts={"@fake/node1", "@fake/node3"})
    add_op(state, python.call, name="Next phase", function=lambda: reached.append(host.name), _if=all_succeeded(plan))
    run_ops(state)
    assert sorted(reached) == ["@fake/node1", "@fake/node3"]
