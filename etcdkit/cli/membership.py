"""etcd-add and etcd-rm: Pigsty's bin/etcd-add and bin/etcd-rm, over the join and remove SOPs.

Addresses are checked against the inventory before anything runs, a warning counts down (skipped
by -y), members change strictly one after another (one pyinfra run each, verified by the SOP
before the next starts), and the members' client references are reloaded: by each etcd-add run
itself (the add SOP: a join, then the reload for the cluster it leaves), by a last run after
etcd-rm's. Every run is pyinfra's own command line in this process (etcdkit/cli/run.py). Each run is
announced on stderr with its member and SOP, so that the operator knows which step runs, which one
failed, and how long the whole took.
"""

import argparse
import ipaddress
import os
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from etcdkit.cli.passthrough import add_inventory, add_options, pyinfra_options, shown
from etcdkit.cli.run import run_pyinfra

COUNTDOWN_SECONDS = 5


class UsageError(Exception):
    pass


def parse(argv: list[str], prog: str, description: str, destroy: bool = False) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    add_inventory(parser)
    parser.add_argument("-y", "--yes", action="store_true", help="no warning countdown")
    if destroy:
        parser.add_argument(
            "--destroy", metavar="CLUSTER", help="destroy the whole cluster of this name (its etcd_cluster), after a snapshot"
        )
    parser.add_argument("addresses", nargs="*" if destroy else "+", metavar="IP")
    add_options(parser)
    args = parser.parse_args(argv)
    args.pyinfra = pyinfra_options(args)
    if not args.inventory:
        parser.error("name the inventory: -i INVENTORY (or ETCD_INVENTORY)")
    args.inventory = str(Path(args.inventory).resolve()) if Path(args.inventory).exists() else args.inventory
    return args


@dataclass(frozen=True)
class InventoryGroup:
    """What the commands read of an inventory's group `etcd` before anything runs."""

    members: dict[str, str]  # address -> pyinfra host name
    cluster: str | None  # its etcd_cluster; None: the inventory has no group `etcd`


def read_inventory(inventory: str) -> InventoryGroup:
    """The inventory as pyinfra reads it (the working directory importable, as pyinfra makes it)."""
    from pyinfra.api import State
    from pyinfra.context import ctx_state
    from pyinfra_cli.exceptions import UnexpectedExternalError
    from pyinfra_cli.inventory import make_inventory

    from etcdkit.model import params
    from etcdkit.model.inventory import GROUP, host_address

    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    try:
        with ctx_state.use(State()):  # pyinfra reads inventory files within a run's state
            hosts = make_inventory(inventory).get_group(GROUP, default=[])
    except UnexpectedExternalError as error:
        raise UsageError(f"cannot read the inventory {inventory}: {error.exception!r}") from None
    return InventoryGroup({host_address(host): host.name for host in hosts}, params.get(hosts[0].data, "etcd_cluster") if hosts else None)


def inventory_cluster(inventory: str) -> str:
    """The etcd_cluster of the inventory's group etcd."""
    cluster = read_inventory(inventory).cluster
    if cluster is None:
        raise UsageError(f"{inventory} has no group `etcd`: there is no cluster to destroy")
    return cluster


def require_inventory(inventory: str) -> None:
    if not Path(inventory).is_file():
        raise UsageError(f"no inventory file {inventory}: name one with -i or ETCD_INVENTORY")


def check_addresses(addresses: list[str], inventory: str) -> InventoryGroup:
    """Every address is an IP address and a member of the inventory, before anything runs; what the
    inventory's group `etcd` holds."""
    require_inventory(inventory)
    for address in addresses:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise UsageError(f"{address!r} is not an IP address") from None
    if len(set(addresses)) != len(addresses):
        raise UsageError("an address is given twice")
    group = read_inventory(inventory)
    missing = [address for address in addresses if address not in group.members]
    if missing:
        raise UsageError(
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not in group `etcd` of {inventory}: "
            "add the host (with its etcd_seq) to the inventory first"
        )
    return group


def countdown(warning: str, assume_yes: bool) -> None:
    print(f"WARNING: {warning}", file=sys.stderr)
    if assume_yes:
        return
    for left in range(COUNTDOWN_SECONDS, 0, -1):
        print(f"  starting in {left} s, Ctrl-C to abort", file=sys.stderr)
        time.sleep(1)


def pyinfra(inventory: str, sop: str, *args: str, options: Sequence[str] = ()) -> int:
    """The SOP's deploy function run by pyinfra in this process, the pyinfra options passed
    through; the command line is echoed first, as the operator would type it."""
    command = ["-y", *options, inventory, f"etcdkit.sops.{sop}", *args]
    print(f"\n$ pyinfra {shown(command)}", file=sys.stderr, flush=True)
    return run_pyinfra(command).exit_code


def step(prog: str, what: str, inventory: str, sop: str, *args: str, options: Sequence[str] = ()) -> bool:
    """One SOP run, announced on stderr before pyinfra's own output, and named again if it fails."""
    print(f"{prog}: {what} ({sop} SOP)...", file=sys.stderr, flush=True)
    started = time.monotonic()
    if pyinfra(inventory, sop, *args, options=options) == 0:
        return True
    print(f"\n{prog}: FAILED after {time.monotonic() - started:.1f} s: {what} ({sop} SOP)", file=sys.stderr)
    return False


