"""etcd's packages and binaries: installed with the host's package manager (pinned to a version),
unpacked from a release tarball, taken off."""

from pyinfra.api import StringCommand

from etcdkit.model import paths
from etcdkit.remote.shell import script, sh

# With apt, no service starts while etcd's packages install: see templates/scripts/apt-install.sh.j2.
DISABLE_SERVICE_START = "/usr/sbin/policy-rc.d"
APT_PACKAGES, RPM_PACKAGES = ["etcd-server", "etcd-client"], ["etcd"]
# the package managers etcdkit installs with, in the order a host's is looked for (the EtcdHost script)
PACKAGE_MANAGERS = ("apt-get", "dnf", "yum")
# dpkg's file lists of the installed packages (<package>.list): the EtcdHost script looks for the binary there
DPKG_INFO = "/var/lib/dpkg/info"
# what a release tarball puts in /usr/local/bin
BINARIES = ["/usr/local/bin/etcd", "/usr/local/bin/etcdctl", "/usr/local/bin/etcdutl"]


def apt_install(
    packages: list[str] | None, version: str | None, fresh: bool, downgrade: bool, etcd_user: bool, policy: str = DISABLE_SERVICE_START
) -> StringCommand:
    """etcd's packages with apt, pinned to version when given (`etcd-server=3.5.16*`: any Debian
    revision of it), with downgrade an older one allowed; no service starts meanwhile (policy: the
    policy-rc.d that says so); a fresh install then disables the package's own unit, if it has one
    (Pigsty's package `etcd` has none); with etcd_user, the etcd user made where the package did not."""
    options = ["-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"] if version else []
    return script(
        "apt-install.sh.j2",
        policy=policy,
        options=options + (["--allow-downgrades"] if downgrade else []),
        packages=[f"{name}={version}*" if version else name for name in packages or APT_PACKAGES],
        fresh=fresh,
        service=paths.SERVICE,
        etcd_user=etcd_user_exists() if etcd_user else None,
    )


def rpm_install(tool: str, packages: list[str] | None, version: str | None, downgrade: bool, etcd_user: bool) -> StringCommand:
    """etcd's packages with dnf or yum (tool), pinned to version when given (`etcd-3.5.16`); with
    etcd_user, the etcd user made where the package did not."""
    names = [f"{name}-{version}" if version else name for name in packages or RPM_PACKAGES]
    command = sh("{tool} {action} -y {names}", tool=tool, action="downgrade" if downgrade else "install", names=names)
    return sh("{command} && {user}", command=command, user=etcd_user_exists()) if etcd_user else command


def apt_purge(packages: list[str] | None) -> StringCommand:
    return sh("DEBIAN_FRONTEND=noninteractive apt-get purge -y -q {names}", names=packages or APT_PACKAGES)


def rpm_remove(tool: str, packages: list[str] | None) -> StringCommand:
    return sh("{tool} remove -y {names}", tool=tool, names=packages or RPM_PACKAGES)


def remove_binaries() -> StringCommand:
    return sh("rm -f {binaries}", binaries=BINARIES)


def etcd_user_exists() -> StringCommand:
    """The user etcd runs as, made where the install did not make it (a release tarball; a package
    such as Pigsty's `etcd`, whose binaries come without one)."""
    return sh(
        "{{ getent group etcd >/dev/null || groupadd --system etcd; }} && "
        "{{ getent passwd etcd >/dev/null || useradd --system -g etcd -d /var/lib/etcd -s /usr/sbin/nologin etcd; }}"
    )


def unpack_tarball(remote: str, digest: str) -> StringCommand:
    """An uploaded release tarball checked, its binaries unpacked into /usr/local/bin, and the etcd user there."""
    return sh("{extract} && {user}", extract=extract_release(remote, digest, "/usr/local/bin"), user=etcd_user_exists())


def extract_release(remote: str, digest: str, target: str) -> StringCommand:
    """An uploaded release tarball checked (its SHA-256), then etcd, etcdctl and etcdutl (from etcd
    3.5: a 3.4 release has none) unpacked into target: the files of the release's top folder whose
    names begin with etcd, never its Documentation/. tar replaces a running binary by a new file,
    never writes into it. The tarball is deleted once unpacked."""
    return sh(
        "echo {line} | sha256sum -c --quiet && "
        "tar -xzf {remote} -C {target} --strip-components=1 --no-same-owner --wildcards --no-wildcards-match-slash {members} && "
        "[ -x {etcd} ] && [ -x {etcdctl} ] && rm -f {remote}",
        line=f"{digest}  {remote}",
        remote=remote,
        target=target,
        members="*/etcd*",
        etcd=f"{target}/etcd",
        etcdctl=f"{target}/etcdctl",
    )
