"""The clock is read where a run starts and passed down as a value, so no result ages: the tests
pass their own NOW, and the whole unit suite passes as well with the machine's clock a year ahead
(`make coverage` runs it under faketime)."""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.sources import etcdkit_modules, parsed, walk

ROOT = Path(__file__).resolve().parents[2]
TEXT = {"capture_output": True, "text": True, "check": True}

# The only modules that read the clock, each once where its run or command starts.
READERS = {
    "etcdkit/plans/gather.py": "read_control: the run's time, by which certificates are judged and issued",
    "etcdkit/plans/status.py": "report: the time the status is checked at",
    "etcdkit/model/backups.py": "utc_now: the time that names a snapshot, read by the plans' gather",
    "etcdkit/cli/status.py": "the checked_at of a status that could not be made",
    "etcdkit/cli/ca.py": "the start of a new CA's validity",
}
CLOCK_CALLS = {"now", "utcnow", "today", "time", "time_ns"}


def clock_reads(path: Path) -> list[int]:
    """Lines that call datetime.now(), datetime.utcnow(), date.today() or time.time()."""
    lines = []
    for node in walk(parsed(path)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CLOCK_CALLS:
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if name in ("datetime", "date", "time"):
                lines.append(node.lineno)
    return lines


def test_the_clock_is_read_only_where_a_run_or_command_starts():
    readers = {str(path.relative_to(ROOT)): clock_reads(path) for path in etcdkit_modules()}
    readers = {path: lines for path, lines in readers.items() if lines}
    assert set(readers) == set(READERS), readers
    assert all(len(lines) == 1 for lines in readers.values()), readers


def test_the_scan_sees_a_clock_read(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import time\nfrom datetime import UTC, date, datetime\ndatetime.now(UTC)\ndate.today()\ntime.time()\nplan.now()\n")
    assert clock_reads(module) == [3, 4, 5]


@pytest.mark.skipif(sys.platform != "linux", reason="libfaketime is Linux's")
def test_faketime_moves_the_clock_of_the_tests_a_year_ahead():
    """`make coverage` runs the whole unit suite under `faketime -f +400d`; this checks that faketime
    (Debian's package, which `make setup` installs: missing, this fails, not skips) does move the
    clock this interpreter reads."""
    assert shutil.which("faketime"), "faketime is missing: make setup installs it (Debian package faketime)"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FAKETIME", "LD_PRELOAD"))}
    ahead = subprocess.run(["faketime", "-f", "+400d", sys.executable, "-c", "import time; print(time.time())"], env=env, **TEXT)
    now = subprocess.run([sys.executable, "-c", "import time; print(time.time())"], env=env, **TEXT)
    assert float(ahead.stdout) - float(now.stdout) > 399 * 86400
