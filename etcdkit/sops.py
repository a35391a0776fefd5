"""The SOPs: what each host of a run does, as pyinfra deploy functions.

Each is run per host by pyinfra, from a deploy file (`pyinfra INVENTORY deploys/create.py`) or
directly (`pyinfra INVENTORY etcdkit.sops.create`). The plan of the run is made once, from facts,
before any host changes; its warnings are printed once; the control node's PKI folder is written
by the first host of the run when the run executes. Each SOP imports its plan and task groups when
it runs: a run loads the modules of its own SOP only (35-40 ms less at the start of each command).
"""

from pyinfra import host, inventory, logger, state
from pyinfra.operations import python

from etcdkit.control.store import ControlWork
from etcdkit.model import params
from etcdkit.model.inventory import GROUP
from etcdkit.model.refusals import Refusal
from etcdkit.model.run import run_context
from etcdkit.operations import control, etcd, gates, membership
from etcdkit.operations.files import control_node_rewrites
from etcdkit.remote.connection import disable_nagle


def _begin(sop: str, make_plan):
    """The run's plan, with its warnings and notes printed once."""
    disable_nagle(inventory.iter_activated_hosts())
    plan = make_plan(state, inventory)

    def say():
        for warning in getattr(plan, "warnings", []) if plan else []:
            logger.warning(warning)
        for note in getattr(plan, "notes", []) if plan else []:
            logger.info(note)

    run_context(state).once(f"{sop}-messages", say)
    work = getattr(plan, "control", None)
    if work is not None:
        run_context(state).once(f"{sop}-rewrites", lambda: control_node_rewrites(state, work.written()))
    return plan


def _control_node(work: ControlWork | None, control_host: str | None) -> None:
    if work is not None and host.name == control_host:
        control.pki(name="Control node: CA, certificates and passwords in the PKI folder", work=work)


def create() -> None:
    """SOP 创建集群: build the cluster of group `etcd`, or converge it (see etcdkit/plans/create.py).
    With etcd_init=existing on a host of the run, the run is the join SOP (Pigsty's `-e etcd_init=existing` form)."""
    from etcdkit.plans.create import create_plan
    from etcdkit.tasks.member import install_member, start_member
    from etcdkit.tasks.prometheus import monitor_members

    if any(params.get(h.data, "etcd_init") == "existing" for h in inventory.iter_activated_hosts()):
        join()
        return
    plan = _begin("create", create_plan)
    monitors = plan.monitoring.hosts if plan.monitoring else []
    me = plan.members.get(host.name)
    if me is None and host.name not in monitors:
        raise Refusal(
            "create.not_a_host",
            f"{host.name} is neither in group `{GROUP}` nor a monitoring host of the inventory",
            "create only runs on the cluster's members and its Prometheus hosts",
            "Limit the run: --limit etcd",
        )
    activated = {h.name for h in inventory.iter_activated_hosts()}
    run_hosts = [name for name in [*(m.host_name for m in plan.spec.members), *monitors] if name in activated]
    _control_node(plan.control, run_hosts[0])
    if me is not None:
        if plan.rebuild:
            etcd.wipe(name="Wipe the etcd instance and its data (etcd_clean)", data_dir=me.settings.etcd_data)
        if plan.rotate_root_on == me.member:
            etcd.root_password(name="Change root's password in etcd first", endpoint=me.member.client_url, new=plan.secrets.root)
        install_member(me, plan.secrets)
        start_member(me, seed=me.member == plan.seed)
    if host.name in monitors:
        monitor_members(plan.monitoring)


def join() -> None:
    """SOP 添加成员: join the host of this run to the live cluster (see etcdkit/plans/join.py)."""
    from etcdkit.plans.join import join_plan
    from etcdkit.tasks.member import join_member

    plan = _begin("join", join_plan)
    if plan.joiner is None or plan.joiner.member.host_name != host.name:
        return
    _control_node(plan.control, host.name)
    join_member(plan, plan.secrets)


