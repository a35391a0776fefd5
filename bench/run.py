"""make bench (issue 19): etcdkit's SOPs on the lab against the floor (bench/floor.sh) of the same
work on the same nodes, each step BENCH_RUNS times (default 3), with pyinfra's round trips per host
and, during join, remove and the rolling restart, the continuous writer's counts. Writes
bench/results.json and docs/performance.md and prints the table. It takes the lab over: nodes 1-5
are reset again and again, and a 3-member cluster is left running at the end.
Run as root from the repository root: .venv/bin/python -m bench.run [-n RUNS]
"""

import argparse
import compileall
import os
import time
from dataclasses import asdict

from bench import floor, report, results
from bench.accounting import profile
from bench.results import Sample, Samples
from bench.timing import ROOT, timed, watched
from lab.config import MAX_NODES, node_address
from tests.writer import Writer

NODES = [node_address(number) for number in range(1, MAX_NODES + 1)]
NEW = NODES[3]  # the member that joins and leaves again
PYINFRA = (".venv/bin/pyinfra", "-y", "-vv", "inventories/lab.py")
INVENTORY = ("-i", "inventories/lab.py")


def say(message: str) -> None:
    print(f"bench: {message}", flush=True)


def lab(*args: str) -> None:
    say(f"bin/lab {' '.join(args)} ({timed('bin/lab', *args):.1f} s)")


def reset() -> None:
    """Bare disks for every node: no etcd that a step left running (the 5-member cluster's node 5
    during the 3-member steps) meets the next step."""
    lab("reset", *(str(number) for number in range(1, MAX_NODES + 1)))


def first_write(writer: Writer, timeout: float = 60) -> None:
    """Wait until the writer's first write is acknowledged: the step starts under a writing client."""
    deadline = time.monotonic() + timeout
    while not writer.acknowledged():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the continuous writer acknowledged nothing within {timeout:.0f} s")
        time.sleep(0.1)


class Bench:
    def __init__(self, runs: int):
        self.runs = runs
        self.samples = Samples()

    def measure(self, run: int, step: str, *command: str, members: int, writing: bool = False) -> None:
        """One timed run of a step: the command with ETCD_NODES=1..members, under the writer if asked."""
        env = {"ETCD_NODES": ",".join(str(number) for number in range(1, members + 1))}
        writes = None
        if writing:
            with Writer(NODES[:3]) as writer:
                first_write(writer)
                done = watched(*command, env=env)
            writes = asdict(writer.counts(NODES[0]))
        else:
            done = watched(*command, env=env)
        sample = Sample(done.seconds, profile(done.lines), writes)
        self.samples.add(step, sample)
        trips = max(sample.profile.round_trips.values(), default=0)
        written = (
            f", writes {writes['acknowledged']}/{writes['failed']}/{writes['lost']} stall {writes['longest_stall']:.2f} s" if writes else ""
        )
        say(f"run {run}/{self.runs}: {step} {done.seconds:.2f} s ({trips} round trips per host at most{written})")

    def measure_floor(self, run: int, members: int, join: bool = False) -> None:
        reset()
        phases = floor.run(NODES[:members], join=NEW if join else None)
        create = floor.create(phases)
        self.samples.add_floor(f"create{members}", create)
        say(f"run {run}/{self.runs}: floor create{members} {sum(create.values()):.2f} s {create}")
        if join:
            for step in ("join", "remove"):
                self.samples.add_floor(step, {step: phases[step], "refresh": phases[f"{step}_refresh"]})
                say(f"run {run}/{self.runs}: floor {step} {phases[step]:.2f} s, its client refresh {phases[f'{step}_refresh']:.2f} s")

    def create(self, run: int, members: int) -> None:
        """create on bare nodes, then again with nothing to do; with 3 members, pyinfra's own floor on
        the same hosts and etcd-status too."""
        reset()
        for step in (f"create{members}", f"noop{members}"):
            self.measure(run, step, *PYINFRA, "deploys/create.py", members=members)
        if members == 3:
            self.measure(run, "pyinfra3", *PYINFRA, "exec", "--", "true", members=members)
            self.measure(run, "status", "bin/etcd-status", *INVENTORY, members=members)

    def life(self, run: int) -> None:
        """The rest of a 3-member cluster's life, from join to restore."""
        self.measure(run, "join", "bin/etcd-add", *INVENTORY, "-y", "-vv", NEW, members=4, writing=True)
        self.measure(run, "remove", "bin/etcd-rm", *INVENTORY, "-y", "-vv", NEW, members=4, writing=True)
        self.measure(run, "reload_noop", *PYINFRA, "deploys/reload.py", members=3)
        self.measure(run, "rolling_restart", *PYINFRA, "deploys/reload.py", "--data", "etcd_reload=restart", members=3, writing=True)
        self.measure(run, "backup", "bin/etcd-backup", *INVENTORY, "-vv", members=3)
        snapshot = max((ROOT / "backups").glob("etcd-*.db"), key=lambda path: path.stat().st_mtime)
        self.measure(run, "destroy", *PYINFRA, "deploys/destroy.py", members=3)
        self.measure(run, "restore", "bin/etcd-restore", *INVENTORY, "-y", "-vv", str(snapshot), members=3)

    def run(self, run: int) -> None:
        for members in (1, 5, 3):
            self.measure_floor(run, members, join=members == 3)
            self.create(run, members)
        self.life(run)


def compile_modules() -> None:
    """Compile etcdkit's modules to bytecode first, as installing a tool does: this machine sets
    PYTHONDONTWRITEBYTECODE=1, under which every timed run would compile them again (0.2-0.4 s) while
    pyinfra's own, in site-packages, were compiled when pip installed them."""
    for folder in ("etcdkit", "facts"):
        compileall.compile_dir(ROOT / folder, quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "3")))
    runs = parser.parse_args().runs
    compile_modules()
    started = time.monotonic()
    lab("up", "-n", str(MAX_NODES))
    bench = Bench(runs)
    for run in range(1, runs + 1):
        bench.run(run)
    measured = results.build(bench.samples)
    results.save(measured)
    report.main()
    say(f"wrote bench/results.json in {(time.monotonic() - started) / 60:.1f} min\n")
    print(report.table(measured))


if __name__ == "__main__":
    main()
