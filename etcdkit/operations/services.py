"""Services that must take a new configuration: etcd's clients (Patroni, vip-manager) and Prometheus."""

import shlex

from pyinfra.api import operation

PATRONI_TIMEOUT = 300  # a replica's PostgreSQL stops with a checkpoint, then replays WAL before it runs again


@operation(is_idempotent=False)
def take_config(service: str, action: str):
    """
    Make a running service take its new config: `reload` or `restart` it. A stopped one stays stopped.

    + service: the systemd unit
    + action: reload or restart
    """
    yield f"if systemctl is-active --quiet {shlex.quote(service)}; then systemctl {action} {shlex.quote(service)}; fi"


@operation(is_idempotent=False)
def restart_patroni(service: str, api: str, timeout: int = PATRONI_TIMEOUT):
    """
    Restart a running Patroni and wait until its REST API says it runs again (PostgreSQL started
    and, on a replica, streaming), so that a serial run restarts the next host only then. A stopped
    Patroni stays stopped.

    + service: Patroni's systemd unit
    + api: its /patroni endpoint
    + timeout: seconds it may take to run again
    """
    unit, insecure = shlex.quote(service), "-k " if api.startswith("https:") else ""
    running = f'curl -s -m 5 {insecure}{shlex.quote(api)} | grep -Eq \'"state": *"running"\''
    yield (
        f"if systemctl is-active --quiet {unit}; then systemctl restart {unit} && "
        f"for i in $(seq {int(timeout)}); do sleep 1; {running} && exit 0; done; "
        f"echo {shlex.quote(f'Patroni does not run again {timeout} s after its restart: see journalctl -u {service}')} >&2; exit 1; fi"
    )
