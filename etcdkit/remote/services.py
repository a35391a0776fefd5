"""systemd units: etcd's (started, stopped, restarted, its data wiped) and those of its clients
(Patroni, vip-manager, Prometheus) that must take a new configuration."""

from pyinfra.api import StringCommand

from etcdkit.model import paths
from etcdkit.remote.shell import script, sh

# Enabling or disabling a unit skips the SysV sync (SYSTEMCTL_SKIP_SYSV): Debian's etcd-server also ships
# /etc/init.d/etcd, and systemctl would run update-rc.d on it, 0.3 s of each enable or disable. A native
# unit of the same name makes systemd ignore that script, and its rc links could only start the package's
# default instance on a host booted without systemd.


def enable(service: str = paths.SERVICE) -> StringCommand:
    """Enabled at boot; `systemctl enable` also reloads systemd's units (as daemon-reload does)."""
    return sh("SYSTEMCTL_SKIP_SYSV=1 systemctl enable --quiet {service}", service=service)


def start(service: str = paths.SERVICE) -> StringCommand:
    """Started without waiting: members of a new cluster must start together (the first one waits for quorum)."""
    return sh("systemctl start --no-block {service}", service=service)


def stop_and_disable(service: str = paths.SERVICE) -> StringCommand:
    return sh("SYSTEMCTL_SKIP_SYSV=1 systemctl disable --now --quiet {service}", service=service)


def restart(service: str = paths.SERVICE) -> StringCommand:
    return sh("systemctl restart {service}", service=service)


def restart_again(service: str = paths.SERVICE) -> StringCommand:
    """A restart after failed starts, which may have hit systemd's start limit: cleared first, or the restart is refused."""
    return sh("systemctl reset-failed {service}; systemctl restart {service}", service=service)


def daemon_reload() -> StringCommand:
    return sh("systemctl daemon-reload")


def timer_off(timer: str) -> StringCommand:
    """A timer stopped and disabled, if it is there."""
    return sh("{{ systemctl disable --now --quiet {timer} 2>/dev/null || true; }}", timer=timer)


def request_restart(pid: int, reason: str) -> StringCommand:
    """The running etcd (its MainPID) recorded as due for a restart, for this reason (a comment)."""
    return sh("echo {pid} > {marker}  # {reason}", pid=int(pid), marker=paths.RESTART_PENDING, reason=reason)


def wipe(data_dir: str) -> StringCommand:
    """etcd stopped and disabled, and its member data (the data dir's member/ only) deleted."""
    return sh(
        "SYSTEMCTL_SKIP_SYSV=1 systemctl disable --now --quiet {service} 2>/dev/null; rm -rf {member} {marker}",
        service=paths.SERVICE,
        member=f"{data_dir}/member",
        marker=paths.RESTART_PENDING,
    )


def remove_data(data_dir: str) -> StringCommand:
    """etcd's member/ tree, then the data dir only if that leaves it empty (rmdir fails otherwise)."""
    return sh("rm -rf {member} && rmdir {data_dir}", member=f"{data_dir}/member", data_dir=data_dir)


def take_config(service: str, action: str) -> StringCommand:
    """A running service reloaded or restarted (action); a stopped one stays stopped."""
    if action not in ("reload", "restart"):
        raise ValueError(f"{action}: not reload or restart")
    return sh("if systemctl is-active --quiet {service}; then systemctl {action} {service}; fi", service=service, action=action)


# What Patroni's REST API answers at the URL of its first argument, read with the python3 every
# Patroni host has (curl may be missing there): 5 s at most, and over https its certificate is not
# checked, as only Patroni's role and state are read.
READ_API = (
    "import ssl, sys, urllib.request; context = ssl.create_default_context(); context.check_hostname = False; "
    "context.verify_mode = ssl.CERT_NONE; "
    "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5, context=context).read().decode())"
)


def restart_patroni(service: str, api: str, timeout: int) -> StringCommand:
    """A running Patroni restarted, then waited for until its REST API (api: its /patroni endpoint)
    says it runs again, for at most timeout seconds."""
    return script("restart-patroni.sh.j2", service=service, api=api, read_api=READ_API, timeout=int(timeout))


def patroni_state(api: str) -> StringCommand:
    """What Patroni's REST API says (api: its /patroni endpoint); nothing when it does not answer."""
    return sh("python3 -c {program} {api} 2>/dev/null || true", program=READ_API, api=api)
