"""What a pyinfra run did, from its own -vv output (pyinfra 3.10): every shell command it runs on a
host, fact commands included, is echoed as `[HOST] >>> COMMAND` (`[HOST] nested >>> ...` inside a
callback), every fact it loads as `[HOST] Loaded fact NAME`, and each operation of the execute
phase begins with `--> Starting operation: NAME`. A command is one SSH round trip; file uploads
(SFTP) are not echoed, so they are not counted. Works as well for a command that runs pyinfra
several times (bin/etcd-add: join, then reload)."""

import re
from collections import Counter
from dataclasses import dataclass

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_COMMAND = re.compile(r"\[([^\]]+)\]\s+(?:nested\s+)?>>> ")
_FACT = re.compile(r"\[([^\]]+)\]\s+(?:nested\s+)?Loaded fact ")
_OPERATION = re.compile(r"--> Starting (?:[\w ,]+ )?operation: (.*)")


@dataclass
class Profile:
    round_trips: dict[str, int]  # host -> shell commands run on it
    facts: dict[str, int]  # host -> facts loaded from it
    operations: dict[str, float]  # operation -> seconds from its start to the next operation or pyinfra's next step

    def preparing(self, seconds: float) -> float:
        """Of a run of `seconds`, the time outside the operations: start-up, inventory, connecting, facts."""
        return max(seconds - sum(self.operations.values()), 0.0)


def profile(lines: list[tuple[float, str]]) -> Profile:
    """The accounting of a run's output, each line with its time since the start."""
    round_trips, facts, operations = Counter(), Counter(), Counter()
    current = None  # (name, started)
    for at, raw in lines:
        line = _ANSI.sub("", raw).strip()
        if command := _COMMAND.match(line):
            round_trips[command[1]] += 1
        elif fact := _FACT.match(line):
            facts[fact[1]] += 1
        elif line.startswith("--> "):
            if current:
                operations[current[0]] += at - current[1]
            operation = _OPERATION.match(line)
            current = (operation[1].strip(), at) if operation else None
    if current:
        operations[current[0]] += lines[-1][0] - current[1]
    return Profile(dict(round_trips), dict(facts), dict(operations))
