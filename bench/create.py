"""How long create takes on the 3-node lab: on bare nodes (package install included) and as a
no-op re-run. Targets (issue): bare within 11 s, no-op within 3 s; Pigsty's etcd role takes ~41 s
and ~38 s. Run as root from the repository root: .venv/bin/python -m bench.create [-n RUNS]
"""

import argparse

from bench.timing import summary, timed

PYINFRA = (".venv/bin/pyinfra", "-y", "inventories/lab.py", "deploys/create.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--runs", type=int, default=5)
    runs = parser.parse_args().runs
    timed("bin/lab", "up", "-n", "3")
    bare, noop = [], []
    for _ in range(runs):
        timed("bin/lab", "reset", "1", "2", "3")
        bare.append(timed(*PYINFRA))
        noop.append(timed(*PYINFRA))
    print(summary("create on bare nodes (3 members)", bare))
    print(summary("create again (no-op)", noop))


if __name__ == "__main__":
    main()
