"""What create changes on a member that another tool built (Pigsty's etcd role), beyond etcd.conf
(memberfiles.setting_changes): the unit etcd runs from, and the package its etcd comes from. create
keeps a member's etcd as it is (it installs etcd only on a host without one), so the preview says
what a site should know before Enter. Pure functions over the hosts' EtcdHost facts.
"""

from etcdkit.model import paths
from etcdkit.plans.memberfiles import changes_file

# What the install operation installs when etcd_packages is unset, by package manager.
DEFAULT_PACKAGES = {"apt-get": ("etcd-server", "etcd-client"), "dnf": ("etcd",), "yum": ("etcd",)}


def unit_notes(plans) -> list[str]:
    """Members whose unit file create replaces: one that another tool wrote in /etc/systemd/system
    is overwritten; one in another folder (Pigsty's older releases: the distribution's unit folder)
    stays on disk, unused, as systemd reads etcdkit's in /etc/systemd/system first."""
    by_note: dict[str, list[str]] = {}
    for plan in plans:
        used = plan.state.unit if plan.state else None
        if not used or paths.UNIT not in plan.files or not changes_file(plan, plan.files, paths.UNIT):
            continue
        if used != paths.UNIT:
            note = f"etcd runs from the unit {used}; etcdkit's {paths.UNIT} takes its place ({used} stays on disk, unused)"
        elif not plan.state.unit_etcdkit:
            note = f"the unit {paths.UNIT} that another tool wrote is replaced by etcdkit's"
        else:
            continue
        by_note.setdefault(note, []).append(plan.member.host_name)
    return [f"{', '.join(names)}: {note}" for note, names in by_note.items()]


def package_notes(hosts) -> list[str]:
    """Members whose etcd does not come from the packages etcdkit installs (etcd_packages, else the
    distribution's etcd-server and etcd-client): Pigsty's own package `etcd`, or binaries copied by
    hand. create keeps that etcd and installs no other beside it (nor an older one over it); join
    and upgrade install etcd_packages."""
    notes = []
    for host in hosts:
        state, settings = host.state, host.settings
        if state is None or not state.version or settings.etcd_tarball:
            continue
        wanted = tuple(settings.etcd_packages or DEFAULT_PACKAGES.get(state.package_manager, ()))
        package, version = state.package, state.version
        if package in wanted:
            continue
        if package:
            notes.append(
                f"{host.member.host_name}: etcd {version} comes from the package `{package}`, not from etcd_packages "
                f"({', '.join(wanted)}): create keeps it and installs no other etcd; set etcd_packages: [{package}] "
                "so that join and upgrade install the same package"
            )
        else:
            notes.append(
                f"{host.member.host_name}: etcd {version} ({state.binary}) belongs to no package: create keeps it and "
                f"installs no other etcd; join and upgrade install etcd_packages ({', '.join(wanted)}), or etcd_tarball"
            )
    return notes
