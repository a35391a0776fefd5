"""Task groups of the recover SOP: the survivor made a one-member cluster of its data, then the
other members joined again, one at a time, through the join SOP's own decisions and tasks."""

from pyinfra import host, logger
from pyinfra.context import ctx_state
from pyinfra.operations import python

from etcdkit.facts.etcd import EtcdCluster, EtcdHost
from etcdkit.model.run import run_context
from etcdkit.operations import etcd
from etcdkit.plans import join
from etcdkit.plans.recover import RecoverPlan
from etcdkit.remote.memberfiles import etcd_binary
from etcdkit.tasks.member import join_member


def survivor_alone(plan: RecoverPlan) -> None:
    """On the survivor: force-new-cluster once (from /run only), then serving alone; etcd enabled
    (a stopped survivor may have been disabled)."""
    survivor = plan.survivor
    etcd.force_new_cluster(
        name=f"Make {survivor.member.name} a one-member cluster of its data (force-new-cluster, once)",
        member=survivor.member,
        etcd_binary=etcd_binary(bool(survivor.settings.etcd_tarball)),
        timeout=survivor.settings.etcd_restart_timeout,
    )
    etcd.running(name=f"Enable etcd on {survivor.member.name}")


def join_again(plan: RecoverPlan) -> None:
    """On a member that joins again: the join SOP for this host, decided at its turn from the member
    list read then, and run one host at a time (a learner, promoted before the next one starts)."""
    python.call(
        name="Join this member again (the join SOP, one member at a time)",
        function=_join_now,
        plan=plan,
        host_name=host.name,
        _serial=True,
    )


def _join_now(plan: RecoverPlan, host_name: str) -> None:
    own = plan.rejoin.hosts[host_name]
    state = host.get_fact(EtcdHost, data_dir=own.settings.etcd_data, ports=(own.member.port, own.member.peer_port))
    survivor = plan.survivor.member
    view = host.inventory.get_host(survivor.host_name).get_fact(EtcdCluster, endpoint=survivor.client_url)
    joined = run_context(ctx_state.get()).joined
    decided = join.decide(plan.rejoin.facts(host_name, state, view, joined))
    for warning in decided.warnings:
        logger.warning(warning)
    for note in decided.notes:
        logger.info(note)
    if decided.joiner is not None:
        join_member(decided, decided.secrets)
    joined.add(host_name)
