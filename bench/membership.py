"""How long membership changes take on the lab, client refresh included: bin/etcd-add of a 4th
member to a 3-member cluster (join, promote, reload) and bin/etcd-rm of it again (remove, cleanup,
reload). Targets (issues): within 10 s each; Pigsty's etcd role needs ~20 s to join plus a ~40 s
reload that restarts members.
Run as root from the repository root: .venv/bin/python -m bench.membership [-n RUNS]
"""

import argparse

from bench.timing import summary, timed

NEW = "10.10.10.13"
LAB = {"ETCD_NODES": "1,2,3,4"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--runs", type=int, default=5)
    runs = parser.parse_args().runs
    timed("bin/lab", "up", "-n", "4")
    timed("bin/lab", "reset", "1", "2", "3", "4")
    timed(".venv/bin/pyinfra", "-y", "inventories/lab.py", "deploys/create.py", env={"ETCD_NODES": "1,2,3"})
    joins, removals = [], []
    for _ in range(runs):
        joins.append(timed("bin/etcd-add", "-i", "inventories/lab.py", "-y", NEW, env=LAB))
        removals.append(timed("bin/etcd-rm", "-i", "inventories/lab.py", "-y", NEW, env=LAB))
    print(summary("bin/etcd-add (3 -> 4, reload included)", joins))
    print(summary("bin/etcd-rm (4 -> 3, reload included)", removals))


if __name__ == "__main__":
    main()