def add() -> None:
    """bin/etcd-add's run over the inventory: the next host etcd_join names joins (the join SOP), then
    the members and their clients are reloaded for the cluster it leaves (the reload SOP), once the
    join succeeded (see etcdkit/plans/add.py)."""
    from etcdkit.plans.add import add_plan
    from etcdkit.tasks.member import join_member

    plan = _begin("add", add_plan)
    _control_node(plan.control, plan.control_host)
    joiner = plan.join.joiner
    name = joiner.member.host_name if joiner is not None else None
    if joiner is not None:
        if host.name == name:
            join_member(plan.join, plan.join.secrets)
            python.call(name=f"{joiner.member.name} joined", function=lambda: run_context(state).joined.add(name))
        gates.passed(
            name=f"{joiner.member.name} joined: the members and their clients are reloaded",
            check=lambda: name in run_context(state).joined,
            failure=f"{joiner.member.name} did not join (see its error): the members and their clients were not reloaded",
        )
    _reload_host(plan.reload, joined=name)


def remove() -> None:
    """SOP 移除成员: take one member out of the cluster, then clean its host (see etcdkit/plans/remove.py)."""
    from etcdkit.plans.remove import remove_plan

    removal = _begin("remove", remove_plan)
    if removal is not None:
        _remove_member(removal)


def _remove_member(removal) -> None:
    """This host's part of a removal: `member remove` on the executor, then the departed host cleaned."""
    from etcdkit.tasks.member import forget_certificates, purge_host

    if removal.entry is not None and host.name == removal.executor:
        membership.member_remove(
            name=f"Remove {removal.entry.name or removal.peer_url} from the cluster",
            peer_url=removal.peer_url,
            endpoints=removal.survivors,
            leader_endpoint=removal.leader_endpoint,
            successor=removal.successor,
        )
        forget_certificates(removal.certificates)
    if host.name == removal.host_name and removal.clean:
        # cleaned only once the member list, read in this run, no longer has it
        left = (lambda: membership.removal_confirmed(removal.peer_url)) if removal.entry is not None else None
        purge_host(removal.settings, _if=left)


def rm() -> None:
    """bin/etcd-rm's run over the inventory: the member etcd_remove names leaves (the remove SOP), then
    the members and their clients are reloaded for the cluster it leaves (the reload SOP), once this
    run saw it leave (see etcdkit/plans/rm.py)."""
    from etcdkit.plans.rm import rm_plan

    plan = _begin("rm", rm_plan)
    _control_node(plan.control, plan.control_host)
    removal = plan.removal
    if removal is not None:
        _remove_member(removal)
    if removal is not None and removal.entry is not None:
        gates.passed(
            name=f"{removal.name} left: the members and their clients are reloaded",
            check=lambda: membership.removal_confirmed(removal.peer_url),
            failure=f"{removal.name} was not seen leaving the member list (see the error above): the members and their clients "
            "were not reloaded",
        )
    _reload_host(plan.reload)


def destroy() -> None:
    """SOP 销毁集群: every member stopped, disabled and deleted, after a verified snapshot (see etcdkit/plans/destroy.py)."""
    from etcdkit.plans.destroy import destroy_plan
    from etcdkit.tasks.member import forget_certificates, purge_host
    from etcdkit.tasks.prometheus import set_targets

    plan = _begin("destroy", destroy_plan)
    me = plan.hosts.get(host.name)
    # nothing is deleted on any host unless the snapshot was saved and verified in this run
    saved = (lambda: etcd.snapshot_saved(plan.snapshot_path)) if plan.snapshot_path else None
    if me is not None:
        if host.name == plan.snapshot_host:
            etcd.snapshot(
                name=f"Save a snapshot to {plan.snapshot_path}",
                endpoint=me.member.client_url,
                dest=str(plan.snapshot_path),
                about=plan.snapshot_about,
            )
        purge_host(me.settings, _if=saved)
        if host.name == plan.spec.members[0].host_name:
            forget_certificates(plan.member_certificates, _if=saved)
    if plan.monitoring and host.name in plan.monitoring.hosts:
        set_targets(plan.monitoring, _if=saved)  # with no targets: the members leave Prometheus


