"""Helpers for the benchmark scripts: run a command from the repository root and time it."""

import os
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(*command: str, env=None) -> float:
    started = time.monotonic()
    subprocess.run(command, cwd=ROOT, env={**os.environ, **(env or {})}, check=True, capture_output=True)
    return time.monotonic() - started


def summary(label: str, seconds: list[float]) -> str:
    return (
        f"{label:<40} median {statistics.median(seconds):6.2f} s   "
        f"min {min(seconds):6.2f} s   max {max(seconds):6.2f} s   (n={len(seconds)})"
    )
