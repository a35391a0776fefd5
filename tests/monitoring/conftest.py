"""promtool (Debian's `prometheus` package, installed by `make setup`) for the monitoring tests."""

import os
import shutil

import pytest


@pytest.fixture(scope="session")
def promtool() -> str:
    """promtool's path; without it the test is skipped, except in CI (CI set), where it fails."""
    path = shutil.which("promtool")
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail("promtool is missing: CI must install Debian's prometheus package (make setup)")
    pytest.skip("promtool is missing: install Debian's prometheus package (make setup)")
