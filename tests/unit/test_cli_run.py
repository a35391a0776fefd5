"""etcdkit/cli/run.py: pyinfra's own command line, run in the commands' process."""

import logging

from etcdkit.cli.run import run_pyinfra


def test_a_run_in_this_process_gives_its_exit_code_its_context_and_its_output():
    logger = logging.getLogger("pyinfra")
    before = (list(logger.handlers), logger.level, logger.propagate)
    ok = run_pyinfra(["-y", "@local", "exec", "--", "echo", "from-the-host"], capture=True)
    assert ok.exit_code == 0 and ok.context is not None
    assert "from-the-host" in ok.output
    failed = run_pyinfra(["-y", "@local", "exec", "--", "false"], capture=True)
    assert failed.exit_code == 1 and failed.context is not ok.context  # each run its own State and context
    # each run's log handler is gone again: a second run in the same process prints its lines once
    assert (logger.handlers, logger.level, logger.propagate) == before


def test_a_bad_command_line_is_pyinfras_usage_error(capsys):
    outcome = run_pyinfra(["-y", "--no-such-option", "@local", "exec", "--", "true"])
    assert outcome.exit_code == 2 and outcome.context is None
    assert "No such option '--no-such-option'" in capsys.readouterr().err
