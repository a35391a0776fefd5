"""What the whole unit suite shares, both for its speed (tests/unit runs in under 15 s):

- `python3` run by the tests (the host-side scripts of templates/scripts/) is the interpreter running the
  tests, found first on PATH: a version manager's `python3` shim starts seven times slower.
- pyinfra's list of connectors and its global arguments are read once: otherwise every `Inventory`
  the in-process SOP tests build scans the installed packages' entry points again (7 ms), and every
  operation evaluates the type hints of the global arguments again (0.3 ms).
"""

import functools
import os
import sys
from pathlib import Path

import pytest
from pyinfra.api import arguments, connectors, inventory


@pytest.fixture(scope="session", autouse=True)
def fast_python3_and_connectors():
    here = str(Path(sys.executable).parent)
    path, os.environ["PATH"] = os.environ["PATH"], os.pathsep.join([here, os.environ["PATH"]])
    read_once = functools.cache(connectors.get_all_connectors)
    patched = pytest.MonkeyPatch()
    patched.setattr(inventory, "get_all_connectors", read_once)
    patched.setattr(connectors, "get_all_connectors", read_once)
    global_arguments = functools.cache(arguments.all_global_arguments)
    patched.setattr(arguments, "all_global_arguments", lambda: list(global_arguments()))
    yield
    patched.undo()
    os.environ["PATH"] = path
