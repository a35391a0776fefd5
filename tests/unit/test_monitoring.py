"""The monitoring hosts a run counts, and what the Prometheus task writes on them: etcdkit's own
job, or only the members' targets in the folder a site's own job reads (etcd_monitor_target_dir)."""

from types import SimpleNamespace

from etcdkit.facts.prometheus import PrometheusSetup
from pyinfra.facts.files import Directory

from etcdkit.model.prometheus import PrometheusState
from etcdkit.plans.memberfiles import ClusterSecrets
from etcdkit.plans.monitoring import Target, monitoring_plan, read_monitors
from etcdkit.tasks import prometheus as task
from tests.unit.fake_host import FakeHost
from tests.unit.plans_data import make_settings, monitors

SITE = "/infra/targets/etcd"  # Pigsty's folder of etcd targets, read by its own `etcd` job
MEMBERS = [Target("etcd-1", "10.10.10.10", 2379), Target("etcd-2", "10.10.10.11", 2379)]
OLD_PROMETHEUS = PrometheusState(version=(2, 42), job_inline=False, old_rules=True)  # both of its warnings


class FakeInventory:
    """What read_monitors reads of pyinfra's inventory: the run's hosts and the monitoring group."""

    def __init__(self, run, groups):
        self.run, self.groups = run, groups

    def iter_activated_hosts(self):
        return iter(self.run)

    def get_group(self, name, default=None):
        return self.groups.get(name, default)


def monitoring_host(name: str, folders: dict[str, bool], **data) -> FakeHost:
    host = FakeHost(name=name)
    host.data = data
    for folder, exists in folders.items():
        host.set(Directory, {"mode": 755} if exists else None, path=folder)
    host.set(PrometheusSetup, OLD_PROMETHEUS, directory="/etc/prometheus", cluster="etcd")
    return host


def read(*hosts: FakeHost):
    member = FakeHost(name="10.10.10.10")
    return read_monitors(FakeInventory([member, *hosts], {"infra": list(hosts)}))


# Which hosts count


def test_with_a_site_folder_the_hosts_that_have_it_count_and_their_prometheus_is_not_asked():
    has = monitoring_host("10.10.10.20", {SITE: True}, etcd_monitor_target_dir=SITE)
    lacks = monitoring_host("10.10.10.21", {SITE: False, "/etc/prometheus": True}, etcd_monitor_target_dir=SITE)
    watching = read(has, lacks)
    assert (watching.hosts, watching.site_targets, watching.setups) == (("10.10.10.20",), SITE, {})
    assert has.asked_for(Directory) == [{"path": SITE}] and has.asked_for(PrometheusSetup) == []
    # the site's Prometheus gets no job nor rules: none of the warnings of etcdkit's job
    assert watching.warnings == [f"10.10.10.21 is in the monitoring group but has no folder {SITE}: not monitoring from it"]


def test_without_a_site_folder_the_hosts_with_prometheus_count_and_are_asked_what_it_is():
    has = monitoring_host("10.10.10.20", {"/etc/prometheus": True})
    lacks = monitoring_host("10.10.10.21", {"/etc/prometheus": False})
    watching = read(has, lacks)
    assert (watching.hosts, watching.site_targets) == (("10.10.10.20",), None)
    assert watching.setups == {"10.10.10.20": OLD_PROMETHEUS}
    assert watching.warnings[0] == "10.10.10.21 is in the monitoring group but has no folder /etc/prometheus: not monitoring from it"
    assert len(watching.warnings) == 3
    assert watching.warnings[1].startswith("10.10.10.20: Prometheus 2.42 cannot include scrape jobs")
    assert watching.warnings[2].startswith("10.10.10.20: /etc/prometheus/rules/etcd.yml is the rules file of an earlier etcdkit")


# The plan


