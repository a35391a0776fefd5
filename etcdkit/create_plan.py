"""The create SOP's decisions, made once per run from the inventory and every member's state,
before anything changes on any host.

A host is *bare* (nothing of etcd running, no data), *ours* (its etcd.conf is this member's, of this
cluster and data dir) or *foreign* (a live instance or data that this inventory did not create).
- No member has data or a running etcd: bootstrap a new cluster, all members together.
- Members of this cluster exist: converge. Files are brought up to date; a change a running etcd
  must be restarted for restarts members one at a time, each gated on cluster health; stopped
  members are started. A bare host in the inventory is a new member for the join SOP.
- Anything foreign, a host whose data the live cluster no longer knows, or a cluster that does not
  answer: stop and say why and what to do, unless etcd_clean (with etcd_safeguard off) asks to wipe
  every instance and bootstrap anew.
"""

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from pyinfra import logger
from pyinfra.api.exceptions import DeployError

from etcdkit import checks
from etcdkit.cluster import ClusterView
from etcdkit.discovery import live_view, once_per_run, survey
from etcdkit.inventory import ClusterSpec, Member
from etcdkit.memberfiles import HostPlan, Membership, cluster_secrets, cluster_token, member_files, restart_reason
from etcdkit.monitoring import MonitoringPlan, Target, monitoring_plan


@dataclass
class CreatePlan:
    spec: ClusterSpec
    bootstrap: bool
    rebuild: bool
    seed: Member
    hosts: dict[str, HostPlan]
    view: ClusterView | None
    monitoring: MonitoringPlan | None


def create_plan(state, inventory) -> CreatePlan:
    """The plan of this run, made on first use and shared by every host's deploy."""
    return once_per_run(state, "create", lambda: _make_plan(inventory))


def _make_plan(inventory) -> CreatePlan:
    spec, surveyed = survey(inventory)
    for warning in spec.warnings:
        logger.warning(f"inventory: {warning}")
    hosts = {name: HostPlan(h.member, h.settings, h.state) for name, h in surveyed.items()}
    first = hosts[spec.members[0].host_name].settings
    _check_tarballs(hosts.values())

    owners = {name: plan.ownership() for name, plan in hosts.items()}
    unreachable = [name for name, (kind, _) in owners.items() if kind == "unreachable"]
    if unreachable:
        raise DeployError(
            f"{', '.join(unreachable)} cannot be reached over SSH: nothing was changed. Bring "
            f"{'it' if len(unreachable) == 1 else 'them'} back, or remove a dead member with the remove SOP (bin/etcd-rm IP)"
        )
    foreign = {name: reason for name, (kind, reason) in owners.items() if kind == "foreign"}
    ours = [name for name, (kind, _) in owners.items() if kind == "ours"]
    has_instances = bool(foreign) or any(hosts[name].state["data"] or hosts[name].running for name in ours)

    if first["etcd_clean"] and has_instances:
        if first["etcd_safeguard"]:
            raise DeployError(
                "etcd_clean asks to wipe live etcd instances, but etcd_safeguard is on: nothing was changed. "
                "Set etcd_safeguard=false to rebuild the cluster (its data is lost)"
            )
        logger.warning("etcd_clean: wiping every etcd instance and its data, then bootstrapping a new cluster")
        return _finish(inventory, spec, hosts, first, bootstrap=True, rebuild=True, view=None)
    if foreign:
        raise DeployError(
            "these hosts hold etcd instances or data that do not belong to this inventory's cluster "
            f"`{spec.cluster}`; nothing was changed:\n"
            + "\n".join(f"  - {name}: {reason}" for name, reason in foreign.items())
            + "\nRemove them by hand, or set etcd_clean=true (with etcd_safeguard=false) to wipe them."
        )
    if not has_instances:
        return _finish(inventory, spec, hosts, first, bootstrap=True, rebuild=False, view=None)

    view = live_view(inventory, [hosts[name] for name in ours])
    problems = []
    if view is None:
        bare = [name for name in hosts if name not in ours]
        if bare:
            raise DeployError(
                f"members of cluster `{spec.cluster}` have data but no member answers, and "
                f"{', '.join(bare)} {'is' if len(bare) == 1 else 'are'} not members yet: nothing was changed. "
                "Bring the cluster back first (`systemctl start etcd` on its members), then add new hosts "
                "with the join SOP"
            )
        logger.warning(f"no member of cluster `{spec.cluster}` answers: starting its stopped members")
        return _finish(inventory, spec, hosts, first, bootstrap=False, rebuild=False, view=None)
    for name, plan in hosts.items():
        if view.by_peer_url(plan.member.peer_url) is None:
            if name in ours and plan.state["data"]:
                problems.append(
                    f"{name} has data of cluster `{spec.cluster}` but the live cluster has no member with peer URL "
                    f"{plan.member.peer_url} (it was removed): add it again with the join SOP, which wipes its stale data"
                )
            else:
                problems.append(
                    f"{name} is not a member of the running cluster `{spec.cluster}`: add it with the join SOP "
                    f"(bin/etcd-add {plan.member.address}, or deploys/join.py --limit {plan.member.address})"
                )
    if problems:
        raise DeployError("cannot converge the running cluster; nothing was changed:\n" + "\n".join(f"  - {p}" for p in problems))
    for member in view.members:
        if not any(url == plan.member.peer_url for plan in hosts.values() for url in member.peer_urls):
            logger.warning(f"member {member.describe()} is not in the inventory: remove it with the remove SOP, or add it to the inventory")
    return _finish(inventory, spec, hosts, first, bootstrap=False, rebuild=False, view=view)


def _check_tarballs(plans) -> None:
    """A release tarball must exist on the control node and match its checksum before anything runs."""
    for tarball, expected in {(p.settings["etcd_tarball"], p.settings["etcd_tarball_sha256"]) for p in plans}:
        if not tarball:
            continue
        path = Path(tarball).expanduser()
        if not path.is_file():
            raise DeployError(f"etcd_tarball {path} does not exist on the control node: nothing was changed")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != expected.lower():
            raise DeployError(f"etcd_tarball {path} has SHA-256 {digest}, not {expected}: refusing it, nothing was changed")


def _finish(inventory, spec, hosts, first, bootstrap: bool, rebuild: bool, view: ClusterView | None) -> CreatePlan:
    secrets_ = cluster_secrets(first, spec.cluster)
    # A token of its own per bootstrap: a rebuilt cluster gets a new cluster ID.
    token = f"{spec.cluster}-{secrets.token_hex(4)}" if bootstrap else (cluster_token(hosts.values()) or spec.cluster)
    membership = Membership.of_inventory(spec) if view is None else Membership.of_live_cluster(view, spec)
    for plan in hosts.values():
        current_state = None if rebuild else plan.conf_value("initial-cluster-state")
        initial_state = "new" if bootstrap else (current_state or "existing")
        plan.files = member_files(plan, secrets_, membership, token, initial_state)
        if plan.running and not rebuild:
            plan.restart_reason = restart_reason(plan, plan.files)
    if view is not None:
        checks.restart_allowed(hosts.values(), view)
    seed = min((plan.member for plan in hosts.values()), key=lambda member: member.seq)
    targets = [Target(m.name, m.address, m.port) for m in spec.members]
    return CreatePlan(spec, bootstrap, rebuild, seed, hosts, view, monitoring_plan(inventory, spec.cluster, targets, secrets_))
