"""Operations on the monitoring hosts: Prometheus targets of etcd members."""

import hashlib
import shlex
from io import StringIO

from pyinfra import host
from pyinfra.api import FileUploadCommand, StringCommand, operation

from etcdkit.facts.prometheus import TargetFiles


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
        yield StringCommand(f"chmod 644 {shlex.quote(path)}")
    if stale:
        yield StringCommand("rm -f " + " ".join(shlex.quote(f"{directory}/{name}") for name in stale))
