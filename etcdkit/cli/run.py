"""The one way etcdkit's commands run a SOP: pyinfra's own command line, in this process.

The commands (etcd-status, etcd-add, etcd-rm, etcd-backup, etcd-restore) pass pyinfra's options
through, so they run pyinfra's CLI itself (its inventory loading, --data, --limit, login options and
output) rather than a copy of it. Run in this process, a SOP's result is read from the run's
RunContext (etcdkit.model.run), never parsed from its output, and the interpreter's start and
pyinfra's imports are paid once per command, not once per run.
"""

import io
import logging
import sys
from collections.abc import Sequence
from contextlib import nullcontext, redirect_stderr, redirect_stdout
from dataclasses import dataclass

import click

from etcdkit.model.run import RunContext, run_context


@dataclass(frozen=True)
class Outcome:
    """How one pyinfra run ended."""

    exit_code: int  # pyinfra's: 0 when no host failed
    context: RunContext | None  # the run's context (what its SOP left there); None: no run started
    output: str  # pyinfra's output, when it was captured; else empty


def run_pyinfra(args: Sequence[str], capture: bool = False) -> Outcome:
    """`pyinfra ARGS` run in this process, its output shown, or captured (capture=True).

    As pyinfra's own entry point does: CLI mode, click's echo for its output, the working directory
    importable. What the run sets process-wide is undone when it ends (CLI mode, its State,
    inventory and config, the handler and level it gives pyinfra's logger), so that a command that runs
    several SOPs prints each line once and the next run starts as the first did."""
    import pyinfra
    from pyinfra.api.output import set_echo, set_formatter
    from pyinfra.context import ctx_config, ctx_inventory, ctx_state
    from pyinfra_cli.cli import cli

    logger = logging.getLogger("pyinfra")
    was_cli, logging_was = pyinfra.is_cli, (list(logger.handlers), logger.level, logger.propagate)
    pyinfra.is_cli = True
    set_formatter(click.style)
    set_echo(click.echo)
    if "." not in sys.path:
        sys.path.append(".")
    buffer = io.StringIO()
    try:
        with redirect_stdout(buffer) if capture else nullcontext(), redirect_stderr(buffer) if capture else nullcontext():
            exit_code = _exit_code(lambda: cli.main(args=list(args), prog_name="pyinfra", standalone_mode=False))
        state = ctx_state.get()
    finally:
        pyinfra.is_cli = was_cli
        logger.handlers[:], logger.level, logger.propagate = logging_was
        for context in (ctx_state, ctx_inventory, ctx_config):
            context.reset()
    return Outcome(exit_code, run_context(state) if state is not None else None, buffer.getvalue())


def _exit_code(run) -> int:
    """pyinfra's exit code: its CLI ends every run with sys.exit, and reports a bad option or an
    error of the run as a click exception (shown as pyinfra shows it)."""
    try:
        run()
    except SystemExit as end:
        return end.code if isinstance(end.code, int) else (0 if end.code is None else 1)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Exit as end:
        return end.exit_code
    except click.Abort:
        print("Aborted!", file=sys.stderr)
        return 1
    return 0
