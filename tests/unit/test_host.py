"""What a host's facts say of its etcd: running is one definition, whoever asks."""

import pytest

from etcdkit.model.host import running, start_needed


@pytest.mark.parametrize(
    "active, runs, start",
    [
        ("active", True, False),
        ("activating", True, False),
        ("reloading", True, False),
        ("deactivating", True, True),  # still holds its ports and data, but on its way down
        ("inactive", False, True),
        ("failed", False, True),
        ("", False, True),  # no unit
        (None, False, True),
    ],
)
def test_running_and_whether_a_start_is_needed(active, runs, start):
    assert (running(active), start_needed(active)) == (runs, start)
