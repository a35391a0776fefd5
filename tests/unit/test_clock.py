"""The clock is read where a run starts and passed down as a value, so no result ages: the tests
pass their own NOW, and the ones about time pass as well with the machine's clock a year ahead."""

import ast
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

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

# The unit tests whose subject is time: certificates' days left and renewal, snapshot names and ages.
ABOUT_TIME = ["test_status.py", "test_pki.py", "test_plan_backup.py", "test_plan_restore.py", "test_backups.py", "test_plan_rotate_ca.py"]


def clock_reads(path: Path) -> list[int]:
    """Lines that call datetime.now(), datetime.utcnow(), date.today() or time.time()."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CLOCK_CALLS:
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if name in ("datetime", "date", "time"):
                lines.append(node.lineno)
    return lines


def test_the_clock_is_read_only_where_a_run_or_command_starts():
    sources = [*sorted((ROOT / "etcdkit").rglob("*.py")), *sorted((ROOT / "facts").rglob("*.py"))]
    readers = {str(path.relative_to(ROOT)): clock_reads(path) for path in sources}
    readers = {path: lines for path, lines in readers.items() if lines}
    assert set(readers) == set(READERS), readers
    assert all(len(lines) == 1 for lines in readers.values()), readers


def test_the_scan_sees_a_clock_read(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import time\nfrom datetime import UTC, date, datetime\ndatetime.now(UTC)\ndate.today()\ntime.time()\nplan.now()\n")
    assert clock_reads(module) == [3, 4, 5]


@pytest.mark.skipif(sys.platform != "linux", reason="libfaketime is Linux's")
def test_the_tests_about_time_pass_with_the_clock_a_year_ahead():
    """`make setup` installs faketime (Debian's package): without it this test fails, not skips."""
    assert shutil.which("faketime"), "faketime is missing: make setup installs it (Debian package faketime)"
    files = [str(Path(__file__).parent / name) for name in ABOUT_TIME]
    command = ["faketime", "-f", "+400d", sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=0", *files]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    ahead = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert ahead.returncode == 0, ahead.stdout[-3000:]
    if "FAKETIME" not in os.environ:  # not already run a year ahead as a whole: faketime really moved the clock
        ahead_now = subprocess.run(["faketime", "-f", "+400d", sys.executable, "-c", "import time; print(time.time())"], **TEXT)
        assert float(ahead_now.stdout) - time.time() > 399 * 86400
