"""A monitoring host's Prometheus as the monitoring step must know it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class PrometheusState:
    """What the PrometheusSetup fact reads of a Prometheus host."""

    version: tuple[int, int] | None  # (major, minor); None: not known
    job_inline: bool  # its prometheus.yml names the cluster's job itself (how one before 2.43 scrapes it)
    old_rules: bool  # rules/etcd.yml is the shared rules file an earlier etcdkit wrote
