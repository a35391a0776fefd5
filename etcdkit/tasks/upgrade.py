"""The upgrade of one member's host (etcdkit/plans/upgrade.py) at its turn. Operations run
lock-step, so every follower's turn (one at a time) is done before the leader's."""

from pyinfra import host
from pyinfra.api import deploy

from etcdkit.operations import upgrade
from etcdkit.plans.upgrade import UpgradePlan


@deploy("etcd upgrade")
def upgrade_member(plan: UpgradePlan) -> None:
    me = plan.members[host.name]
    settings = me.settings
    arguments = {
        "endpoint": me.member.client_url,
        "version": plan.version,
        "packages": settings["etcd_packages"],
        "tarball": settings["etcd_tarball"],
        "tarball_sha256": settings["etcd_tarball_sha256"],
        "timeout": settings["etcd_restart_timeout"],
    }
    if host.name != plan.leader_host:
        upgrade.upgrade(name=f"Upgrade etcd to {plan.version}: the followers, one at a time", **arguments, _serial=True)
    if host.name == plan.leader_host:
        upgrade.upgrade(name=f"Upgrade etcd to {plan.version}: the leader, last", **arguments)
