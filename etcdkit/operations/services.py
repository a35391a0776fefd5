"""Services that must take a new configuration: etcd's clients (Patroni, vip-manager) and Prometheus."""

from pyinfra.api import operation

from etcdkit.remote import services

PATRONI_TIMEOUT = 300  # a replica's PostgreSQL stops with a checkpoint, then replays WAL before it runs again


@operation(is_idempotent=False)
def take_config(service: str, action: str):
    """
    Make a running service take its new config: `reload` or `restart` it. A stopped one stays stopped.

    + service: the systemd unit
    + action: reload or restart
    """
    yield services.take_config(service, action)


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
    yield services.restart_patroni(service, api, timeout)
