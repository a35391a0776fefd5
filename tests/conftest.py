"""The suite leaves no lab running: a session that booted lab nodes tears the lab down at the end
(ETCD_LAB_KEEP=1 keeps it); unit tests alone leave a running lab alone. A module or test marked
`@pytest.mark.etcd(version, *sops)` runs its SOPs on that etcd version (docs/versions.md)."""

import os

import pytest

from tests import helpers


@pytest.fixture(scope="session", autouse=True)
def lab_down_at_the_end():
    yield
    if helpers.lab_used and os.environ.get("ETCD_LAB_KEEP") != "1":
        helpers.lab("down", check=False)


def _marked(node) -> str | None:
    marker = node.get_closest_marker("etcd")
    return marker.args[0] if marker else None


@pytest.fixture(scope="module", autouse=True)
def etcd_version_of_the_module(request):
    """The module's `etcd` marker pins the SOP runs of its fixtures and tests (tests/helpers.py)."""
    helpers.marked_version = _marked(request.node)
    yield
    helpers.marked_version = None


@pytest.fixture(autouse=True)
def etcd_version_of_the_test(request):
    """A test's own `etcd` marker (else its module's) pins its SOP runs; the module's pin comes back after it."""
    module, helpers.marked_version = helpers.marked_version, _marked(request.node)
    yield
    helpers.marked_version = module
