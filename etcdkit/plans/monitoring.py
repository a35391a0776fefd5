"""Prometheus monitoring of the members, on the hosts of the monitoring group (etcd_monitor_group,
default `infra`) that are in the run; no such hosts, nothing to do.

Each member is a file-based service-discovery target, one file per member (labels cls, ins, ip),
kept equal to the cluster's members by create, reload (run by bin/etcd-add and bin/etcd-rm) and
destroy. Prometheus scrapes over TLS with a client certificate of its own (CN `monitor`) issued by
the cluster's CA, never a member's key.

With etcd_monitor_target_dir (a Pigsty site: /infra/targets/etcd), the site's own Prometheus job
already scrapes the members from target files of the same names and labels, with its own TLS
files: etcdkit keeps only those files, and writes no job, TLS files or rules of its own.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pyinfra.facts.files import Directory

from etcdkit.control.pki import CertRequest
from etcdkit.facts.prometheus import PrometheusSetup
from etcdkit.model import params
from etcdkit.model.prometheus import PrometheusState
from etcdkit.model.settings import Settings
from etcdkit.plans.gather import host_settings
from etcdkit.plans.memberfiles import ClusterSecrets
from etcdkit.remote.render import render


@dataclass(frozen=True)
class Target:
    name: str
    address: str
    port: int


SCRAPE_CONFIG_FILES = (2, 43)  # the first Prometheus that includes scrape jobs from files


@dataclass(frozen=True)
class Monitors:
    """The monitoring hosts of the run that have the folder they are monitored through (the site's
    etcd_monitor_target_dir, else prometheus_dir), the settings of the first, the others (host -> the
    folder it lacks), and what each one's Prometheus is (PrometheusSetup; not read for a site's own)."""

    hosts: tuple[str, ...]
    settings: Settings | None  # None: no monitoring host in the run
    without: dict = field(default_factory=dict)
    setups: Mapping[str, PrometheusState | None] = field(default_factory=dict)

    @property
    def site_targets(self) -> str | None:
        """etcd_monitor_target_dir: the folder the site's own job reads the members' targets from."""
        return self.settings.etcd_monitor_target_dir if self.settings else None

    @property
    def warnings(self) -> list[str]:
        warnings = [
            f"{name} is in the monitoring group but has no folder {folder}: not monitoring from it" for name, folder in self.without.items()
        ]
        if not self.hosts or self.settings is None:
            return warnings
        root, cluster = self.settings.prometheus_dir, self.settings.etcd_cluster
        for name in self.hosts:
            setup = self.setups.get(name)
            if setup is None:
                continue
            version = setup.version
            if version and version < SCRAPE_CONFIG_FILES and not setup.job_inline:
                warnings.append(
                    f"{name}: Prometheus {version[0]}.{version[1]} cannot include scrape jobs (scrape_config_files came with 2.43), "
                    f"so it does not scrape `{cluster}` yet: copy the job of {root}/scrape/etcd-{cluster}.yml under `scrape_configs:` "
                    f"in {root}/prometheus.yml and reload Prometheus (`systemctl reload {self.settings.prometheus_service}`); "
                    "the next run finds it there"
                )
            if setup.old_rules:
                warnings.append(
                    f"{name}: {root}/rules/etcd.yml is the rules file of an earlier etcdkit, for every cluster: each cluster now "
                    f"has its own (rules/etcdkit-<cluster>.yml), so its alerts fire twice. Once every cluster it monitors has "
                    f"been reloaded, delete it (`rm {root}/rules/etcd.yml`) and reload Prometheus; etcdkit never deletes etcd.yml"
                )
        return warnings


@dataclass
class MonitoringPlan:
    cluster: str
    hosts: list[str]  # the monitoring hosts of the run
    targets: dict[str, str]  # file name -> content
    settings: Settings
    target_dir: str  # the folder of the targets: prometheus_sd_dir, or the site's etcd_monitor_target_dir
    # the CA and the certificate Prometheus scrapes with; None (destroy, or etcd_monitor_target_dir: the
    # site's own job scrapes): the hosts only get their targets
    ca_cert: Path | None = None
    certificate: CertRequest | None = None


def tls_dir(settings: Settings, cluster: str) -> str:
    """Where a monitoring host keeps the CA, certificate and key it scrapes the cluster with."""
    return f"{settings.prometheus_dir}/etcd-{cluster}"


def read_monitors(inventory) -> Monitors:
    activated = list(inventory.iter_activated_hosts())
    group = params.get(activated[0].data, "etcd_monitor_group")
    hosts, without = [], {}
    for host in inventory.get_group(group, default=[]):
        if host in activated:
            # a host counts with the folder it is monitored through: the site's targets', else Prometheus'
            folder = params.get(host.data, "etcd_monitor_target_dir") or params.get(host.data, "prometheus_dir")
            if host.get_fact(Directory, path=folder):
                hosts.append(host)
            else:
                without[host.name] = folder
    settings = host_settings(hosts[0]) if hosts else None
    setups = {}
    # a site's own Prometheus (etcd_monitor_target_dir) gets no job nor rules from etcdkit: nothing to ask it
    if settings is not None and not settings.etcd_monitor_target_dir:
        cluster = settings.etcd_cluster
        setups = {h.name: h.get_fact(PrometheusSetup, directory=params.get(h.data, "prometheus_dir"), cluster=cluster) for h in hosts}
    return Monitors(tuple(h.name for h in hosts), settings, without, setups)


def monitoring_plan(monitors: Monitors, cluster: str, members: list[Target], secrets: ClusterSecrets | None) -> MonitoringPlan | None:
    """The targets for these members on the monitoring hosts of the run, or None without any; with
    the secrets, the CA and the certificate Prometheus scrapes with, unless the site's job scrapes."""
    if not monitors.hosts or monitors.settings is None:
        return None
    targets = {
        f"{member.name}.yml": render(
            "prometheus/etcd-target.yml.j2", cluster=cluster, name=member.name, address=member.address, port=member.port
        )
        for member in members
    }
    target_dir = monitors.site_targets or monitors.settings.prometheus_sd_dir
    plan = MonitoringPlan(cluster, list(monitors.hosts), targets, monitors.settings, target_dir)
    if secrets is not None and not monitors.site_targets:
        plan.ca_cert = secrets.ca.files[0]
        plan.certificate = secrets.client_certificate("monitor")
    return plan
