"""The upgrade (and the downgrade) of one member's host at its turn (etcdkit/plans/upgrade.py,
etcdkit/plans/downgrade.py). Operations run lock-step, so every follower's turn (one at a time) is
done before the leader's, and a downgrade is enabled before any turn."""

from pyinfra import host
from pyinfra.api import deploy

from etcdkit.operations import upgrade
from etcdkit.plans.downgrade import DowngradePlan
from etcdkit.plans.upgrade import UpgradePlan


def _turns(plan: UpgradePlan | DowngradePlan, verb: str, downgrade_to: str | None) -> None:
    me = plan.members[host.name]
    settings = me.settings
    arguments = {
        "endpoint": me.member.client_url,
        "version": plan.version,
        "packages": settings.etcd_packages,
        "tarball": settings.etcd_tarball,
        "tarball_sha256": settings.etcd_tarball_sha256,
        "timeout": settings.etcd_restart_timeout,
        "downgrade_to": downgrade_to,
    }
    if host.name != plan.leader_host:
        upgrade.upgrade(name=f"{verb} etcd to {plan.version}: the followers, one at a time", **arguments, _serial=True)
    if host.name == plan.leader_host:
        upgrade.upgrade(name=f"{verb} etcd to {plan.version}: the leader, last", **arguments)


@deploy("etcd upgrade")
def upgrade_member(plan: UpgradePlan) -> None:
    _turns(plan, "Upgrade", None)


@deploy("etcd downgrade")
def downgrade_member(plan: DowngradePlan) -> None:
    """The downgrade enabled through the executor's member (validated first), then this member's
    turn. Every member of the run has the enabling operation (a no-op but on the executor): pyinfra
    orders a run's operations by each host's sequence of them, and the leader's turn, the first
    operation of its host otherwise, would come right after the enabling, before the followers'."""
    me = plan.members[host.name]
    if plan.enable:
        upgrade.downgrade_enabled(
            name=f"Validate and enable the cluster's downgrade to {plan.target}",
            endpoint=me.member.client_url,
            target=plan.target,
            through=host.name == plan.executor,
        )
    _turns(plan, "Downgrade", plan.target)
