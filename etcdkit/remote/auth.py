"""etcd's authentication: root and its password, and the users of etcd's clients, each limited to
a key prefix. Passwords are only ever read from files on the host, never on a command line."""

from pyinfra.api import StringCommand

from etcdkit.model import paths
from etcdkit.remote.etcdctl import call, etcdctl
from etcdkit.remote.shell import script, sh


def enable(endpoint: str, password_file: str = paths.PASS) -> StringCommand:
    """The user root (its password from the password file, /etc/etcd/etcd.pass) and authentication
    enabled, then verified."""
    return script("enable-auth.sh.j2", etcdctl=etcdctl(endpoint), anonymous=etcdctl(endpoint, as_root=False), password_file=password_file)


def state(endpoint: str) -> StringCommand:
    """Prints `anonymous`, `root` and `refused` as they hold (the EtcdAuth fact)."""
    return script("auth-state.sh.j2", etcdctl=etcdctl(endpoint), anonymous=etcdctl(endpoint, as_root=False))


def root_logs_in(endpoint: str, refused: str) -> StringCommand:
    """Root logs in with /etc/etcd/etcd.pass, or it fails: with `refused` when etcd refuses the password."""
    return script("root-logs-in.sh.j2", etcdctl=etcdctl(endpoint), refused=refused)


def logs_in(endpoint: str, user: str = "root", password_file: str = paths.PASS) -> StringCommand:
    """Whether the user logs in with the password of the file (a read that needs a login)."""
    return call(etcdctl(endpoint, login=(user, password_file)), "get --limit=1 health >/dev/null")


def change_password(endpoint: str, user: str, password_file: str) -> StringCommand:
    """The user's password set to the one of the file, as root."""
    return call(
        etcdctl(endpoint), "user passwd {user} --interactive=false < {password_file} >/dev/null", user=user, password_file=password_file
    )


def user_state(endpoint: str, user: str, prefix: str, password_file: str) -> StringCommand:
    """Prints `user`, `permission`, `role` and `login` as they hold (the EtcdUser fact)."""
    return script(
        "user-state.sh.j2",
        etcdctl=etcdctl(endpoint),
        login=etcdctl(endpoint, login=(user, password_file)),
        user=user,
        prefix=prefix,
        password_file=password_file,
    )


def client_user(endpoint: str, user: str, prefix: str, password_file: str) -> StringCommand:
    """The user and its role of the same name (readwrite on the prefix only), its password from the file."""
    return sh(
        "{{ {ctl} user get {user} >/dev/null 2>&1 || {ctl} user add {user} --interactive=false < {password_file}; }} && "
        "{{ {ctl} role get {user} >/dev/null 2>&1 || {ctl} role add {user}; }} && "
        "{ctl} role grant-permission {user} --prefix=true readwrite {prefix} && "
        "{ctl} user grant-role {user} {user}",
        ctl=etcdctl(endpoint),
        user=user,
        prefix=prefix,
        password_file=password_file,
    )
