"""Operations on the monitoring hosts: Prometheus targets of etcd members."""

import hashlib
from io import StringIO

from pyinfra import host
from pyinfra.api import FileUploadCommand, operation

from etcdkit.facts.prometheus import TargetFiles
from etcdkit.remote import files as remote_files


@operation()
def targets(directory: str, cluster: str, files: dict[str, str]):
    """
    Make the cluster's targets in the folder exactly these files: new and changed ones written,
    those of members that are gone deleted. Prometheus watches the folder: no reload needed.

    + directory: the file-based service-discovery folder, which exists when there are files to write
    + cluster: the etcd cluster (the files' prefix)
    + files: file name -> content
    """
    current = host.get_fact(TargetFiles, directory=directory, cluster=cluster)
    stale = sorted(name for name in current if name not in files)
    changed = {name: text for name, text in files.items() if current.get(name) != hashlib.sha256(text.encode()).hexdigest()}
    if not stale and not changed:
        host.noop(f"the targets of `{cluster}` in {directory} are its members")
        return
    for name, text in sorted(changed.items()):
        path = f"{directory}/{name}"
        yield FileUploadCommand(StringIO(text), path, remote_temp_filename=host.get_temp_filename(path))
        yield remote_files.chmod("644", path)
    if stale:
        yield remote_files.remove(*(f"{directory}/{name}" for name in stale))
