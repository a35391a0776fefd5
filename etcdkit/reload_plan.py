"""The reload SOP's decisions: every member's etcd.conf and etcdctl environment brought in line with
the live member list, made once per run before anything changes.

The live cluster is the truth for who the members are: an inventory that says otherwise is
reported (a host that is not a member is skipped, a member missing from the inventory named), never
silently used. A runtime setting that changed restarts members one at a time, gated on health;
the bootstrap-only lines (initial-cluster) change without a restart.
"""

from dataclasses import dataclass

from pyinfra import logger
from pyinfra.api.exceptions import DeployError

from etcdkit import checks
from etcdkit.cluster import ClusterView
from etcdkit.discovery import live_view, once_per_run, survey
from etcdkit.inventory import GROUP, ClusterSpec, host_address
from etcdkit.memberfiles import HostPlan, Membership, cluster_secrets, cluster_token, member_files, restart_reason


@dataclass
class ReloadPlan:
    spec: ClusterSpec
    view: ClusterView
    parts: list[str]
    hosts: dict[str, HostPlan]  # the inventory's hosts that are started members, by host name


def reload_plan(state, inventory) -> ReloadPlan:
    return once_per_run(state, "reload", lambda: _make_plan(state, inventory))


def _make_plan(state, inventory) -> ReloadPlan:
    # hosts outside the run (--limit) are neither contacted nor reloaded
    outside = [host_address(h) for h in inventory.get_group(GROUP, default=[]) if state.limit_hosts is not None and h not in state.limit_hosts]
    spec, surveyed = survey(inventory, skip=outside)
    view = live_view(inventory, [h for h in surveyed.values() if h.ownership()[0] == "ours"])
    problems = checks.answers(view, spec.cluster)
    if problems:
        raise DeployError(f"cannot reload: {problems[0]}; nothing was changed")
    first = surveyed[spec.members[0].host_name].settings
    parts = first["etcd_reload"]
    hosts = {}
    for name, surveyed_host in surveyed.items():
        entry = view.by_peer_url(surveyed_host.member.peer_url)
        if surveyed_host.member.address in outside:
            continue
        if not surveyed_host.reachable:
            logger.warning(f"{name} cannot be reached over SSH: skipped, reload it once it is back")
            continue
        if entry is None or not entry.started or surveyed_host.ownership()[0] != "ours":
            logger.warning(
                f"{name} is in the inventory but not a started member of `{spec.cluster}`: skipped "
                f"(join it with bin/etcd-add {surveyed_host.member.address}, or drop it from the inventory)"
            )
            continue
        hosts[name] = HostPlan(surveyed_host.member, surveyed_host.settings, surveyed_host.state)
    for member in view.members:
        if spec.by_peer_url(member.peer_urls[0] if member.peer_urls else "") is None:
            logger.warning(f"member {member.describe()} is not in the inventory: its host is not reloaded")

    secrets = cluster_secrets(first, spec.cluster)
    membership = Membership.of_live_cluster(view, spec)
    token = cluster_token(hosts.values()) or spec.cluster
    for plan in hosts.values():
        plan.files = member_files(plan, secrets, membership, token, plan.conf_value("initial-cluster-state") or "existing")
        if "conf" in parts and plan.running:
            plan.restart_reason = restart_reason(plan, plan.files, conf_only=True)
        if "restart" in parts:
            plan.restart_reason = "a rolling restart was asked for (etcd_reload=restart)"
    checks.restart_allowed(hosts.values(), view)
    return ReloadPlan(spec, view, parts, hosts)
