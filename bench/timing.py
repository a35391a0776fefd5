"""Helpers for the benchmark scripts: run a command from the repository root and time it."""

import os
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Watched:
    seconds: float
    lines: list[tuple[float, str]]  # its output (stdout and stderr together), each line with its time since the start


class CommandFailed(Exception):
    pass


def watched(*command: str, env=None) -> Watched:
    """Run the command and time it and each line of its output as it comes (Python children unbuffered)."""
    started = time.monotonic()
    with subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        lines = [(time.monotonic() - started, line.rstrip("\n")) for line in process.stdout]
    seconds = time.monotonic() - started
    if process.returncode != 0:
        tail = "\n".join(line for _, line in lines[-40:])
        raise CommandFailed(f"{' '.join(command)} failed ({process.returncode}) after {seconds:.1f} s:\n{tail}")
    return Watched(seconds, lines)


def timed(*command: str, env=None) -> float:
    return watched(*command, env=env).seconds


def summary(label: str, seconds: list[float]) -> str:
    return (
        f"{label:<40} median {statistics.median(seconds):6.2f} s   "
        f"min {min(seconds):6.2f} s   max {max(seconds):6.2f} s   (n={len(seconds)})"
    )
