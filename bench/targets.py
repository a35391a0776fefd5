"""The targets of issue 30, each a limit on one number of bench/results.json, and whether a run met
them. A limit is a number, or a multiple of another step's median (a floor measured in the same run),
or the median time of one of the step's operations plus a margin."""

from dataclasses import dataclass

RESTART = "etcd member | Restart etcd (one member at a time)"  # the rolling restart's operation


@dataclass(frozen=True)
class Target:
    text: str
    step: str
    key: str  # a key of the step's object, or of its "writes"
    limit: float  # the limit itself; with `times`, the factor; with `operation`, the margin
    unit: str = " s"
    times: str | None = None  # the limit is `limit` times this step's median
    operation: str | None = None  # the limit is this operation's median time plus `limit`

    def value(self, results: dict) -> float | None:
        found = results.get(self.step, {})
        return found.get(self.key, found.get("writes", {}).get(self.key))

    def bound(self, results: dict) -> float | None:
        """The limit in this run's numbers; None when the run did not measure what it depends on."""
        if self.times is not None:
            median = results.get(self.times, {}).get("median_s")
            return None if median is None else round(self.limit * median, 2)
        if self.operation is not None:
            spent = results.get(self.step, {}).get("slowest_operations_s", {}).get(self.operation)
            return None if spent is None else round(spent + self.limit, 2)
        return self.limit

    def met(self, results: dict) -> bool | None:
        """None when the run did not measure it."""
        value, bound = self.value(results), self.bound(results)
        return None if value is None or bound is None else value <= bound


TARGETS = (
    Target("create, 3 members: within 1.15x the floor", "create3", "ratio", 1.15, "x"),
    Target("create, 5 members: within 1.15x the floor", "create5", "ratio", 1.15, "x"),
    Target("no-op create, 3 members: within 1.5x pyinfra's own floor (`exec -- true`)", "noop3", "median_s", 1.5, times="pyinfra3"),
    Target("no-op create, 5 members: within 1.2x the 3-member no-op", "noop5", "median_s", 1.2, times="noop3"),
    Target("join (3 -> 4) with the client refresh: within 1.3x the floor's join and refresh", "join", "ratio", 1.3, "x"),
    Target("remove (4 -> 3) with the client refresh: within 3 s", "remove", "median_s", 3.0),
    Target("rolling restart: within the members' restarts plus 1 s", "rolling_restart", "median_s", 1.0, operation=RESTART),
    Target("`bin/etcd-status`: within 1.0 s", "status", "median_s", 1.0),
    *(
        target
        for step, what in (("join", "join"), ("remove", "remove"), ("rolling_restart", "rolling restart"))
        for target in (
            Target(f"{what}: no lost write", step, "lost", 0, ""),
            Target(f"{what}: no write stall over 1 s", step, "longest_stall_s", 1.0),
        )
    ),
)
