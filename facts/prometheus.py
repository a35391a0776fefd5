"""Facts about a Prometheus host: the etcd member targets it holds."""

import shlex

from pyinfra.api import FactBase


class TargetFiles(FactBase):
    """
    The file-based service-discovery targets of one etcd cluster in a folder, `<cluster>-*.yml`,
    as {file name: sha256}; empty when there are none.

    + directory: the targets folder
    + cluster: the etcd cluster (the files' prefix)
    """

    def command(self, directory: str, cluster: str) -> str:
        return f"cd {shlex.quote(directory)} 2>/dev/null && sha256sum -- {shlex.quote(cluster)}-*.yml 2>/dev/null; true"

    @staticmethod
    def default():
        return {}

    def process(self, output):
        return {name: digest for digest, name in (line.split(None, 1) for line in output if line.strip())}
