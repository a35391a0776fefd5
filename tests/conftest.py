"""The suite leaves no lab running: a session that booted lab nodes tears the lab down at the end
(ETCD_LAB_KEEP=1 keeps it); unit tests alone leave a running lab alone."""

import os

import pytest

from tests import helpers


@pytest.fixture(scope="session", autouse=True)
def lab_down_at_the_end():
    yield
    if helpers.lab_used and os.environ.get("ETCD_LAB_KEEP") != "1":
        helpers.lab("down", check=False)
