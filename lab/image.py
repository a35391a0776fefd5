"""The cached base image of a Debian release and the local package repository served to its nodes.

Both are built once with network access on this machine (debootstrap, apt-get --download-only in a
throw-away overlay of the base) and reused by every later `bin/lab up`. Nodes themselves never
reach a mirror: their only apt source is the repository, bind-mounted read-only.
"""

import json
import shutil
import sys
from pathlib import Path

from lab import config
from lab.system import LabError, is_mounted, require_free_space, run, umount_under

REPO_SOURCE = f"deb [trusted=yes] file:{config.REPO_MOUNT} ./\ndeb [trusted=yes] file:{config.REPO_MOUNT}/newer ./\n"
# the newer etcd is a candidate only when asked for by version, like a backports suite
NEWER_PIN = f"Package: *\nPin: release a={config.NEWER_SUITE}\nPin-Priority: 100\n"


def image_dir(release: str) -> Path:
    return config.IMAGES_DIR / release


def base_dir(release: str) -> Path:
    return image_dir(release) / "base"


def repo_dir(release: str) -> Path:
    return image_dir(release) / "repo"


def _stamp(release: str) -> dict:
    return {
        "release": release,
        "base": sorted(config.BASE_PACKAGES),
        "repo": sorted(config.REPO_PACKAGES),
        "newer_etcd_from": list(config.NEWER_ETCD_FROM.get(release, ())),
        "newer_suite": config.NEWER_SUITE,
    }


def _stamp_file(release: str) -> Path:
    return image_dir(release) / "image.json"


def is_current(release: str) -> bool:
    stamp = _stamp_file(release)
    return (
        base_dir(release).is_dir() and repo_dir(release).is_dir() and stamp.is_file() and json.loads(stamp.read_text()) == _stamp(release)
    )


def ensure_image(release: str, nodes_running: bool) -> None:
    """Build what is missing or out of date; a cached, current image costs nothing."""
    if is_current(release):
        return
    if nodes_running:
        raise LabError(f"the {release} image is out of date but nodes run on it: run `bin/lab down` first")
    require_free_space(config.IMAGES_DIR, config.BUILD_FREE_BYTES)
    stamp = _stamp_file(release)
    recorded = json.loads(stamp.read_text()) if stamp.is_file() else {}
    stamp.unlink(missing_ok=True)
    if not base_dir(release).is_dir() or recorded.get("base") not in (None, sorted(config.BASE_PACKAGES)):
        _build_base(release)
    _build_repo(release)
    _index_repo_in_base(release)
    stamp.write_text(json.dumps(_stamp(release)))


def _say(message: str) -> None:
    print(f"lab: {message}", file=sys.stderr, flush=True)


