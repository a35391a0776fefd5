"""The maintenance of one member's host (etcdkit/plans/maintain.py): the compaction and the alarm
through the executor's member, and this member's defragmentation at its turn. Operations run
lock-step, so the compaction is done on every host before any defragmentation, the followers'
turns (one at a time) before the leader's, and the alarm is disarmed last.

pyinfra orders the operations of different hosts by each host's own sequence first and by line
only among those ready at the same time: every host therefore has the compaction in its sequence
(a no-op but on the executor), or the leader's turn, first on its host, would come before the
followers', second on theirs."""

from pyinfra import host
from pyinfra.api import deploy

from etcdkit.operations import maintenance, restart
from etcdkit.plans.maintain import MaintainPlan


@deploy("etcd maintenance")
def maintain_member(plan: MaintainPlan) -> None:
    me = plan.members[host.name]
    endpoint, timeout = me.member.client_url, me.settings.etcd_restart_timeout
    if "compact" in plan.parts:
        maintenance.compact(
            name=f"Compact the history, keeping {plan.keep} revisions",
            endpoint=endpoint,
            keep=plan.keep,
            timeout=timeout,
            executor=plan.executor,
        )
    if "defrag" in plan.parts and host.name != plan.leader_host:
        maintenance.defragment(name="Defragment the followers, one at a time", endpoint=endpoint, timeout=timeout, _serial=True)
    if "defrag" in plan.parts and host.name == plan.leader_host:
        maintenance.defragment(name="Defragment the leader, last", endpoint=endpoint, timeout=timeout)
    if "disarm" in plan.parts and host.name == plan.executor:
        # not after a failed defragmentation: the space may not be free
        maintenance.disarm(name="Disarm the NOSPACE alarm", endpoint=endpoint, _if=lambda: not restart.restarts_failed())
