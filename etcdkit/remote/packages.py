"""etcd's packages and binaries: installed with the host's package manager (pinned to a version),
unpacked from a release tarball, taken off."""

from pyinfra.api import StringCommand

from etcdkit.model import paths
from etcdkit.remote.shell import script, sh

# With apt, no service starts while etcd's packages install: see templates/scripts/apt-install.sh.j2.
DISABLE_SERVICE_START = "/usr/sbin/policy-rc.d"
APT_PACKAGES, RPM_PACKAGES = ["etcd-server", "etcd-client"], ["etcd"]
# what a release tarball puts in /usr/local/bin
BINARIES = ["/usr/local/bin/etcd", "/usr/local/bin/etcdctl", "/usr/local/bin/etcdutl"]


def apt_install(
    packages: list[str] | None, version: str | None, fresh: bool, downgrade: bool, policy: str = DISABLE_SERVICE_START
) -> StringCommand:
    """etcd's packages with apt, pinned to version when given (`etcd-server=3.5.16*`: any Debian
    revision of it), with downgrade an older one allowed; no service starts meanwhile (policy: the
    policy-rc.d that says so); a fresh install then disables the package's own unit."""
    options = ["-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"] if version else []
    return script(
        "apt-install.sh.j2",
        policy=policy,
        options=options + (["--allow-downgrades"] if downgrade else []),
        packages=[f"{name}={version}*" if version else name for name in packages or APT_PACKAGES],
        fresh=fresh,
        service=paths.SERVICE,
    )


def rpm_install(tool: str, packages: list[str] | None, version: str | None, downgrade: bool) -> StringCommand:
    """etcd's packages with dnf or yum (tool), pinned to version when given (`etcd-3.5.16`)."""
    names = [f"{name}-{version}" if version else name for name in packages or RPM_PACKAGES]
    return sh("{tool} {action} -y {names}", tool=tool, action="downgrade" if downgrade else "install", names=names)


def apt_purge(packages: list[str] | None) -> StringCommand:
    return sh("DEBIAN_FRONTEND=noninteractive apt-get purge -y -q {names}", names=packages or APT_PACKAGES)


def rpm_remove(tool: str, packages: list[str] | None) -> StringCommand:
    return sh("{tool} remove -y {names}", tool=tool, names=packages or RPM_PACKAGES)


def remove_binaries() -> StringCommand:
    return sh("rm -f {binaries}", binaries=BINARIES)


def unpack_tarball(remote: str, digest: str) -> StringCommand:
    """An uploaded release tarball checked (its SHA-256), then etcd, etcdctl and etcdutl unpacked into
    /usr/local/bin (tar replaces a running binary by a new file, never writes into it), the tarball
    deleted, and the etcd user and group there."""
    return sh(
        "echo {line} | sha256sum -c --quiet && "
        "tar -xzf {remote} -C /usr/local/bin --strip-components=1 --no-same-owner --wildcards {members} && rm -f {remote} && "
        "{{ getent group etcd >/dev/null || groupadd --system etcd; }} && "
        "{{ getent passwd etcd >/dev/null || useradd --system -g etcd -d /var/lib/etcd -s /usr/sbin/nologin etcd; }}",
        line=f"{digest}  {remote}",
        remote=remote,
        members=["*/etcd", "*/etcdctl", "*/etcdutl"],
    )
