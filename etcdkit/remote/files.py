"""Files on a host: private temporary files, a file written through one, its owner and mode, copies
kept for a rollback, deletions (see etcdkit/operations/on_host.py for why temporary names are never
foreseeable)."""

from pyinfra.api import StringCommand

from etcdkit.remote.shell import joined, script, sh


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


def copy_private(temporary: str, dest: str) -> StringCommand:
    """dest made private (a new one 0600) before the temporary file is copied into it."""
    return sh("(umask 077 && touch -- {dest}) && chmod go-rwx -- {dest} && cat -- {temporary} > {dest}", dest=dest, temporary=temporary)


def install(temporary: str, dest: str) -> StringCommand:
    """copy_private, then the temporary file goes."""
    return sh("{copy}; status=$?; rm -f {temporary}; exit $status", copy=copy_private(temporary, dest), temporary=temporary)


def install_all(folder: str, dests: list[str]) -> StringCommand:
    """File <i> of the folder copied into dests[i] (copy_private), in order, stopping at the first that fails."""
    return joined([copy_private(f"{folder}/{number}", dest) for number, dest in enumerate(dests)])


def folders(*paths: str) -> StringCommand:
    return sh("mkdir -p -- {paths}", paths=paths)


def owner_and_mode(path: str, user: str, group: str, mode: str) -> StringCommand:
    return sh("chown {owner} {path} && chmod {mode} {path}", owner=f"{user}:{group}", mode=mode, path=path)


def owners_and_modes(paths: list[tuple[str, str, str, str]]) -> StringCommand:
    """(path, user, group, mode) each, in one command."""
    return joined([owner_and_mode(*path) for path in paths])


def states(paths: tuple[str, ...]) -> StringCommand:
    """The owner, group, mode and type of each path, or that it is absent, and the SHA-256 of the
    regular files among them, as the EtcdHost fact reports its files (file-states.sh.j2)."""
    return script("file-states.sh.j2", files=paths, stat=paths)


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
