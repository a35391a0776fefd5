"""The host-only bridge the nodes live on, and partitions: a node cut off the network (its link
down), nodes cut from one another, and a node this machine cannot log in to over SSH.

No NAT and no forwarding: traffic stays on this machine, and nodes cannot reach the internet. The
partitions between nodes are routes and rules in the nodes' own network namespaces, entered from
this machine (nsenter): nothing needs to be installed on the nodes, and a node that boots again
starts without them.
"""

from pathlib import Path

from lab import config, nodes
from lab.system import LabError, run

# The preference of the rule that drops a node's SSH answers to this machine (`block-ssh`).
SSH_RULE_PREFERENCE = 900


def bridge_exists() -> bool:
    return Path(f"/sys/class/net/{config.BRIDGE}").exists()


def foreign_ports(own: list[str]) -> list[str]:
    """Node links on the bridge that are not this lab's: another lab (ETCD_LAB_DIR) runs there."""
    ports = Path(f"/sys/class/net/{config.BRIDGE}/brif")
    return sorted(port.name for port in ports.glob("*") if port.name not in own) if ports.is_dir() else []


def ensure_bridge() -> None:
    if not bridge_exists():
        run("ip", "link", "add", config.BRIDGE, "type", "bridge")
    addresses = run("ip", "-o", "-4", "addr", "show", "dev", config.BRIDGE).stdout
    if f" {config.HOST_ADDRESS}/" not in addresses:
        run("ip", "addr", "add", f"{config.HOST_ADDRESS}/24", "dev", config.BRIDGE)
    run("ip", "link", "set", config.BRIDGE, "up")


def delete_bridge() -> None:
    if bridge_exists():
        run("ip", "link", "delete", config.BRIDGE)


def set_link(number: int, up: bool) -> None:
    """Cut a node off the network (its link down) or heal it; the node itself keeps running."""
    if not nodes.is_running(number):
        raise LabError(f"{config.node_name(number)} is not running")
    run("ip", "link", "set", nodes.veth(number), "up" if up else "down")


def _in_node(number: int, *command: str, check: bool = True):
    """A command of this machine run in the node's network namespace."""
    pid = nodes.init_pid(number)
    if pid is None or not nodes.is_running(number):
        raise LabError(f"{config.node_name(number)} is not running")
    return run("nsenter", f"--target={pid}", "--net", *command, check=check)


def partition(number: int, peers: list[int]) -> None:
    """Cut a node from these peers, both ways; each keeps its link to the bridge, so this machine
    still reaches every one of them."""
    for peer in peers:
        if peer == number:
            raise LabError(f"{config.node_name(number)} cannot be cut from itself")
    for peer in peers:
        for one, other in ((number, peer), (peer, number)):
            _in_node(one, "ip", "route", "replace", "blackhole", f"{config.node_address(other)}/32")


def block_ssh(number: int) -> None:
    """Drop the node's SSH answers to this machine: it cannot log in there any more, while the
    node's other ports (etcd's) still answer it."""
    _in_node(number, "ip", "rule", "del", "pref", str(SSH_RULE_PREFERENCE), check=False)
    _in_node(
        number,
        "ip", "rule", "add", "pref", str(SSH_RULE_PREFERENCE), "to", f"{config.HOST_ADDRESS}/32",
        "ipproto", "tcp", "sport", "22", "blackhole",
    )  # fmt: skip


def blocks(number: int) -> list[str]:
    """What cuts a running node from the others or from this machine's SSH: 'node2', 'ssh' (empty
    when it cannot be read: `bin/lab status` runs without root)."""
    try:
        routes = _in_node(number, "ip", "-o", "route", "show", "type", "blackhole").stdout.split("\n")
        rules = _in_node(number, "ip", "rule", "show", "pref", str(SSH_RULE_PREFERENCE)).stdout
    except (LabError, OSError):
        return []
    cut = [
        f"{config.node_name(n)}" for n in range(1, config.MAX_NODES + 1) if any(f" {config.node_address(n)} " in f" {r} " for r in routes)
    ]
    return cut + (["ssh"] if rules.strip() else [])


def heal_partitions(number: int) -> None:
    """Take away what partition and block_ssh did to the node: its own routes and rule, and the
    routes of the other running nodes to it."""
    for n in range(1, config.MAX_NODES + 1):
        _in_node(number, "ip", "route", "del", "blackhole", f"{config.node_address(n)}/32", check=False)
    _in_node(number, "ip", "rule", "del", "pref", str(SSH_RULE_PREFERENCE), check=False)
    for other in nodes.existing():
        if other != number and nodes.is_running(other):
            _in_node(other, "ip", "route", "del", "blackhole", f"{config.node_address(number)}/32", check=False)
