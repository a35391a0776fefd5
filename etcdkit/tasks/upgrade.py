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
        "packages": settings["etcd_packages"],
        "tarball": settings["etcd_tarball"],
        "tarball_sha256": settings["etcd_tarball_sha256"],
        "timeout": settings["etcd_restart_timeout"],
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
    """The downgrade enabled through the executor's member (validated first), then this member's turn."""
    if plan.enable and host.name == plan.executor:
        me = plan.members[host.name]
        upgrade.downgrade_enabled(
            name=f"Validate and enable the cluster's downgrade to {plan.target}", endpoint=me.member.client_url, target=plan.target
        )
    if host.name in plan.members:
        _turns(plan, "Downgrade", plan.target)
