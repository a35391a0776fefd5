"""Prometheus monitoring of the members, on the hosts of the monitoring group (etcd_monitor_group,
default `infra`) that are in the run; no such hosts, nothing to do.

Each member is a file-based service-discovery target, one file per member (labels cls, ins, ip),
kept equal to the cluster's members by create, reload (run by bin/etcd-add and bin/etcd-rm) and
destroy. Prometheus scrapes over TLS with a client certificate of its own (CN `monitor`) issued by
the cluster's CA, never a member's key; the alert rules cover what operators page on.
"""

from dataclasses import dataclass
from io import StringIO
from pathlib import Path

from pyinfra import logger
from pyinfra.facts.files import Directory
from pyinfra.operations import files

from etcdkit import params
from etcdkit.discovery import host_settings
from etcdkit.memberfiles import ClusterSecrets
from etcdkit.render import render
from operations import clients, etcd, monitoring

RULES = (Path(__file__).resolve().parent.parent / "templates" / "prometheus" / "etcd-alerts.yml").read_text()


@dataclass(frozen=True)
class Target:
    name: str
    address: str
    port: int


@dataclass
class MonitoringPlan:
    cluster: str
    hosts: list[str]  # the monitoring hosts of the run
    targets: dict[str, str]  # file name -> content
    settings: dict
    ca_pem: str = ""
    certificate: tuple[str, str] = ("", "")


def monitoring_plan(inventory, cluster: str, members: list[Target], secrets: ClusterSecrets | None) -> MonitoringPlan | None:
    """The targets for these members on the monitoring hosts of the run, or None without any.
    Without secrets (destroy) the hosts only get their targets."""
    activated = list(inventory.iter_activated_hosts())
    group = params.get(activated[0].data, "etcd_monitor_group")
    hosts = []
    for host in inventory.get_group(group, default=[]):
        if host not in activated:
            continue
        if host.get_fact(Directory, path=params.get(host.data, "prometheus_dir")):
            hosts.append(host)
        else:
            logger.warning(f"{host.name} is in group `{group}` but has no Prometheus folder: not monitoring from it")
    if not hosts:
        return None
    settings = host_settings(hosts[0])
    targets = {
        f"{member.name}.yml": render("prometheus/etcd-target.yml.j2", cluster=cluster, name=member.name, address=member.address, port=member.port)
        for member in members
    }
    plan = MonitoringPlan(cluster, [host.name for host in hosts], targets, settings)
    if secrets is not None:
        plan.ca_pem = secrets.ca.cert_pem
        plan.certificate = secrets.ca.client_certificate(secrets.folder, "monitor", settings["etcd_cert_days"])
    return plan


def watch(plan: MonitoringPlan) -> None:
    """On a monitoring host: the TLS files, the scrape job, the rules and the members' targets;
    Prometheus reloads when its job or rules changed (targets it watches by itself)."""
    settings, cluster = plan.settings, plan.cluster
    root, user, sd_dir = settings["prometheus_dir"], settings["prometheus_user"], settings["prometheus_sd_dir"]
    tls_dir = f"{root}/etcd-{cluster}"
    files.directory(name=f"{tls_dir} (etcd TLS for Prometheus)", path=tls_dir, user="root", group=user, mode="750")
    files.put(name=f"Upload {tls_dir}/ca.crt", src=StringIO(plan.ca_pem), dest=f"{tls_dir}/ca.crt", mode="644")
    files.put(name=f"Upload {tls_dir}/monitor.crt", src=StringIO(plan.certificate[0]), dest=f"{tls_dir}/monitor.crt", mode="644")
    etcd.secret_file(name=f"Upload {tls_dir}/monitor.key", content=plan.certificate[1], dest=f"{tls_dir}/monitor.key", user=user, group=user, mode="600")
    scrape = files.put(
        name=f"Prometheus scrape job etcd-{cluster}",
        src=StringIO(render("prometheus/etcd-scrape.yml.j2", cluster=cluster, sd_dir=sd_dir, tls_dir=tls_dir)),
        dest=f"{root}/scrape/etcd-{cluster}.yml", mode="644", create_remote_dir=True,
    )
    rules = files.put(name="Prometheus alert rules for etcd", src=StringIO(RULES), dest=f"{root}/rules/etcd.yml", mode="644", create_remote_dir=True)
    register(plan)
    clients.take_config(
        name="Prometheus: reload to take them", service=settings["prometheus_service"], action="reload",
        _if=lambda: scrape.did_change() or rules.did_change(),
    )


def register(plan: MonitoringPlan) -> None:
    """The cluster's targets on a monitoring host are exactly plan.targets (none: deregistered)."""
    sd_dir = plan.settings["prometheus_sd_dir"]
    files.directory(name=f"{sd_dir} (Prometheus targets)", path=sd_dir, mode="755")
    monitoring.targets(name=f"Prometheus targets of `{plan.cluster}`", directory=sd_dir, cluster=plan.cluster, files=plan.targets)
