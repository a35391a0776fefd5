"""etcd-status: the members of an etcd cluster and their health, from any inventory."""

import argparse
import os
import subprocess
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="etcd-status",
        description="The members of an etcd cluster (state, role, health, version, DB size, raft index) and its leader. "
        "Exits 0 when every member is healthy and there is one leader, 1 otherwise, 2 for a usage error.",
    )
    parser.add_argument(
        "-i",
        "--inventory",
        default=os.environ.get("ETCD_INVENTORY", "inventories/prod.py"),
        help="pyinfra inventory (default: $ETCD_INVENTORY, else inventories/prod.py)",
    )
    args = parser.parse_args(argv)
    if not Path(args.inventory).is_file():
        parser.error(f"no inventory file {args.inventory}: name one with -i or ETCD_INVENTORY")
    inventory = str(Path(args.inventory).resolve())
    command = [sys.executable, "-m", "pyinfra", "-y", inventory, "etcdkit.sops.status"]
    # the report is pyinfra's stdout; its progress lines go to stderr, shown only when the check fails
    result = subprocess.run(command, stderr=subprocess.PIPE, text=True)
    if result.returncode == 0:
        return 0
    errors = result.stderr.splitlines()
    start = next((i for i, line in enumerate(errors) if "pyinfra error" in line), len(errors))
    for line in errors[start:]:
        print(line.replace("--> pyinfra error", "error", 1), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
