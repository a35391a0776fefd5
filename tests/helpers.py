"""Helpers shared by the test suites: the lab command and ssh to lab nodes."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / "bin" / "lab"


def lab(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(LAB), *args], text=True, capture_output=True, **kwargs)
    if check and result.returncode != 0:
        pytest.fail(f"bin/lab {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def ssh(address: str, command: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    """Plain OpenSSH, as a user would type it: the lab's SSH config makes it work without flags."""
    result = subprocess.run(
        ["ssh", "-o", "BatchMode=yes", address, command], text=True, capture_output=True, timeout=timeout
    )
    if check and result.returncode != 0:
        pytest.fail(f"ssh {address} {command!r} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result
