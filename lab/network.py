"""The host-only bridge the nodes live on, and partitions of single nodes.

No NAT and no forwarding: traffic stays on this machine, and nodes cannot reach the internet.
"""

from pathlib import Path

from lab import config, nodes
from lab.system import LabError, run


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
