"""What one pyinfra run knows beyond its facts, kept on the run's own State object and gone with it.

pyinfra prepares the hosts' deploys concurrently (gevent greenlets) in one process, and a process may
hold several runs one after another (the tests, the commands that run pyinfra in-process): what a run
computes once and shares between its hosts belongs to that run's State, never to a module.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from gevent.lock import BoundedSemaphore

ATTRIBUTE = "etcdkit_run"


@dataclass
class RunContext:
    """One run's shared results, computed once by the first host that needs them."""

    results: dict[str, object] = field(default_factory=dict)
    lock: BoundedSemaphore = field(default_factory=BoundedSemaphore)

    def once(self, key: str, compute: Callable[[], object]) -> object:
        """compute() the first time the key is asked for in this run, its result every time after;
        the other hosts wait meanwhile. An exception is kept as the result and raised to each host."""
        with self.lock:
            if key not in self.results:
                try:
                    self.results[key] = compute()
                except Exception as error:  # noqa: BLE001 - every host of the run gets the same refusal
                    self.results[key] = error
        result = self.results[key]
        if isinstance(result, Exception):
            raise result
        return result


def run_context(state) -> RunContext:
    """The context of the run of this pyinfra State (made on first use; no greenlet switch in between)."""
    context = getattr(state, ATTRIBUTE, None)
    if context is None:
        context = RunContext()
        setattr(state, ATTRIBUTE, context)
    return context