def test_the_site_targets_plan_has_the_targets_in_its_folder_and_no_certificate(tmp_path):
    settings = make_settings(tmp_path)
    plan = monitoring_plan(
        monitors(tmp_path, "10.10.10.20", etcd_monitor_target_dir=SITE), "etcd", MEMBERS, ClusterSecrets.of(settings, "etcd")
    )
    assert (plan.hosts, plan.target_dir, plan.ca_cert, plan.certificate) == (["10.10.10.20"], SITE, None, None)
    assert sorted(plan.targets) == ["etcd-1.yml", "etcd-2.yml"]  # Pigsty's names: <cluster>-<seq>.yml
    assert plan.targets["etcd-2.yml"].splitlines()[1:] == [
        "- labels: {cls: etcd, ins: etcd-2, ip: 10.10.10.11}",
        "  targets: ['10.10.10.11:2379']",
    ]
    own = monitoring_plan(monitors(tmp_path, "10.10.10.20"), "etcd", MEMBERS, ClusterSecrets.of(settings, "etcd"))
    assert (own.target_dir, own.certificate.name) == ("/etc/prometheus/targets/etcd", "monitor")
    assert own.targets == plan.targets


# The task


def recorded(monkeypatch) -> list[tuple[str, dict]]:
    """The operations the Prometheus task calls, in order, with their arguments (none of them runs)."""
    calls = []

    def operation(label):
        def call(**kwargs):
            calls.append((label, kwargs))
            return SimpleNamespace(did_change=lambda: False)

        return call

    monkeypatch.setattr(task, "files", SimpleNamespace(directory=operation("files.directory"), put=operation("files.put")))
    monkeypatch.setattr(task, "upload", operation("upload"))
    monkeypatch.setattr(task, "prometheus", SimpleNamespace(targets=operation("prometheus.targets")))
    monkeypatch.setattr(task, "services", SimpleNamespace(take_config=operation("services.take_config")))
    return calls


def test_for_a_site_folder_the_task_writes_only_the_targets_there(tmp_path, monkeypatch):
    calls = recorded(monkeypatch)
    settings = make_settings(tmp_path, etcd_grafana_dir="/var/lib/grafana/dashboards")
    watching = monitors(tmp_path, "10.10.10.20", etcd_monitor_target_dir=SITE, etcd_grafana_dir="/var/lib/grafana/dashboards")
    plan = monitoring_plan(watching, "etcd", MEMBERS, ClusterSecrets.of(settings, "etcd"))
    task.monitor_members._inner(plan)
    assert calls == [
        ("prometheus.targets", {"name": "Prometheus targets of `etcd`", "directory": SITE, "cluster": "etcd", "files": plan.targets})
    ]


def test_for_etcdkits_own_job_the_task_writes_tls_job_rules_and_targets_and_reloads(tmp_path, monkeypatch):
    calls = recorded(monkeypatch)
    plan = monitoring_plan(monitors(tmp_path, "10.10.10.20"), "etcd", MEMBERS, ClusterSecrets.of(make_settings(tmp_path), "etcd"))
    task.monitor_members._inner(plan)
    assert [
        (label, kwargs.get("path") or kwargs.get("dest") or kwargs.get("directory") or kwargs.get("service")) for label, kwargs in calls
    ] == [
        ("files.directory", "/etc/prometheus/etcd-etcd"),
        ("upload", "/etc/prometheus/etcd-etcd/ca.crt"),
        ("upload", "/etc/prometheus/etcd-etcd/monitor.crt"),
        ("upload", "/etc/prometheus/etcd-etcd/monitor.key"),
        ("files.put", "/etc/prometheus/scrape/etcd-etcd.yml"),
        ("files.put", "/etc/prometheus/rules/etcdkit-etcd.yml"),
        ("files.directory", "/etc/prometheus/targets/etcd"),
        ("prometheus.targets", "/etc/prometheus/targets/etcd"),
        ("services.take_config", "prometheus"),
    ]


def test_when_members_leave_only_their_targets_go(tmp_path, monkeypatch):
    calls = recorded(monkeypatch)
    plan = monitoring_plan(monitors(tmp_path, "10.10.10.20", etcd_monitor_target_dir=SITE), "etcd", [], None)
    task.set_targets._inner(plan)
    assert calls == [("prometheus.targets", {"name": "Prometheus targets of `etcd`", "directory": SITE, "cluster": "etcd", "files": {}})]
