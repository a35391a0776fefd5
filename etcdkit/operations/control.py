"""The control node's part of a run: its PKI folder brought to what the plan needs."""

from pyinfra import host
from pyinfra.api import FunctionCommand, operation

from etcdkit.control.store import ControlWork


@operation()
def pki(work: ControlWork):
    """
    Create the CA, issue the certificates that are missing or due for renewal and generate the
    passwords that are neither configured nor kept, on the control node, when the run executes.

    + work: what the run needs (the plan's ControlWork)
    """
    pending = work.pending()
    if not pending:
        host.noop("the PKI folder holds the CA, the certificates and the passwords of this run")
        return
    yield FunctionCommand(work.apply, (), {})
