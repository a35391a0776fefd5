"""Services that must take a new configuration: etcd's clients (Patroni, vip-manager) and Prometheus."""

import shlex

from pyinfra.api import operation


@operation(is_idempotent=False)
def take_config(service: str, action: str):
    """
    Make a running service take its new config: `reload` or `restart` it. A stopped one stays stopped.

    + service: the systemd unit
    + action: reload or restart
    """
    yield f"if systemctl is-active --quiet {shlex.quote(service)}; then systemctl {action} {shlex.quote(service)}; fi"
