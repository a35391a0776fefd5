"""The upgrade SOP's decisions: whether the cluster may move to etcd_version now, and which
members take a turn in which order, made once per run before anything changes.

Refused before any change: etcd_version unset or invalid, a member that does not serve, no
leader, a learner or unstarted member pending, or a target that breaks etcd's path (the rules of
etcdkit/model/versions.py): older than a running server (the downgrade SOP's), a minor version
skipped (3.4 -> 3.6 goes through 3.5), a minor step with a member under the release etcd asks for
first (3.5.32 before 3.6, 3.6.11 before 3.7), a key of etcd.conf the new minor version no longer
reads, or, before the step to 3.6, a member whose data fails `etcdutl check v2store`. Each refusal
names the etcd_version to go to first. The cluster version is the lowest major.minor of the
members' server versions of `endpoint status -w json`. Members that run etcd_version already take
no turn, so a second run changes nothing.
"""

from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path

from etcdkit.facts.etcd import EtcdV2Store
from etcdkit.model import paths
from etcdkit.model.cluster import ClusterView
from etcdkit.model.data import V2StoreCheck
from etcdkit.model.inventory import ClusterSpec
from etcdkit.model.refusals import Problem, Refusal
from etcdkit.model.run import run_context
from etcdkit.model.settings import Settings
from etcdkit.model.versions import dropped_keys, needs_v2store_check, step_warnings, upgrade_problem
from etcdkit.plans import checks
from etcdkit.plans.gather import HostState
from etcdkit.plans.turns import members_in_run, order_note, read_run, turn_order
from etcdkit.remote.memberfiles import etcd_unit


@dataclass(frozen=True)
class UpgradeFacts:
    spec: ClusterSpec
    hosts: dict[str, HostState]  # the inventory's members; those left out of the run are not contacted
    view: ClusterView | None
    v2store: dict[str, V2StoreCheck | None] = field(default_factory=dict)  # host name -> EtcdV2Store, of members stepping to 3.6


@dataclass
class UpgradePlan:
    version: str  # etcd_version
    members: dict[str, HostState]  # the members that take a turn, by host name
    turns: list[str]  # followers by etcd_seq (pyinfra keeps no order among them), the leader last
    leader_host: str | None  # upgraded last, in an operation of its own (None: at the target already, or not in the run)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def install_method_problems(hosts, tarball: bool) -> list[str]:
    """A member changes version the way it was installed: its unit runs the packages' /usr/bin/etcd
    or the tarball's /usr/local/bin/etcd, and the upgrade replaces that binary, never the unit."""
    problems = []
    for host in hosts:
        held = host.digest(paths.UNIT)
        if held is not None and held != sha256(etcd_unit(host.member, tarball).encode()).hexdigest():
            installed, asked = ("packages", "a tarball") if tarball else ("a tarball", "packages")
            problems.append(
                f"{host.member.host_name} runs etcd from {installed}, not {asked}: change its version the way it was installed "
                f"({'unset etcd_tarball' if tarball else 'set etcd_tarball and etcd_tarball_sha256 to the release of etcd_version'})"
            )
    return problems


def tarball_problems(settings: Settings, target: str) -> list[str]:
    tarball = settings.etcd_tarball
    if tarball and f"-v{target}-" not in Path(tarball).name:
        return [f"etcd_tarball {tarball} is not the release of etcd_version {target} (etcd-v{target}-linux-ARCH.tar.gz)"]
    return []


def upgrade_plan(state, inventory) -> UpgradePlan:
    return run_context(state).once("upgrade", lambda: decide(gather(state, inventory)))


def gather(state, inventory) -> UpgradeFacts:
    spec, hosts, view = read_run(state, inventory)
    target = hosts[spec.members[0].host_name].settings.etcd_version
    v2store = {}
    if view is not None and target:
        for name, host in hosts.items():
            entry = view.by_peer_url(host.member.peer_url)
            version = view.version_of(entry) if entry else None
            if host.in_run and host.running and needs_v2store_check(target, version):
                v2store[name] = inventory.get_host(name).get_fact(EtcdV2Store, data_dir=host.settings.etcd_data)
    return UpgradeFacts(spec, hosts, view, v2store)


def v2store_problems(facts: UpgradeFacts, target: str) -> list[str]:
    """Before the step to 3.6, `etcdutl check v2store` passed on every member of the run that takes it."""
    problems = []
    for name, result in sorted(facts.v2store.items()):
        if result is None:
            problems.append(
                f"{name} has no etcdutl, which checks the v2 store before the step to etcd {target} (`etcdutl check v2store`): install it"
            )
        elif not result.passed:
            said = result.output.strip().splitlines()[-1] if result.output.strip() else "no output"
            problems.append(
                f"{name}: `etcdutl check v2store --data-dir {facts.hosts[name].settings.etcd_data}` fails ({said}): etcd 3.6 "
                "cannot start on a v2 store that holds more than membership data. Clear it as etcd's 3.6 upgrade guide says "
                "(etcd.io/docs/v3.6/upgrades/upgrade_3_6/, 'V2 Store'), then run the upgrade again"
            )
    return problems


def decide(facts: UpgradeFacts) -> UpgradePlan:
    spec = facts.spec
    view = checks.answering(facts.view, spec.cluster, "upgrade.down", "cannot upgrade")
    settings = facts.hosts[spec.members[0].host_name].settings
    target = settings.etcd_version
    if not target:
        raise Refusal("upgrade.no_version", "cannot upgrade: set the version to run, etcd_version (e.g. --data etcd_version=3.5.16)")
    problems: list[str | Problem] = [*checks.healthy(view), *checks.nothing_pending(view)]
    running = view.versions()
    problem = upgrade_problem(target, running)
    if problem:
        problems.append(problem)
    for host in facts.hosts.values():
        dropped = dropped_keys(host.conf, target, running) if host.in_run and host.ours else {}
        problems += [
            f"{host.member.host_name}: its etcd.conf sets {key}, which etcd {minor} no longer reads: take it out first (create writes etcdkit's etcd.conf)"
            for key, minor in dropped.items()
        ]
    problems += v2store_problems(facts, target) if not problem else []
    problems += tarball_problems(settings, target)
    problems += install_method_problems(facts.hosts.values(), bool(settings.etcd_tarball))
    if problems:
        raise Refusal("upgrade.refused", problems, "cannot upgrade")
    checks.tarballs(facts.hosts.values())
    members, warnings = members_in_run(view, spec, facts.hosts, "upgraded")
    behind = {name: host for name, host in members.items() if running.get(host.member.name) != target}
    if not behind:
        return UpgradePlan(target, {}, [], None, warnings, [f"every member of the run runs etcd {target}: nothing to upgrade"])
    warnings += step_warnings(target, running)
    turns, leader_host = turn_order(view, behind)
    notes = [f"{behind[name].member.name}: etcd {running.get(behind[name].member.name)} -> {target}" for name in turns]
    if facts.v2store:
        notes.append(f"`etcdutl check v2store` passed on {', '.join(sorted(facts.v2store))}")
    notes.append(order_note("upgrade", behind, turns, leader_host))
    return UpgradePlan(target, behind, turns, leader_host, warnings, notes)
