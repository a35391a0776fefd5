"""bin/lab: boot, inspect, break and tear down the lab's Debian nodes."""

import argparse
import fcntl
import json
import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from lab import config, image, network, nodes, sshconfig
from lab.system import LabError, require_commands, require_free_network, require_free_space, require_root, run, umount_under


@contextmanager
def locked():
    """One lab command at a time: tests and people share the same nodes."""
    config.STATE_DIR.mkdir(parents=True, exist_ok=True)
    with open(config.LOCK_FILE, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def lab_release() -> str | None:
    """The release the lab's nodes run, while it has any."""
    if config.LAB_FILE.exists() and nodes.existing():
        return json.loads(config.LAB_FILE.read_text())["release"]
    return None


def _parallel(function, numbers) -> None:
    with ThreadPoolExecutor(max_workers=config.MAX_NODES) as pool:
        list(pool.map(function, numbers))


def _boot(numbers: list[int], release: str) -> None:
    for number in numbers:
        nodes.provision(number, release)
        nodes.boot(number, release)
    _parallel(nodes.wait_ready, numbers)


def _install_ssh_config() -> None:
    sshconfig.install([line for n in nodes.existing() for line in nodes.known_hosts_lines(n)])


def up(count: int | None, release: str | None) -> None:
    current = lab_release()
    if release and current and release != current:
        raise LabError(f"the lab runs {current}; run `bin/lab down` before `bin/lab up --release {release}`")
    release = release or current or config.DEFAULT_RELEASE
    count = count or max([config.DEFAULT_NODES, *nodes.existing()])
    require_free_network()
    strangers = network.foreign_ports([nodes.veth(n) for n in nodes.existing()])
    if strangers:
        raise LabError(
            f"nodes this lab did not start are on {config.BRIDGE} ({', '.join(strangers)}): another lab "
            "(another ETCD_LAB_DIR?) runs on this machine; take it down first, one lab per machine"
        )
    require_free_space(config.STATE_DIR, config.BOOT_FREE_BYTES)
    image.ensure_image(release, nodes_running=any(nodes.is_running(n) for n in nodes.existing()))
    config.LAB_FILE.write_text(json.dumps({"release": release}))
    sshconfig.ensure_key()
    network.ensure_bridge()
    _boot([n for n in range(1, count + 1) if not nodes.is_running(n)], release)
    _install_ssh_config()


def down() -> None:
    _parallel(nodes.power_off, nodes.existing())
    umount_under(config.NODES_DIR)
    shutil.rmtree(config.NODES_DIR, ignore_errors=True)
    for link in Path("/sys/class/net").glob("vb-node*"):
        run("ip", "link", "delete", link.name, check=False)
    network.delete_bridge()
    sshconfig.remove()
    config.LAB_FILE.unlink(missing_ok=True)


def start(number: int) -> None:
    release = lab_release()
    if release is None or number not in nodes.existing():
        raise LabError(f"{config.node_name(number)} does not exist: create it with `bin/lab up -n {number}`")
    if not nodes.is_running(number):
        network.ensure_bridge()
        _boot([number], release)


def reset(numbers: list[int]) -> None:
    """Give nodes a fresh disk, as bare as after their first `up`."""
    release = lab_release()
    missing = [n for n in numbers if n not in nodes.existing()]
    if release is None or missing:
        raise LabError(f"no such node: {', '.join(config.node_name(n) for n in missing) or 'the lab is down'}")
    _parallel(nodes.delete, numbers)
    _boot(numbers, release)


def status() -> str:
    release = lab_release()
    if release is None:
        return "lab: down"
    lines = [f"lab: {release}, bridge {config.BRIDGE} {config.HOST_ADDRESS}/24"]
    for number in nodes.existing():
        state = "up" if nodes.is_running(number) else "stopped"
        if state == "up" and nodes.is_cut(number):
            state = "up, cut off the network"
        elif state == "up":
            blocked = network.blocks(number)
            cut, ssh_blocked = [b for b in blocked if b != "ssh"], "ssh" in blocked
            if cut:
                state += f", cut from {' '.join(cut)}"
            if ssh_blocked:
                state += ", no SSH from this machine"
        lines.append(f"{config.node_name(number):<6} {config.node_address(number):<12} {state}")
    return "\n".join(lines)


def ssh(number: int, command: list[str]) -> None:
    if not config.SSH_CONFIG.exists():
        raise LabError("the lab is down: run `bin/lab up` first")
    os.execvp("ssh", ["ssh", "-F", str(config.SSH_CONFIG), config.node_address(number), *command])


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="bin/lab", description="Debian lab nodes (systemd-nspawn) for etcd deploys.")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    boot = commands.add_parser("up", help="boot nodes 1..N (default 3, max 5); idempotent")
    boot.add_argument("-n", "--nodes", type=int, choices=range(1, config.MAX_NODES + 1), metavar="N")
    boot.add_argument("--release", choices=config.RELEASES, help=f"Debian release (default {config.DEFAULT_RELEASE})")
    commands.add_parser("down", help="stop and delete every node, the bridge and the SSH config")
    commands.add_parser("status", help="nodes, addresses, up/down")
    login = commands.add_parser("ssh", help="ssh into a node, or run a command there")
    login.add_argument("node")
    login.add_argument("cmd", nargs=argparse.REMAINDER)
    for name, text in (
        ("stop", "hard power-off (the disk stays)"),
        ("start", "boot a stopped node again"),
        ("cut", "cut a node off the network"),
        ("heal", "reconnect a cut node: its link, and what partition and block-ssh did"),
        ("block-ssh", "drop the node's SSH answers to this machine (its etcd still answers)"),
    ):
        commands.add_parser(name, help=text).add_argument("node")
    split = commands.add_parser("partition", help="cut a node from other nodes, both ways (this machine still reaches all)")
    split.add_argument("node")
    split.add_argument("peers", nargs="+", metavar="PEER")
    commands.add_parser("reset", help="give nodes a fresh, bare disk").add_argument("node", nargs="+")
    tarball = commands.add_parser("tarball", help="print the path of a release-style etcd tarball made from the lab's packages")
    tarball.add_argument("version")
    tarball.add_argument("--release", choices=config.RELEASES, default=config.DEFAULT_RELEASE)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "ssh":
            ssh(config.parse_node(args.node), args.cmd)
        if args.command == "status":
            print(status())
            return 0
        require_root()
        require_commands()
        numbers = [
            config.parse_node(n)
            for n in (args.node if isinstance(getattr(args, "node", None), list) else [getattr(args, "node", None)])
            if n
        ]
        with locked():
            if args.command == "up":
                up(args.nodes, args.release)
                print(status())
            elif args.command == "down":
                down()
            elif args.command == "stop":
                nodes.power_off(numbers[0])
            elif args.command == "start":
                start(numbers[0])
            elif args.command == "cut":
                network.set_link(numbers[0], up=False)
            elif args.command == "heal":
                network.set_link(numbers[0], up=True)
                network.heal_partitions(numbers[0])
            elif args.command == "partition":
                network.partition(numbers[0], [config.parse_node(peer) for peer in args.peers])
            elif args.command == "block-ssh":
                network.block_ssh(numbers[0])
            elif args.command == "reset":
                reset(numbers)
            elif args.command == "tarball":
                print(image.release_tarball(args.release, args.version))
    except (LabError, ValueError) as error:
        print(f"lab: {error}", file=sys.stderr)
        return 1
    return 0
