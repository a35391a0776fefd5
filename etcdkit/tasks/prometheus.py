"""Task groups on the monitoring hosts: Prometheus scrapes the members of a cluster."""

import json
import re
from io import StringIO

from pyinfra.api import deploy
from pyinfra.operations import files

from etcdkit.model.settings import Settings
from etcdkit.operations import prometheus, services
from etcdkit.operations.files import upload
from etcdkit.plans import monitoring
from etcdkit.plans.monitoring import MonitoringPlan
from etcdkit.remote.render import TEMPLATES, render, to_yaml

RULES = (TEMPLATES / "prometheus" / "etcd-alerts.yml").read_text()
DASHBOARD = TEMPLATES / "grafana" / "etcd-dashboard.json"
# the rules' runbook links as shipped: `runbook_url: docs/runbook.md#<alert name in lower case>`
RUNBOOK_LINK = re.compile(r"^(\s+runbook_url: )docs/runbook\.md#(\S+)$", re.MULTILINE)


def alert_rules(runbook_url: str, cluster: str) -> str:
    """The alert rules of one cluster, its own file next to the site's (which may hold an etcd.yml
    of its own): its group `etcdkit-<cluster>`, its job and backup gauge only (with one file per
    cluster, rules for every etcd job would fire once per file), the runbook links under
    etcd_runbook_url (the default leaves them as shipped)."""
    header, rules = RULES.split("\n", 1)
    rules = rules.replace('job=~"etcd-.*"', f"job={json.dumps('etcd-' + cluster)}").replace('cls!=""', f"cls={json.dumps(cluster)}")
    rules = rules.replace("\n  - name: etcd\n", f"\n  - name: {to_yaml('etcdkit-' + cluster)}\n", 1)
    rules = RUNBOOK_LINK.sub(lambda link: link[1] + to_yaml(f"{runbook_url}#{link[2]}"), rules)
    return f"# Alert rules for etcd cluster {cluster}, written by etcdkit: edits are overwritten.\n{rules}"


def rules_path(settings: Settings, cluster: str) -> str:
    """Never rules/etcd.yml: a site's own file may have that name (and an earlier etcdkit's did)."""
    return f"{settings.prometheus_dir}/rules/etcdkit-{cluster}.yml"


@deploy("Prometheus")
def monitor_members(plan: MonitoringPlan) -> None:
    """On a monitoring host: the TLS files, the scrape job, the rules and the members' targets;
    Prometheus reloads when its job or rules changed (targets it watches by itself). With
    etcd_grafana_dir, Grafana's dashboard too (Grafana reads its provisioned folder by itself).
    With etcd_monitor_target_dir, only the targets, in the site's folder as it is: its own job
    scrapes them with its own TLS files."""
    if plan.settings.etcd_monitor_target_dir:
        _targets(plan)
        return
    settings, cluster = plan.settings, plan.cluster
    root, user, sd_dir = settings.prometheus_dir, settings.prometheus_user, plan.target_dir
    tls_dir = monitoring.tls_dir(settings, cluster)
    files.directory(name=f"{tls_dir} (etcd TLS for Prometheus)", path=tls_dir, user="root", group=user, mode="750")
    upload(name=f"Upload {tls_dir}/ca.crt", source=plan.ca_cert, dest=f"{tls_dir}/ca.crt", user="root", group="root", mode="644")
    upload(
        name=f"Upload {tls_dir}/monitor.crt",
        source=plan.certificate.cert_path,
        dest=f"{tls_dir}/monitor.crt",
        user="root",
        group="root",
        mode="644",
    )
    upload(
        name=f"Upload {tls_dir}/monitor.key",
        source=plan.certificate.key_path,
        dest=f"{tls_dir}/monitor.key",
        user=user,
        group=user,
        mode="600",
    )
    scrape = files.put(
        name=f"Prometheus scrape job etcd-{cluster}",
        src=StringIO(
            render("prometheus/etcd-scrape.yml.j2", cluster=cluster, cluster_regex=re.escape(cluster), sd_dir=sd_dir, tls_dir=tls_dir)
        ),
        dest=f"{root}/scrape/etcd-{cluster}.yml",
        mode="644",
        create_remote_dir=True,
    )
    rules = files.put(
        name=f"Prometheus alert rules of etcd cluster {cluster}",
        src=StringIO(alert_rules(settings.etcd_runbook_url, cluster)),
        dest=rules_path(settings, cluster),
        mode="644",
        create_remote_dir=True,
    )
    if settings.etcd_grafana_dir:
        grafana_dir = settings.etcd_grafana_dir
        files.put(
            name="Grafana dashboard for etcd",
            src=str(DASHBOARD),
            dest=f"{grafana_dir}/etcd-dashboard.json",
            mode="644",
            create_remote_dir=True,
        )
    files.directory(name=f"{sd_dir} (Prometheus targets)", path=sd_dir, mode="755")
    _targets(plan)
    services.take_config(
        name="Prometheus: reload to take them",
        service=settings.prometheus_service,
        action="reload",
        _if=lambda: scrape.did_change() or rules.did_change(),
    )


@deploy("Prometheus")
def set_targets(plan: MonitoringPlan) -> None:
    """The cluster's targets on a monitoring host are exactly plan.targets (none: the members leave)."""
    _targets(plan)


def _targets(plan: MonitoringPlan) -> None:
    """No folder made: etcdkit's own is made with the job, a site's exists (the host counts by it),
    and without one there are no targets to delete."""
    prometheus.targets(name=f"Prometheus targets of `{plan.cluster}`", directory=plan.target_dir, cluster=plan.cluster, files=plan.targets)
