"""The options every bin/etcd-* command shares: the inventory, and the pyinfra options it passes
through to its pyinfra runs: how to log in (a Pigsty site logs in as an admin user with sudo),
--data overrides and verbosity."""

import argparse
import os

from etcdkit.model import params


def add_inventory(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-i",
        "--inventory",
        default=os.environ.get("ETCD_INVENTORY"),
        help="pyinfra inventory (default: $ETCD_INVENTORY; there is no other default)",
    )


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("pyinfra options (passed through to each pyinfra run)")
    group.add_argument("--ssh-user", metavar="USER", help="log in as USER (pyinfra --ssh-user)")
    group.add_argument("--ssh-key", metavar="FILE", help="SSH private key (pyinfra --ssh-key)")
    group.add_argument("--ssh-port", metavar="PORT", help="SSH port (pyinfra --ssh-port)")
    group.add_argument("--sudo", action="store_true", help="run every command with sudo (pyinfra --sudo)")
    group.add_argument("--sudo-user", metavar="USER", help="sudo to USER instead of root (pyinfra --sudo-user)")
    group.add_argument("--data", action="append", default=[], metavar="KEY=VALUE", help="override a parameter (pyinfra --data)")
    group.add_argument("-v", action="count", default=0, dest="verbose", help="more output (pyinfra -v, -vv, -vvv)")


def pyinfra_options(args: argparse.Namespace) -> list[str]:
    """The options given, as pyinfra's command line takes them."""
    options = []
    for flag, value in (("--ssh-user", args.ssh_user), ("--ssh-key", args.ssh_key), ("--ssh-port", args.ssh_port)):
        if value:
            options += [flag, value]
    if args.sudo:
        options.append("--sudo")
    if args.sudo_user:
        options += ["--sudo-user", args.sudo_user]
    for item in args.data:
        options += ["--data", item]
    if args.verbose:
        options.append("-" + "v" * args.verbose)
    return options


def shown(command: list[str]) -> str:
    """A command line as it is echoed: the value of a password given with --data KEY=VALUE
    masked (pyinfra gets it as it is; it is in the process list all the same)."""
    words = []
    for previous, word in zip(["", *command], command, strict=False):
        key, equals, _ = word.partition("=")
        param = params.BY_NAME.get(key)
        words.append(f"{key}=***" if previous == "--data" and equals and param is not None and param.secret else word)
    return " ".join(words)