def backup() -> None:
    """SOP 备份集群: a snapshot through a healthy follower, saved and verified on the control node with
    its sidecar, then the older snapshots beyond etcd_backup_keep deleted (see etcdkit/plans/backup.py).
    Not idempotent, by nature: every run saves a new snapshot."""
    from etcdkit.plans.backup import backup_plan
    from etcdkit.tasks.snapshots import delete_snapshots

    plan = _begin("backup", backup_plan)
    if host.name != plan.snapshot_host:
        return
    etcd.snapshot(name=f"Save a snapshot to {plan.path}", endpoint=plan.endpoint, dest=str(plan.path), about=plan.about)
    # only a verified snapshot lets older ones go
    delete_snapshots(plan.expired, _if=lambda: etcd.snapshot_saved(plan.path))


def restore() -> None:
    """SOP 恢复集群: a new cluster on every member from a snapshot (see etcdkit/plans/restore.py).
    No member starts unless every member's data was restored in this run."""
    from etcdkit.plans.restore import restore_plan
    from etcdkit.tasks.member import start_member
    from etcdkit.tasks.prometheus import monitor_members
    from etcdkit.tasks.snapshots import restore_member

    plan = _begin("restore", restore_plan)
    monitors = plan.monitoring.hosts if plan.monitoring else []
    _control_node(plan.control, plan.control_host)
    restored = lambda: etcd.restored(list(plan.members))  # noqa: E731
    me = plan.members.get(host.name)
    if me is not None:
        restore_member(me, plan.secrets, plan.snapshot, plan.initial_cluster, plan.token)
        start_member(me, seed=False, _if=restored)  # users, root included, come from the snapshot
        if host.name == plan.check_host:
            etcd.root_logs_in(
                name="Check that root logs in with the control node's password",
                endpoint=me.member.client_url,
                refused=plan.root_refused,
                _if=restored,
            )
    if host.name in monitors:
        monitor_members(plan.monitoring, _if=restored)


def reload() -> None:
    """SOP 重载配置: every reference to the cluster brought in line with the live member list
    (see etcdkit/plans/reload.py)."""
    from etcdkit.plans.reload import reload_plan

    plan = _begin("reload", reload_plan)
    _control_node(plan.control, plan.control_host)
    _reload_host(plan)


def _reload_host(plan, joined: str | None = None) -> None:
    """This host's part of a reload plan: member, admin host, users, clients, monitoring. The host
    that joined in this run (joined) got its member's files from its join already, the same ones."""
    from etcdkit.tasks.clients import client_users, refresh_admin, refresh_clients
    from etcdkit.tasks.member import refresh_member
    from etcdkit.tasks.prometheus import monitor_members

    if host.name in plan.members and host.name != joined:
        refresh_member(plan.members[host.name], plan.parts, plan.secrets)
    if host.name in plan.admin_hosts:
        refresh_admin(plan.admin_files, *plan.admin_etcdctl)
    if host.name == plan.users_host:
        client_users(plan.users, plan.members[host.name].member.client_url)
    if host.name in plan.clients:
        refresh_clients(plan.clients[host.name], plan.secrets)
    if plan.monitoring and host.name in plan.monitoring.hosts:
        monitor_members(plan.monitoring)


