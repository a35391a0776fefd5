"""Task groups on a member's host that several SOPs run: install and configure it, join it, refresh
its configuration, take etcd off it."""

from pyinfra.api import deploy
from pyinfra.operations import python, systemd
from pyinfra.operations.util import any_changed

from etcdkit.model import paths
from etcdkit.model.settings import Settings
from etcdkit.operations import etcd, membership, restart, scheduled_backups
from etcdkit.operations.files import Item, folder, put_all, upload
from etcdkit.plans.memberfiles import ClusterSecrets, MemberPlan


def _item(path: str, source) -> Item:
    """A member file (paths.OWNERS gives its owner and mode) from the content or a control-node file
    or password, read when the run writes it."""
    user, group, mode = paths.OWNERS[path]
    return Item(path, user, group, mode, source)


def _put(path: str, content: str):
    """A rendered file (etcd.conf, units, scripts root runs): through a private temporary file too,
    never pyinfra's /tmp/pyinfra-<hash>, which another user could fill between upload and copy."""
    user, group, mode = paths.OWNERS[path]
    return upload(name=f"Upload {path}", source=content, dest=path, user=user, group=group, mode=mode)


@deploy("etcd member")
def install_member(plan: MemberPlan, secrets: ClusterSecrets) -> None:
    """Install etcd and write the member's files (see _install)."""
    _install(plan, secrets)


def _install(plan: MemberPlan, secrets: ClusterSecrets, version: str | None = None, replace: bool = False) -> None:
    """Install etcd (version, else etcd_version; with replace, an installed etcd of another version
    is replaced) and write the member's files. A new or changed unit is loaded by the start that
    follows (`systemctl enable` reloads systemd's units): a running member's unit changes only at
    its restart, a stopped member's is enabled as it starts.

    With a restart reason, the running etcd is first marked for the rolling restart that follows
    (`restart.restart_if_pending`), so that an interrupted run still restarts it next time, and its
    etcd.conf and unit are left to that restart: they are written at the member's own turn."""
    settings = plan.settings
    etcd.install(
        name=f"Install etcd {version}" if version else "Install etcd",
        packages=settings.etcd_packages,
        tarball=settings.etcd_tarball,
        tarball_sha256=settings.etcd_tarball_sha256,
        version=version or settings.etcd_version,
        replace=replace,
    )
    if plan.restart_reason:
        etcd.request_restart(name=f"Restart needed: {plan.restart_reason}", reason=plan.restart_reason)
    items = [Item(paths.CONF_DIR, "root", "etcd", "750"), Item(settings.etcd_data, "etcd", "etcd", "700")]
    items += [_item(path, source) for path, source in secrets.member_sources(plan.member).items()]
    written = (paths.ENV,) if plan.restart_reason else (paths.ENV, paths.CONF, paths.UNIT)
    items += [_item(path, plan.files[path]) for path in written]
    put_all(name="etcd's folders and files", items=tuple(items))
    _scheduled_backups(plan)


def _scheduled_backups(plan: MemberPlan) -> None:
    """The member's own scheduled snapshots (etcd_backup_schedule): script, service and a running
    timer; taken off the host when the schedule is unset."""
    settings = plan.settings
    if paths.BACKUP_TIMER not in plan.files:
        scheduled_backups.removed(name="No scheduled backups (etcd_backup_schedule is unset)", metric_dir=settings.etcd_backup_metric_dir)
        return
    folder(name="Scheduled backups folder", path=settings.etcd_backup_dir_remote, user="root", group="root", mode="700")
    _, service, timer = (_put(path, plan.files[path]) for path in (paths.BACKUP_SCRIPT, paths.BACKUP_SERVICE, paths.BACKUP_TIMER))
    systemd.daemon_reload(name="Reload systemd units (scheduled backups)", _if=any_changed(service, timer))
    systemd.service(name=f"Start and enable {paths.BACKUP_TIMER_UNIT}", service=paths.BACKUP_TIMER_UNIT, running=True, enabled=True)
    systemd.service(
        name=f"Restart {paths.BACKUP_TIMER_UNIT} for its new schedule",
        service=paths.BACKUP_TIMER_UNIT,
        restarted=True,
        _if=timer.did_change,
    )


