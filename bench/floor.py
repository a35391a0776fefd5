"""The floor (bench/floor.sh): the same work as etcdkit's create, join and remove done by a plain
shell script on the same nodes, and its `floor PHASE SECONDS` lines read back."""

from bench.timing import watched

SCRIPT = "bench/floor.sh"
CREATE_PHASES = ("install", "certs", "config", "start", "health", "auth")


def run(addresses: list[str], join: str | None = None) -> dict[str, float]:
    """A cluster on the bare nodes at addresses (and, with join, that node added and removed): the
    seconds of each phase."""
    return parse("\n".join(line for _, line in watched(SCRIPT, *(["--join", join] if join else []), *addresses).lines))


def parse(output: str) -> dict[str, float]:
    """The phases of floor.sh's output; other lines are left alone."""
    phases = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) == 3 and words[0] == "floor":
            phases[words[1]] = float(words[2])
    return phases


def create(phases: dict[str, float]) -> dict[str, float]:
    """The phases of creating the cluster (what etcdkit's create does), in order."""
    missing = [phase for phase in CREATE_PHASES if phase not in phases]
    if missing:
        raise ValueError(f"{SCRIPT} printed no time for {', '.join(missing)}")
    return {phase: phases[phase] for phase in CREATE_PHASES}
