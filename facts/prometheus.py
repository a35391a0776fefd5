"""Facts about a Prometheus host: the etcd member targets it holds, its version and what it includes."""

import re

from pyinfra.api import FactBase

from etcdkit.model.prometheus import PrometheusState
from etcdkit.remote.prometheus import setup, target_files


class TargetFiles(FactBase):
    """
    The file-based service-discovery targets of one etcd cluster in a folder, its members'
    `<cluster>-<seq>.yml` files, as {file name: sha256}; empty when there are none. The files of
    another cluster whose name starts the same (`etcd-pg-1.yml` next to `etcd-1.yml`) are not its.

    + directory: the targets folder
    + cluster: the etcd cluster (the files' prefix)
    """

    def command(self, directory: str, cluster: str):
        return target_files(directory, cluster)

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


class PrometheusSetup(FactBase):
    """
    What the monitoring step must know of a Prometheus host: its version (`scrape_config_files`,
    which includes the scrape jobs, came with 2.43), whether its prometheus.yml names the cluster's
    job itself (how an older one scrapes it), and whether rules/etcd.yml is the shared rules file
    an earlier etcdkit wrote (by its first line).

    + directory: Prometheus' folder
    + cluster: the etcd cluster

    .. code:: python

        PrometheusState(version=(2, 42), job_inline=False, old_rules=True)
    """

    def command(self, directory: str, cluster: str):
        return setup(directory, cluster, OLD_RULES_HEADER)

    def process(self, output) -> PrometheusState:
        lines = [line.strip() for line in output]
        version = next((re.search(r"version (\d+)\.(\d+)", line) for line in lines if line.startswith("version=")), None)
        return PrometheusState(
            version=(int(version[1]), int(version[2])) if version else None,
            job_inline="job_inline" in lines,
            old_rules="old_rules" in lines,
        )


# the first line of the rules file etcdkit wrote before its rules were per cluster (rules/etcd.yml)
OLD_RULES_HEADER = "# Alert rules for etcd clusters managed by etcdkit"
