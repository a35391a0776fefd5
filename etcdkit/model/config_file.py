"""The file a client's YAML config (Patroni's, vip-manager's) leads to, and who may write it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigLocation:
    """What the ConfigFile fact finds at a config's path (templates/scripts/config-file.py locate)."""

    target: str  # the file the path leads to, through any symlinks
    user: str  # its owner
    group: str
    mode: str  # octal text, e.g. "640"
    writer: str  # root when only root can change the way to it, else its owner
    # why nobody writes it (a file of root's reached through a folder another user can change); None: its writer does
    refused: str | None
