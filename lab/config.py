"""Where the lab keeps its state and how its nodes are named and addressed."""

import os
from pathlib import Path

STATE_DIR = Path(os.environ.get("ETCD_LAB_DIR", "/var/lib/etcd-lab"))
IMAGES_DIR = STATE_DIR / "images"
NODES_DIR = STATE_DIR / "nodes"
HOSTKEYS_DIR = STATE_DIR / "hostkeys"
SSH_DIR = STATE_DIR / "ssh"
SSH_KEY = SSH_DIR / "id_ed25519"
SSH_CONFIG = SSH_DIR / "config"
KNOWN_HOSTS = SSH_DIR / "known_hosts"
LAB_FILE = STATE_DIR / "lab.json"
LOCK_FILE = STATE_DIR / "lock"

USER_SSH_CONFIG = Path.home() / ".ssh" / "config"

BRIDGE = "etcdlab0"
NETWORK = "10.10.10.0/24"
HOST_ADDRESS = "10.10.10.1"
MAX_NODES = 5
DEFAULT_NODES = 3

RELEASES = ("trixie", "bookworm")
DEFAULT_RELEASE = "trixie"
MIRROR = "http://deb.debian.org/debian"

# What the base image boots with: systemd, journald, sshd, the tools testinfra uses, and sudo (sites log in
# as an admin user with sudo: tests/sops/test_sudo.py).
BASE_PACKAGES = ("systemd", "systemd-sysv", "dbus", "openssh-server", "iproute2", "ca-certificates", "procps", "sudo")

# What the lab's local package repository serves to the nodes (with their dependencies): etcd, and
# the clients the reload and monitoring SOPs are tested with.
REPO_PACKAGES = ("etcd-server", "etcd-client", "patroni", "python3-etcd", "postgresql", "vip-manager", "prometheus")
REPO_MOUNT = "/srv/lab-repo"
# The etcd of the next Debian release, served beside a release's own (bookworm 3.4.23 + trixie's
# 3.5.16, trixie 3.5.16 + sid's 3.5.30) in a pinned-down part of the repository, as a site's mirror
# serves the version it upgrades to: installed only when asked for by version (the upgrade SOP),
# never by default. (sid's package does not install on bookworm: its sysusers.d file is too new.)
ETCD_PACKAGES = ("etcd-server", "etcd-client")
NEWER_ETCD_FROM = {"bookworm": ("trixie",), "trixie": ("sid",)}
NEWER_SUITE = "lab-newer"

# Free space needed before building an image, and before booting nodes from a cached one.
BUILD_FREE_BYTES = 2 << 30
BOOT_FREE_BYTES = 512 << 20


def node_name(number: int) -> str:
    return f"node{number}"


def node_address(number: int) -> str:
    """Node i is 10.10.10.<9+i>: node1 = 10.10.10.10, the address of the SOP documents."""
    return f"10.10.10.{9 + number}"


def all_addresses() -> list[str]:
    return [node_address(number) for number in range(1, MAX_NODES + 1)]


def parse_node(text: str) -> int:
    """A node given as its number (2), its name (node2) or its address (10.10.10.11)."""
    text = text.strip()
    candidates = {str(n): n for n in range(1, MAX_NODES + 1)}
    candidates.update({node_name(n): n for n in range(1, MAX_NODES + 1)})
    candidates.update({node_address(n): n for n in range(1, MAX_NODES + 1)})
    if text not in candidates:
        raise ValueError(
            f"unknown node {text!r}: give a number 1-{MAX_NODES}, a name node1-node{MAX_NODES} "
            f"or an address {node_address(1)}-{node_address(MAX_NODES)}"
        )
    return candidates[text]