def rotate_ca() -> None:
    """CA rotation: the members and their clients moved to the CA of etcd_ca_cert/etcd_ca_key in
    three phases, the cluster serving throughout (see etcdkit/plans/rotate_ca.py)."""
    from etcdkit.plans.rotate_ca import rotation_plan
    from etcdkit.tasks.rotation import all_succeeded, new_certificates, trust_both, trust_new_only

    plan = _begin("rotate-ca", rotation_plan)
    if plan.bundle:
        trust_both(plan)
    # no certificate of the new CA before every host trusts it, no phase after one that failed on any host
    succeeded = all_succeeded(plan)
    if host.name == plan.control_host:
        control.pki(name="Control node: certificates of the new CA", work=plan.control, _if=succeeded)
    new_certificates(plan, _if=succeeded)
    trust_new_only(plan, _if=succeeded)


def maintain() -> None:
    """Maintenance: compact the history, defragment each member (followers first, the leader last),
    disarm a NOSPACE alarm; what etcd_maintain lists (see etcdkit/plans/maintain.py)."""
    from etcdkit.plans.maintain import maintain_plan
    from etcdkit.tasks.maintenance import maintain_member

    plan = _begin("maintain", maintain_plan)
    if host.name in plan.members:
        maintain_member(plan)


def upgrade() -> None:
    """Upgrade: every member to etcd_version, one at a time, followers first, the leader last, each
    gated on health (see etcdkit/plans/upgrade.py)."""
    from etcdkit.plans.upgrade import upgrade_plan
    from etcdkit.tasks.upgrade import upgrade_member

    plan = _begin("upgrade", upgrade_plan)
    if host.name in plan.members:
        upgrade_member(plan)


def downgrade() -> None:
    """Downgrade: a cluster of etcd 3.6 or later one minor version back to etcd_version (`etcdctl
    downgrade validate`, `enable`), then each member, followers first, the leader last, each gated on
    health (see etcdkit/plans/downgrade.py)."""
    from etcdkit.plans.downgrade import downgrade_plan
    from etcdkit.tasks.upgrade import downgrade_member

    plan = _begin("downgrade", downgrade_plan)
    if host.name in plan.members:
        downgrade_member(plan)


def status() -> None:
    """The cluster's members, their health and the leader; read-only (etcd-status reads its report
    from the run's context)."""
    from etcdkit.plans.status import report

    disable_nagle(inventory.iter_activated_hosts())
    run_context(state).status_report = run_context(state).once("status", lambda: report(inventory))


def recover() -> None:
    """SOP 灾难恢复: a cluster that lost its quorum for good rebuilt from the member with the newest
    data, then the other members joined again and the clients reloaded (see etcdkit/plans/recover.py).
    Each phase starts on every host only once the one before it succeeded (gates)."""
    from etcdkit.plans.recover import recover_plan
    from etcdkit.tasks.recovery import join_again, survivor_alone

    plan = _begin("recover", recover_plan)
    survivor = plan.survivor.member
    _control_node(plan.control, plan.reload.control_host)
    if host.name == survivor.host_name:
        survivor_alone(plan)
    gates.passed(
        name=f"{survivor.name} serves alone: the other members may change",
        check=lambda: etcd.forced(survivor.host_name),
        failure=f"{survivor.name} did not become a one-member cluster that serves (see its error): no other member was changed",
    )
    if host.name in plan.wipe:
        etcd.wipe(name="Stop etcd and delete its member data (older than the survivor's)", data_dir=plan.wipe[host.name])
    if host.name in plan.joiners:
        join_again(plan)
    gates.passed(
        name="Every member joined: the members and their clients are reloaded",
        check=lambda: set(plan.joiners) <= run_context(state).joined,
        failure=(
            f"not every member joined again ({', '.join(sorted(set(plan.joiners) - run_context(state).joined))}: see the errors above); "
            f"`{plan.spec.cluster}` serves on {survivor.name} and the members that joined. The clients were not reloaded: "
            "join the others with bin/etcd-add -i INVENTORY IP..., which reloads them"
        ),
    )
    _reload_host(plan.reload)
    if host.name == survivor.host_name:
        python.call(name="Say how the cluster ends", function=lambda: logger.warning(plan.done))
