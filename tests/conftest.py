"""The suite leaves no lab running: the lab is torn down at the end (ETCD_LAB_KEEP=1 keeps it)."""

import os

import pytest

from tests.helpers import lab


@pytest.fixture(scope="session", autouse=True)
def lab_down_at_the_end():
    yield
    if os.environ.get("ETCD_LAB_KEEP") != "1":
        lab("down", check=False)
