"""What a host holds of etcd, read in one round trip each: the EtcdHost fact's reader
(templates/scripts/etcd-host.sh.j2), the unit's state, the binary's version, its certificates, and
the v2 store check before etcd 3.6."""

from pyinfra.api import StringCommand

from etcdkit.model import paths
from etcdkit.model.host import RUNNING_STATES
from etcdkit.remote.etcdctl import own_status
from etcdkit.remote.packages import DPKG_INFO, PACKAGE_MANAGERS
from etcdkit.remote.shell import script, sh

# the files of a member whose SHA-256, owner and mode the EtcdHost fact reports
MANAGED_FILES = (
    paths.CA,
    paths.CERT,
    paths.KEY,
    paths.PASS,
    paths.CONF,
    paths.UNIT,
    paths.ENV,
    paths.BACKUP_SCRIPT,
    paths.BACKUP_SERVICE,
    paths.BACKUP_TIMER,
)


def etcd_host(
    data_dir: str,
    ports: tuple[int, int],
    conf: str = paths.CONF,
    also: tuple[str, ...] = (),
    pems: tuple[str, ...] = (paths.CERT, paths.CA),
    own: bool = True,
    dpkg_info: str = DPKG_INFO,
) -> StringCommand:
    """key=value lines of what the host holds of etcd, then its etcd.conf (conf) after `conf<<`;
    the owner, group, mode and type of the managed files, the config and data dirs and the paths
    of `also`; the text of the member's certificate and CA (pems); with own, what its running etcd
    says it is (its own endpoint status: an etcdctl process and a login)."""
    return script(
        "etcd-host.sh.j2",
        service=paths.SERVICE,
        unit=paths.UNIT,
        marker=paths.RESTART_PENDING,
        data_dir=data_dir,
        ports=[int(port) for port in ports],
        files=MANAGED_FILES,
        stat=(paths.CONF_DIR, data_dir, *MANAGED_FILES, *also),
        conf=conf,
        pems=pems,
        package_managers=PACKAGE_MANAGERS,
        own_status=own_status(int(ports[0])) if own else None,
        dpkg_info=dpkg_info,
        running=RUNNING_STATES,
    )


def service_state() -> StringCommand:
    """The unit's active and enabled state, its MainPID and the MainPID of the restart marker, one a line."""
    return sh(
        "echo $(systemctl is-active {service} 2>/dev/null); "
        "echo $(systemctl is-enabled {service} 2>/dev/null); "
        "systemctl show -p MainPID --value {service} 2>/dev/null || echo 0; "
        "cat {marker} 2>/dev/null || echo 0",
        service=paths.SERVICE,
        marker=paths.RESTART_PENDING,
    )


def version() -> StringCommand:
    """The installed etcd's version; nothing without one."""
    return sh("etcd --version 2>/dev/null | sed -n 's/^etcd Version: //p'; true")


def etcdctl_version() -> StringCommand:
    """The installed etcdctl's version; nothing without one."""
    return sh("etcdctl version 2>/dev/null | sed -n 's/^etcdctl version: //p'; true")


def v2store_check(data_dir: str) -> StringCommand:
    """`passed` or `failed`, then what `etcdutl check v2store` says of the data dir; nothing without etcdutl."""
    return sh(
        "if command -v etcdutl >/dev/null 2>&1; then "
        "if out=$(etcdutl check v2store --data-dir {data_dir} 2>&1); then echo passed; else echo failed; fi; "
        'printf "%s\\n" "$out"; fi; true',
        data_dir=data_dir,
    )
