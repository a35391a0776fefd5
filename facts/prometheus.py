"""Facts about a Prometheus host: the etcd member targets it holds."""

import re
import shlex

from pyinfra.api import FactBase


class TargetFiles(FactBase):
    """
    The file-based service-discovery targets of one etcd cluster in a folder, its members'
    `<cluster>-<seq>.yml` files, as {file name: sha256}; empty when there are none. The files of
    another cluster whose name starts the same (`etcd-pg-1.yml` next to `etcd-1.yml`) are not its.

    + directory: the targets folder
    + cluster: the etcd cluster (the files' prefix)
    """

    def command(self, directory: str, cluster: str) -> str:
        return (
            f"echo {shlex.quote('cluster=' + cluster)}; "
            f"cd {shlex.quote(directory)} 2>/dev/null && sha256sum -- {shlex.quote(cluster)}-*.yml 2>/dev/null; true"
        )

    @staticmethod
    def default():
        return {}

    def process(self, output):
        lines = [line for line in output if line.strip()]
        cluster = lines[0].removeprefix("cluster=") if lines and lines[0].startswith("cluster=") else None
        member_file = re.compile(rf"{re.escape(cluster)}-\d+\.yml") if cluster else None
        return {
            name: digest
            for digest, name in (line.split(None, 1) for line in lines[1:])
            if member_file is not None and member_file.fullmatch(name)
        }
