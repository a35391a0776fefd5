"""SSH client settings that make `ssh root@10.10.10.10` and `pyinfra @ssh/10.10.10.10` just work.

The settings live in the lab's own file; the user's ~/.ssh/config only gets one marked `Include`
block at its top (OpenSSH and pyinfra both read ~/.ssh/config), which `bin/lab down` removes again.
"""

from lab import config
from lab.system import run

BEGIN = "# BEGIN etcd-lab: added by `bin/lab up`, removed by `bin/lab down`"
END = "# END etcd-lab"


def ensure_key() -> None:
    if not config.SSH_KEY.exists():
        config.SSH_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "etcd-lab", "-f", str(config.SSH_KEY))


def install(known_hosts: list[str]) -> None:
    config.SSH_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    config.KNOWN_HOSTS.write_text("".join(line + "\n" for line in known_hosts))
    config.SSH_CONFIG.write_text(
        f"Host {' '.join(config.all_addresses())}\n"
        "    User root\n"
        f"    IdentityFile {config.SSH_KEY}\n"
        "    IdentitiesOnly yes\n"
        f"    UserKnownHostsFile {config.KNOWN_HOSTS}\n"
        "    StrictHostKeyChecking yes\n"
        "    ConnectTimeout 5\n"
        "    LogLevel ERROR\n"
        # Tools that paste includes inline (pyinfra) must not read the user's next lines as ours.
        "Host *\n"
    )
    user_config = config.USER_SSH_CONFIG
    current = user_config.read_text() if user_config.exists() else ""
    if BEGIN in current:
        return
    user_config.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    user_config.write_text(f"{BEGIN}\nInclude {config.SSH_CONFIG}\n{END}\n" + current)
    user_config.chmod(0o600)


def remove() -> None:
    user_config = config.USER_SSH_CONFIG
    if user_config.exists():
        lines, kept, inside = user_config.read_text().splitlines(keepends=True), [], False
        for line in lines:
            if line.rstrip("\n") == BEGIN:
                inside = True
            elif inside and line.rstrip("\n") == END:
                inside = False
            elif not inside:
                kept.append(line)
        if kept:
            user_config.write_text("".join(kept))
        else:
            user_config.unlink()
    config.SSH_CONFIG.unlink(missing_ok=True)
    config.KNOWN_HOSTS.unlink(missing_ok=True)