def _build_base(release: str) -> None:
    """debootstrap into a temporary folder, then rename: an interrupted build leaves no half image."""
    target = base_dir(release)
    partial = target.with_name("base.partial")
    umount_under(partial)
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)
    _say(f"building the {release} base image with debootstrap (once; about a minute)")
    run(
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(config.BASE_PACKAGES)}",
        release,
        str(partial),
        config.MIRROR,
    )
    # Every node gets its own host keys and machine id; the image has none.
    for key in (partial / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (partial / "etc/machine-id").write_text("")
    run("chroot", str(partial), "systemctl", "enable", "systemd-networkd", "ssh")
    run("chroot", str(partial), "apt-get", "clean")
    (partial / "etc/apt/sources.list").write_text(REPO_SOURCE)
    for extra in (partial / "etc/apt/sources.list.d").glob("*"):
        extra.unlink()
    (partial / config.REPO_MOUNT.lstrip("/")).mkdir(parents=True, exist_ok=True)
    partial.rename(target)


def _build_repo(release: str) -> None:
    """Download the repository packages and the dependencies the base lacks, then index them."""
    target = repo_dir(release)
    scratch = image_dir(release) / "repo.scratch"
    partial = target.with_name("repo.partial")
    newer_debs = target.with_name("repo.newer")  # the next release's etcd, indexed apart
    umount_under(scratch)
    for stale in (scratch, partial, newer_debs, target):
        shutil.rmtree(stale, ignore_errors=True)
    _say(f"downloading {', '.join(config.REPO_PACKAGES)} for the lab's local {release} repository")
    upper, work, root = scratch / "upper", scratch / "work", scratch / "root"
    for folder in (upper, work, root, partial):
        folder.mkdir(parents=True)
    run("mount", "-t", "overlay", "overlay", "-o", f"lowerdir={base_dir(release)},upperdir={upper},workdir={work}", str(root))
    try:
        (root / "etc/apt/sources.list").write_text(f"deb {config.MIRROR} {release} main\n")
        run("chroot", str(root), "apt-get", "update", "-q")
        run(
            "chroot",
            str(root),
            "env",
            "DEBIAN_FRONTEND=noninteractive",
            "apt-get",
            "install",
            "--download-only",
            "--no-install-recommends",
            "-y",
            "-q",
            *config.REPO_PACKAGES,
        )
        for deb in (root / "var/cache/apt/archives").glob("*.deb"):
            shutil.copy2(deb, partial / deb.name)
        newer_debs.mkdir()
        for newer in config.NEWER_ETCD_FROM.get(release, ()):
            (root / "etc/apt/sources.list").write_text(f"deb {config.MIRROR} {newer} main\n")
            # sid's Release file carries a Valid-Until that a mirror snapshot outlives
            run("chroot", str(root), "apt-get", "-o", "Acquire::Check-Valid-Until=false", "update", "-q")
            run("chroot", str(root), "sh", "-c", "mkdir -p /newer && cd /newer && apt-get download -q " + " ".join(config.ETCD_PACKAGES))
            for deb in (root / "newer").glob("*.deb"):
                shutil.copy2(deb, newer_debs / deb.name)
    finally:
        umount_under(root)
        shutil.rmtree(scratch, ignore_errors=True)
    _index(partial, release)  # before newer/ is in it: apt-ftparchive indexes the subfolders too
    newer_debs.rename(partial / "newer")
    _index(partial / "newer", config.NEWER_SUITE)
    partial.rename(target)


def _index(folder: Path, suite: str) -> None:
    """The Packages and Release files of a flat repository folder, its Release naming the suite."""
    (folder / "Packages").write_text(run("apt-ftparchive", "packages", ".", cwd=folder).stdout)
    release_file = run("apt-ftparchive", "-o", f"APT::FTPArchive::Release::Suite={suite}", "release", ".", cwd=folder).stdout
    (folder / "Release").write_text(release_file)


def release_tarball(release: str, version: str) -> Path:
    """An etcd release-style tarball (etcd-v<version>-linux-amd64.tar.gz holding etcd, etcdctl and
    etcdutl in a folder of that name) repackaged from the Debian packages of the release's lab
    repository: the upstream release file cannot be fetched here. Built once, then cached."""
    name = f"etcd-v{version}-linux-amd64"
    tarball = image_dir(release) / "tarballs" / f"{name}.tar.gz"
    if tarball.is_file():
        return tarball
    debs = [deb for package in config.ETCD_PACKAGES for deb in repo_dir(release).glob(f"**/{package}_{version}-*.deb")]
    if len(debs) != len(config.ETCD_PACKAGES):
        raise LabError(f"the {release} lab repository has no etcd {version} packages: run `bin/lab up --release {release}` first")
    scratch = tarball.parent / f"{name}.scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    (scratch / name).mkdir(parents=True)
    try:
        for deb in debs:
            run("dpkg-deb", "-x", str(deb), str(scratch / "root"))
        for binary in ("etcd", "etcdctl", "etcdutl"):
            if (scratch / "root/usr/bin" / binary).exists():
                shutil.copy2(scratch / "root/usr/bin" / binary, scratch / name / binary)
        run("tar", "-czf", str(tarball.with_suffix(".partial")), "-C", str(scratch), name)
        tarball.with_suffix(".partial").rename(tarball)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return tarball


def _index_repo_in_base(release: str) -> None:
    """Give the image current package lists for the repository, as a server with a local mirror has."""
    base = base_dir(release)
    (base / "etc/apt/sources.list").write_text(REPO_SOURCE)
    (base / "etc/apt/preferences.d").mkdir(parents=True, exist_ok=True)
    (base / "etc/apt/preferences.d/lab-newer").write_text(NEWER_PIN)
    mountpoint = base / config.REPO_MOUNT.lstrip("/")
    run("mount", "--bind", "-o", "ro", str(repo_dir(release)), str(mountpoint))
    try:
        run("chroot", str(base), "apt-get", "update", "-q")
    finally:
        if is_mounted(mountpoint):
            run("umount", str(mountpoint))
