"""Task groups of the CA rotation on one host, one per phase (etcdkit/plans/rotate_ca.py): each
phase finishes on every host before the next one starts, and starts only if it succeeded on every
host of the rotation."""

from collections.abc import Callable

from pyinfra import host, logger
from pyinfra.api import deploy
from pyinfra.operations import files

from etcdkit.model import paths
from etcdkit.model.run import run_context
from etcdkit.operations import restart, services
from etcdkit.operations.files import upload
from etcdkit.plans.rotate_ca import RotationPlan


def all_succeeded(plan: RotationPlan) -> Callable[[], bool]:
    """The gate of the next phase: no host of the rotation failed in this run so far. pyinfra takes
    a host whose operation failed (an error, an exception in a callback, a lost connection) out of
    the run and lists it in its state's failed hosts; a member's failed turn in a rolling restart
    is known before its operation ends on the others."""

    def gate() -> bool:
        failed = sorted(h.name for h in host.state.failed_hosts if h.name in plan.hosts)
        if not failed and not restart.restarts_failed():
            return True
        said = ", ".join(failed) or "a member's restart"
        run_context(host.state).once(
            "rotate-ca-stopped",
            lambda: logger.error(
                f"CA rotation stopped: {said} failed (see above), so no host goes on to the next phase; every host keeps "
                "the CAs it trusts now. Fix the cause and run the same command again: it takes up the rotation where it stopped"
            ),
        )
        return False

    return gate


def _trust(plan: RotationPlan, pem: str, what: str) -> None:
    """The client CA files of this host, then (a member) its own, written at its turn in a rolling restart."""
    uploads = [
        upload(name=f"{what}: {place.dest}", source=pem, dest=place.dest, user=place.user, group=place.group, mode=place.mode)
        for place in plan.trust.get(host.name, [])
    ]
    _restart_vip_manager(plan, uploads, f"vip-manager: restart to {what.lower()}")
    member = plan.members.get(host.name)
    if member is not None:
        restart.restart_if_pending(
            name=f"Restart etcd to {what.lower()} (one member at a time)",
            endpoint=member.member.client_url,
            files={paths.CA: pem},
            timeout=member.settings.etcd_restart_timeout,
            _serial=True,
        )


def _restart_vip_manager(plan: RotationPlan, uploads, name: str) -> None:
    """vip-manager reads its TLS files only when it starts."""
    if host.name in plan.vip_managers and uploads:
        services.take_config(
            name=name,
            service=plan.vip_managers[host.name],
            action="restart",
            _if=lambda: any(u.did_change() for u in uploads),
            _serial=True,
        )


@deploy("CA rotation, phase 1")
def trust_both(plan: RotationPlan) -> None:
    """Clients, then each member, trust the old CAs and the new one."""
    for place in plan.folders.get(host.name, []):
        files.directory(name=f"{place.dest} (etcd TLS files)", path=place.dest, user=place.user, group=place.group, mode=place.mode)
    _trust(plan, plan.bundle, "Trust the old and the new CA")


@deploy("CA rotation, phase 2")
def new_certificates(plan: RotationPlan) -> None:
    """The new CA's certificates and keys on clients and members (read on each new connection)."""
    uploads = [
        upload(
            name=f"Upload {issued.place.dest}",
            source=issued.source,
            dest=issued.place.dest,
            user=issued.place.user,
            group=issued.place.group,
            mode=issued.place.mode,
        )
        for issued in plan.certificates.get(host.name, [])
    ]
    _restart_vip_manager(plan, uploads, "vip-manager: restart to present its new certificate")


@deploy("CA rotation, phase 3")
def trust_new_only(plan: RotationPlan) -> None:
    """Each member, then (clients) every CA file, trust only the new CA."""
    _trust(plan, plan.new_ca, "Trust only the new CA")
