"""What a run computes once belongs to that run's pyinfra State: a later run never sees it."""

import gc

import pytest
from pyinfra.api import Config, Inventory, State
from pyinfra.api.exceptions import DeployError

from etcdkit.model.inventory import InventoryError
from etcdkit.model.run import run_context


def new_state() -> State:
    return State(Inventory(([], {})), Config())


def test_each_run_computes_its_own_plan_even_when_a_new_state_reuses_a_freed_id():
    gc.freeze()  # what the session holds already stays out of the collections below: they only free the States
    try:
        for number in range(3):  # CPython mostly reuses a freed State's id at once: a registry keyed by id served a stale plan
            state = new_state()
            assert run_context(state).once("create", lambda n=number: n) == number
            del state
            gc.collect()
    finally:
        gc.unfreeze()


def test_the_first_host_computes_and_the_others_share_the_result():
    state, calls = new_state(), []
    for _ in range(3):
        assert run_context(state).once("join", lambda: calls.append(1) or "plan") == "plan"
    assert calls == [1]
    assert run_context(state) is run_context(state)


def test_a_refusal_is_computed_once_and_raised_to_every_host():
    state, calls = new_state(), []

    def refuse():
        calls.append(1)
        raise InventoryError(["host 10.10.10.10: etcd_seq is missing"])

    for _ in range(2):
        with pytest.raises(DeployError, match="etcd_seq is missing"):
            run_context(state).once("create", refuse)
    assert calls == [1]
