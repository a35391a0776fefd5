"""A Prometheus host: what it holds of a cluster's scrape job, rules and targets."""

from pyinfra.api import StringCommand

from etcdkit.remote.shell import sh


def target_files(directory: str, cluster: str) -> StringCommand:
    """`cluster=<cluster>`, then the SHA-256 of each <cluster>-*.yml in the folder."""
    return sh(
        "echo {header}; cd {directory} 2>/dev/null && sha256sum -- {cluster}-*.yml 2>/dev/null; true",
        header=f"cluster={cluster}",
        directory=directory,
        cluster=cluster,
    )


def setup(directory: str, cluster: str, old_rules_header: str) -> StringCommand:
    """Prometheus' version, `job_inline` when prometheus.yml names the cluster's job, `old_rules` when
    rules/etcd.yml starts with old_rules_header."""
    return sh(
        "echo version=$(prometheus --version 2>&1 | head -n 1); "
        "grep -qsF -- {job} {directory}/prometheus.yml && echo job_inline; "
        "head -n 1 {directory}/rules/etcd.yml 2>/dev/null | grep -qF {header} && echo old_rules; true",
        job=f"job_name: etcd-{cluster}",
        directory=directory,
        header=old_rules_header,
    )
