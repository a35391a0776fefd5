"""Files on a host: private temporary files, a file written through one, its owner and mode, copies
kept for a rollback, deletions (see etcdkit/operations/on_host.py for why temporary names are never
foreseeable)."""

from pyinfra.api import StringCommand

from etcdkit.remote.shell import sh


def temporary(folder: bool = False) -> StringCommand:
    """A new file (or folder) of the SSH user in the host's temporary folder, created exclusively
    by mktemp, 0600 (0700): it prints the name."""
    if folder:
        return sh('mktemp -d "${{TMPDIR:-/tmp}}/etcdkit.XXXXXXXXXX"')
    return sh('mktemp "${{TMPDIR:-/tmp}}/etcdkit.XXXXXXXXXX"')


def remove(*paths: str) -> StringCommand:
    return sh("rm -f {paths}", paths=paths)


def remove_tree(*paths: str) -> StringCommand:
    return sh("rm -rf {paths}", paths=paths)


def install(temporary: str, dest: str) -> StringCommand:
    """dest made private (a new one 0600) before the temporary file is copied into it, which then goes."""
    return sh(
        "(umask 077 && touch -- {dest}) && chmod go-rwx -- {dest} && cat -- {temporary} > {dest}; "
        "status=$?; rm -f {temporary}; exit $status",
        dest=dest,
        temporary=temporary,
    )


def owner_and_mode(path: str, user: str, group: str, mode: str) -> StringCommand:
    return sh("chown {owner} {path} && chmod {mode} {path}", owner=f"{user}:{group}", mode=mode, path=path)


def chmod(mode: str, path: str) -> StringCommand:
    return sh("chmod {mode} {path}", mode=mode, path=path)


def replace(new: str, path: str, user: str, group: str, mode: str) -> StringCommand:
    """The file new, given its owner and mode, then moved over path."""
    return sh("{owned} && mv -f {new} {path}", owned=owner_and_mode(new, user, group, mode), new=new, path=path)


def previous(path: str) -> str:
    """Where a file is kept while its replacement is tried."""
    return f"{path}.previous"


def keep(path: str) -> StringCommand:
    """A copy of the file (mode and owner too) kept beside it: prints `kept`, or `absent` when there is none."""
    return sh("if [ -f {path} ]; then cp -p {path} {kept} && echo kept; else echo absent; fi", path=path, kept=previous(path))


def put_back(path: str) -> StringCommand:
    """The kept copy of the file back in its place."""
    return sh("mv -f {kept} {path}", kept=previous(path), path=path)
