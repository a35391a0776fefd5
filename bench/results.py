"""bench/results.json: each step's times, their median and, where the floor has the same step, the
floor's median and the ratio to it; with pyinfra's accounting and the writer's counts."""

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from bench.accounting import Profile

PATH = Path(__file__).resolve().parent / "results.json"

# step -> what it measures, in the order of the tables
STEPS = {
    "create1": "create on a bare node, 1 member",
    "create3": "create on bare nodes, 3 members",
    "create5": "create on bare nodes, 5 members",
    "noop1": "create again, nothing to do, 1 member",
    "noop3": "create again, nothing to do, 3 members",
    "noop5": "create again, nothing to do, 5 members",
    "pyinfra3": "pyinfra's own floor: `pyinfra INVENTORY exec -- true`, 3 members",
    "status": "bin/etcd-status, 3 members",
    "join": "bin/etcd-add, 3 -> 4 (client refresh included)",
    "remove": "bin/etcd-rm, 4 -> 3 (client refresh included)",
    "reload_noop": "deploys/reload.py, nothing to do",
    "rolling_restart": "deploys/reload.py --data etcd_reload=restart",
    "backup": "bin/etcd-backup",
    "destroy": "deploys/destroy.py (snapshot first)",
    "restore": "bin/etcd-restore (client refresh included)",
}
TOP_OPERATIONS = 5


@dataclass
class Sample:
    """One timed run of a step."""

    seconds: float
    profile: Profile
    writes: dict | None = None  # tests.writer.Counts as a dict, when it ran under the writer


@dataclass
class Samples:
    runs: dict[str, list[Sample]] = field(default_factory=dict)
    floor: dict[str, list[dict[str, float]]] = field(default_factory=dict)  # step -> the floor's phases, per run

    def add(self, step: str, sample: Sample) -> None:
        self.runs.setdefault(step, []).append(sample)

    def add_floor(self, step: str, phases: dict[str, float]) -> None:
        self.floor.setdefault(step, []).append(phases)


def median(values) -> float:
    return round(statistics.median(values), 3)


def _per_host(counts: list[dict[str, int]]) -> dict[str, int]:
    hosts = sorted({host for count in counts for host in count})
    return {host: round(statistics.median([count[host] for count in counts if host in count])) for host in hosts}


def step(samples: list[Sample], floor: list[dict[str, float]]) -> dict:
    """A step's object of results.json."""
    seconds = [round(sample.seconds, 3) for sample in samples]
    result = {"median_s": median(seconds), "runs": seconds}
    if floor:
        totals = [round(sum(phases.values()), 3) for phases in floor]
        result["floor_s"] = median(totals)
        result["floor_runs"] = totals
        result["floor_phases"] = {phase: median([phases[phase] for phases in floor]) for phase in floor[0]}
        result["ratio"] = round(result["median_s"] / result["floor_s"], 2)
    result["round_trips"] = _per_host([sample.profile.round_trips for sample in samples])
    result["facts"] = _per_host([sample.profile.facts for sample in samples])
    result["preparing_s"] = median([sample.profile.preparing(sample.seconds) for sample in samples])
    names = {name for sample in samples for name in sample.profile.operations}
    operations = {name: median([sample.profile.operations.get(name, 0.0) for sample in samples]) for name in names}
    result["slowest_operations_s"] = dict(sorted(operations.items(), key=lambda item: -item[1])[:TOP_OPERATIONS])
    writes = [sample.writes for sample in samples if sample.writes is not None]
    if writes:
        result["writes"] = {
            "acknowledged": sum(count["acknowledged"] for count in writes),
            "failed": sum(count["failed"] for count in writes),
            "lost": sum(count["lost"] for count in writes),
            "longest_stall_s": round(max(count["longest_stall"] for count in writes), 3),
            "runs": writes,
        }
    return result


def build(samples: Samples) -> dict:
    """results.json: one object per step measured, in the order of STEPS."""
    return {name: step(samples.runs[name], samples.floor.get(name, [])) for name in STEPS if name in samples.runs}


def save(results: dict, path: Path = PATH) -> None:
    path.write_text(json.dumps(results, indent=2) + "\n")


def load(path: Path = PATH) -> dict:
    """The results of the last run; {} before the first."""
    return json.loads(path.read_text()) if path.exists() else {}
