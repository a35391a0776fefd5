"""Gates: operations that stop a host's part of a run unless a step it depends on, on another host,
succeeded earlier in the same run. pyinfra drops a host whose operation failed, but the other hosts
go on; and it orders the operations of different hosts by each host's own sequence first, so an
`_if=` on a host with fewer steps before it can be checked before the step it waits for ran (and
the step is skipped for good). A gate that every host of the run passes comes after every host's
earlier steps, makes each later step wait for it, and fails every host when its step did not succeed.
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