def finished(prog: str, started: float) -> None:
    print(f"{prog}: done in {time.monotonic() - started:.1f} s", file=sys.stderr)


def reachable(address: str) -> bool:
    """Whether the host's sshd answers: pyinfra cannot run a deploy limited to a dead host."""
    try:
        with socket.create_connection((address, 22), timeout=3):
            return True
    except OSError:
        return False


def one_after_another(
    args: argparse.Namespace,
    sop: str,
    doing: Callable[[str], str],
    done: str,
    prog: str,
    run_args: Callable[[str], list[str]],
) -> int:
    """Run the SOP for each address in turn (`doing(address)` says what it does; each run reloads
    the members and their clients after its change); stop at the first failure."""
    started = time.monotonic()
    for number, address in enumerate(args.addresses):
        if not step(prog, doing(address), args.inventory, sop, *run_args(address), options=args.pyinfra):
            rest = " ".join(args.addresses[number:])
            print(
                f"{prog}: "
                + (f"{' '.join(args.addresses[:number])} {done}; " if number else "")
                + f"{address}'s run failed in its change or in the reload after it. Fix the cause (see above), "
                f"then run {prog} {rest}",
                file=sys.stderr,
            )
            return 1
    print(f"\n{prog}: {' '.join(args.addresses)} {done}; the members' and their clients' configuration reloaded", file=sys.stderr)
    finished(prog, started)
    return 0


def add(argv: list[str]) -> int:
    args = parse(argv, "etcd-add", "Join new members to a running etcd cluster, one after another.")
    cluster = check_addresses(args.addresses, args.inventory).cluster
    countdown(f"joining {' '.join(args.addresses)} to the etcd cluster of {args.inventory}, one at a time", args.yes)
    # each run joins the first of them that is no member yet, then reloads the members and clients
    named = ["--data", f"etcd_join={','.join(args.addresses)}"]
    return one_after_another(
        args,
        "add",
        lambda address: f"joining {address} to cluster {cluster}, then reloading its members and clients",
        "joined",
        "etcd-add",
        lambda address: named,
    )


def removal_run(address: str, members: dict[str, str], departed: list[str]) -> list[str]:
    """A run over the inventory that names the departing member: a survivor removes its entry when
    its own host cannot (dead, or holding no credentials), and it is cleaned if it answers. A dead
    host is left out of the run (pyinfra would wait for it, then fail the run), and so are the
    hosts that departed in the runs before: they are no members any more."""
    alive = reachable(address)
    if not alive:
        print(f"etcd-rm: {address} does not answer on ssh: removing it through the surviving members", file=sys.stderr)
    left_out = [*departed, *([] if alive else [address])]
    return ["--data", f"etcd_remove={address}", *(option for gone in left_out for option in ("--exclude", members[gone]))]


def remove(argv: list[str]) -> int:
    args = parse(argv, "etcd-rm", "Remove members from an etcd cluster one after another, or destroy it (--destroy CLUSTER).", True)
    if args.destroy is not None:
        if args.addresses:
            raise UsageError("--destroy takes the whole cluster: give no addresses with it")
        require_inventory(args.inventory)
        cluster = inventory_cluster(args.inventory)
        if args.destroy != cluster:
            raise UsageError(
                f"--destroy {args.destroy!r} does not name the cluster of {args.inventory}, which is {cluster!r}: nothing was changed"
            )
        countdown(f"destroying the WHOLE etcd cluster `{cluster}` of {args.inventory}: every member and its data", args.yes)
        started = time.monotonic()
        if not step("etcd-rm", f"destroying cluster {cluster}", args.inventory, "destroy", options=args.pyinfra):
            return 1
        finished("etcd-rm", started)
        return 0
    if not args.addresses:
        raise UsageError("name the members to remove (IP...); to destroy the whole cluster, name it: --destroy CLUSTER")
    group = check_addresses(args.addresses, args.inventory)
    members, cluster = group.members, group.cluster
    countdown(f"removing {' '.join(args.addresses)} from the etcd cluster of {args.inventory} and deleting their data", args.yes)
    code = one_after_another(
        args,
        "rm",
        lambda address: f"removing {address} from cluster {cluster}, then reloading the members and clients",
        "left the cluster",
        "etcd-rm",
        lambda address: removal_run(address, members, args.addresses[: args.addresses.index(address)]),
    )
    if code == 0:
        print("etcd-rm: now drop them from the inventory", file=sys.stderr)
    return code


def run_cli(command, argv: list[str], prog: str) -> int:
    try:
        return command(argv)
    except UsageError as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\naborted: nothing was changed by the member that was starting", file=sys.stderr)
        return 130


def add_main() -> int:
    return run_cli(add, sys.argv[1:], "etcd-add")


def remove_main() -> int:
    return run_cli(remove, sys.argv[1:], "etcd-rm")
