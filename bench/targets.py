"""The targets of issue 19, each a limit on one number of bench/results.json, and whether a run met them."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    text: str
    step: str
    key: str  # a key of the step's object, or of its "writes"
    limit: float
    unit: str = " s"

    def value(self, results: dict) -> float | None:
        found = results.get(self.step, {})
        return found.get(self.key, found.get("writes", {}).get(self.key))

    def met(self, results: dict) -> bool | None:
        """None when the run did not measure it."""
        value = self.value(results)
        return None if value is None else value <= self.limit


TARGETS = (
    Target("create, 3 members: within 1.15x the floor", "create3", "ratio", 1.15, "x"),
    Target("create, 5 members: within 1.15x the floor", "create5", "ratio", 1.15, "x"),
    Target("no-op create, 3 members: within 1.0 s", "noop3", "median_s", 1.0),
    Target("no-op create, 5 members: within 1.2 s", "noop5", "median_s", 1.2),
    Target("join (3 -> 4) with the client refresh: within 5 s", "join", "median_s", 5.0),
    Target("remove (4 -> 3) with the client refresh: within 3 s", "remove", "median_s", 3.0),
    *(
        target
        for step, what in (("join", "join"), ("remove", "remove"), ("rolling_restart", "rolling restart"))
        for target in (
            Target(f"{what}: no lost write", step, "lost", 0, ""),
            Target(f"{what}: no write stall over 1 s", step, "longest_stall_s", 1.0),
        )
    ),
)
