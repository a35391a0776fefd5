"""Gates: operations that stop a host's part of a run unless a step it depends on, on another host,
succeeded earlier in the same run. pyinfra runs each host's operations in order and drops a host
whose operation failed, but another host goes on: a gate that every host of the run passes makes
each later step wait for that step, and fails every host when it did not succeed.
"""

from collections.abc import Callable

from pyinfra import host, state
from pyinfra.api import FunctionCommand, OperationError, operation


@operation()
def passed(check: Callable[[], bool], failure: str):
    """
    Fail this host with `failure` unless check() holds when the run executes (checked then: before
    the run, nothing has happened yet).

    + check: whether the step the next ones depend on succeeded in this run
    + failure: what the operator reads when it did not, and what to do
    """
    if state.is_executing and not check():
        yield FunctionCommand(_stop, (failure,), {})
        return
    host.noop("checked when the run executes" if not state.is_executing else "it did")


def _stop(failure: str) -> None:
    raise OperationError(failure)