@deploy("etcd member")
def start_member(plan: MemberPlan, seed: bool) -> None:
    """Start a stopped member (a new cluster's members together), take its turn in a rolling
    restart, and on the seed member enable RBAC."""
    started = etcd.running(name="Start etcd")
    etcd.wait_healthy(name="Wait for etcd to be healthy", endpoint=plan.member.client_url, _if=started.did_change)
    _rolling_restart(plan, (paths.CONF, paths.UNIT))
    if seed:
        etcd.rbac(name="Enable RBAC (root user, auth enable)", endpoint=plan.member.client_url)


@deploy("etcd member")
def refresh_member(plan: MemberPlan, parts: list[str], secrets: ClusterSecrets) -> None:
    """The reload of one member: its certificate (renewed within 30 days of its end: etcd reads it
    on each new connection), etcd.conf and/or the etcdctl environment, then its turn in the rolling
    restart if its running etcd must restart (one member at a time, gated on health)."""
    if plan.restart_reason:
        etcd.request_restart(name=f"Restart needed: {plan.restart_reason}", reason=plan.restart_reason)
    sources = secrets.member_sources(plan.member)
    items = [_item(path, sources[path]) for path in (paths.CERT, paths.KEY)] if "conf" in parts else []
    items += [_item(paths.ENV, plan.files[paths.ENV])] if "env" in parts else []
    items += [_item(paths.CONF, plan.files[paths.CONF])] if "conf" in parts and not plan.restart_reason else []
    if items:
        put_all(name="etcd's files", items=tuple(items))
    _rolling_restart(plan, (paths.CONF,) if "conf" in parts else ())


def _rolling_restart(plan: MemberPlan, written_at_restart: tuple[str, ...]) -> None:
    """The member's turn in the rolling restart, one member at a time: a member with a restart
    reason gets these files of the plan right before its restart, and keeps its previous ones if it
    does not come back healthy. A member without one, and without a restart recorded by an earlier
    run, takes no turn: nothing in this run records one for it (a serial step of nothing to do
    still asks each host its unit's state, one host after another)."""
    if not plan.restart_reason and not (plan.state is not None and plan.state.service.restart_due):
        return
    files = {path: plan.files[path] for path in written_at_restart} if plan.restart_reason else {}
    restart.restart_if_pending(
        name="Restart etcd (one member at a time)",
        endpoint=plan.member.client_url,
        files=files,
        timeout=plan.settings.etcd_restart_timeout,
        _serial=True,
    )


@deploy("etcd join")
def join_member(plan, secrets: ClusterSecrets) -> None:
    """The join of plan.joiner (a JoinPlan's): stale data out, files in, announce, start, promote."""
    joiner = plan.joiner
    if plan.wipe:
        etcd.wipe(name="Delete stale etcd data (not a member)", data_dir=joiner.settings.etcd_data)
    _install(joiner, secrets, plan.version, plan.replace)
    membership.member_add(
        name=f"Announce {joiner.member.name} ({'learner' if plan.learner else 'voting member'})",
        member=joiner.member,
        endpoints=plan.endpoints,
        learner=plan.learner,
    )
    membership.join(
        name=f"Start {joiner.member.name}, promote it, check the cluster",
        member=joiner.member,
        endpoints=plan.endpoints,
        timeout=joiner.settings.etcd_join_timeout,
    )


@deploy("etcd removal")
def purge_host(settings: Settings) -> None:
    """etcd off a host that left the cluster: its scheduled backups off (their snapshots stay), etcd
    stopped, disabled, its files deleted, its data and packages as etcd_rm_data and etcd_rm_pkg say."""
    scheduled_backups.removed(name="Take the scheduled backups off", metric_dir=settings.etcd_backup_metric_dir)
    etcd.purge(
        name="Stop etcd and delete its files",
        data_dir=settings.etcd_data,
        remove_data=settings.etcd_rm_data,
        remove_packages=settings.etcd_rm_pkg,
        packages=settings.etcd_packages,
    )


def forget_certificates(paths_: list, _if=None) -> None:
    """Delete members' certificates and keys from the control node's PKI folder, once they are gone."""
    if paths_:
        python.call(
            name="Delete the certificates of the members that left from the PKI folder",
            function=lambda: [path.unlink(missing_ok=True) for path in paths_],
            _if=_if,
        )
