"""etcd-backup and etcd-restore: the backup and restore SOPs from the command line.

etcd-backup saves a verified snapshot of the inventory's cluster on the control node. etcd-restore
previews the restore (the plan checks the file, its sidecar and every member's host, and refuses
before the countdown), counts down (both skipped by -y: the run itself refuses before any change
all the same), restores the snapshot on every member of the inventory, then reloads the members'
clients (Patroni, vip-manager, admin hosts).
"""

import argparse
import sys
from pathlib import Path

from etcdkit.cli.membership import UsageError, countdown, inventory_cluster, pyinfra, require_inventory, run_cli
from etcdkit.cli.passthrough import add_inventory, add_options, pyinfra_options


def parse(argv: list[str], prog: str, description: str, restore: bool = False) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    add_inventory(parser)
    if restore:
        parser.add_argument("-y", "--yes", action="store_true", help="no warning countdown")
        parser.add_argument(
            "file", metavar="FILE", help="the snapshot, e.g. backups/etcd-20250101T120000Z.db (its .json sidecar next to it)"
        )
    add_options(parser)
    args = parser.parse_args(argv)
    args.pyinfra = pyinfra_options(args)
    if not args.inventory:
        parser.error("name the inventory: -i INVENTORY (or ETCD_INVENTORY)")
    require_inventory(args.inventory)
    args.inventory = str(Path(args.inventory).resolve())
    return args


def backup(argv: list[str]) -> int:
    args = parse(argv, "etcd-backup", "Save a verified snapshot of the etcd cluster on this control node (etcd_backup_dir).")
    return pyinfra(args.inventory, "backup", options=args.pyinfra)


def restore(argv: list[str]) -> int:
    args = parse(argv, "etcd-restore", "Restore an etcd cluster from a snapshot, on every member of the inventory.", restore=True)
    snapshot = Path(args.file).expanduser().resolve()
    if not snapshot.is_file():
        raise UsageError(f"no snapshot {snapshot}: name a file of the backups folder")
    cluster = inventory_cluster(args.inventory)
    restore = ("--data", f"etcd_restore={snapshot}")
    # the plan's refusals first: a preview (--dry) makes the plan and changes nothing; then the countdown
    if not args.yes and pyinfra(args.inventory, "restore", *restore, "--dry", options=args.pyinfra) != 0:
        print("\netcd-restore: the restore was refused (see above): nothing was changed", file=sys.stderr)
        return 1
    countdown(f"restoring cluster `{cluster}` of {args.inventory} from {snapshot.name}: every write after the snapshot is lost", args.yes)
    if pyinfra(args.inventory, "restore", *restore, options=args.pyinfra) != 0:
        print("\netcd-restore: the restore failed (see above)", file=sys.stderr)
        return 1
    if pyinfra(args.inventory, "reload", options=args.pyinfra) != 0:
        print("\netcd-restore: the cluster is restored, but reloading its clients failed: run deploys/reload.py", file=sys.stderr)
        return 1
    print(f"\netcd-restore: cluster `{cluster}` restored from {snapshot.name}; its clients' configuration reloaded", file=sys.stderr)
    return 0


def backup_main() -> int:
    return run_cli(backup, sys.argv[1:], "etcd-backup")


def restore_main() -> int:
    return run_cli(restore, sys.argv[1:], "etcd-restore")
