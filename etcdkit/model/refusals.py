"""Why a SOP stops before it changes anything: a Refusal, with a stable code.

A plan's decide function returns a plan or raises a Refusal: what it found (one line, or one line
per problem, naming the hosts and the values), why that stops the run, and the one command or step
that resolves it. `render` turns it into the text the operator reads, ending with its code, which
docs/troubleshooting.md names next to each message. A run with several problems raises one Refusal
that lists them all, each with its own code. Every code is in REFUSALS, with a one-line summary.

A Refusal is a pyinfra DeployError, so pyinfra's CLI prints it as it prints any refused deploy.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from pyinfra.api.exceptions import DeployError

DOC = "docs/troubleshooting.md"

REFUSALS: dict[str, str] = {
    # the inventory and the control node
    "inventory.invalid": "the inventory, a YAML config or a --data value is wrong (one line per host and key)",
    "control.pki": "the control node's CA cannot be loaded",
    "control.no_ca": "members run, but the control node holds no CA for them",
    "control.other_ca": "the control node's CA is not the one the members hold",
    "control.root_changing": "the root password is being changed: create finishes that first",
    "control.no_root": "members run, but the control node holds no root password for them",
    "control.other_root": "the control node's root password is not the one the members hold",
    "tarball.missing": "etcd_tarball does not exist on the control node",
    "tarball.checksum": "etcd_tarball does not have the SHA-256 of etcd_tarball_sha256",
    # the live cluster, as every SOP that changes it checks it
    "cluster.urls": "a member advertises a URL of another form than etcdkit's",
    "cluster.unhealthy": "a member is not healthy, or the cluster has no leader",
    "cluster.pending": "a learner or an unstarted member waits: an unfinished join",
    "cluster.quorum": "after the change, the healthy voters would not be a quorum",
    "cluster.not_in_run": "no member of the cluster is in the run",
    "restart.unhealthy": "members need a restart, but the cluster is not healthy",
    "restart.quota": "a member's new quota is below the size of its database",
    # create
    "create.not_a_host": "a host of the run is neither a member nor a monitoring host",
    "create.unreachable": "a host of the inventory cannot be reached over SSH",
    "create.foreign": "a host holds an etcd, a process on etcd's ports or data that is not this cluster's",
    "create.down_with_new_hosts": "the cluster is down and the inventory has new hosts",
    "create.not_converged": "a host is not a member of the running cluster",
    "create.clean": "etcd_clean cannot rebuild the cluster",
    # join
    "join.down": "no member of the cluster answers, so nothing can join it",
    "join.unreachable": "the new host cannot be reached over SSH",
    "join.several": "several hosts of the run are not members: members join one at a time",
    "join.refused": "the cluster or the new host does not allow the join",
    "join.foreign": "the new host holds an etcd or data that is not this cluster's",
    "join.version": "etcd_version or etcd_tarball is not a release the new member can join on",
    # remove
    "remove.safeguard": "etcd_safeguard is on",
    "remove.down": "no member of the cluster answers, so nothing can be removed",
    "remove.refused": "the cluster does not allow the removal: one line per problem",
    "remove.last": "the member is the last one: destroy the cluster instead",
    "remove.no_survivor": "the departing host cannot remove its own entry and no surviving member is in the run",
    "remove.unknown": "etcd_remove names no host of the inventory",
    "remove.unnamed": "the run names no member to remove",
    "remove.several": "several hosts would leave: members leave one at a time",
    "remove.foreign": "the departing host holds something that is not provably this member's",
    "remove.no_group": "without a group `etcd` the inventory must be the departing host alone",
    "remove.not_a_member": "the host runs an etcd, but not as a member etcdkit configured",
    "remove.data_dir": "the data dir of the host's own etcd.conf is not one etcdkit deletes",
    "remove.rm_run": "the rm run (bin/etcd-rm) was started without group `etcd` or etcd_remove",
    # destroy
    "destroy.safeguard": "etcd_safeguard is on",
    "destroy.left_out": "the run leaves out members of the cluster",
    "destroy.foreign": "a host holds what is not this cluster's, or cannot be reached",
    "destroy.no_snapshot": "no member answers, so no snapshot can be saved first",
    # reload
    "reload.down": "no member of the cluster answers",
    "reload.patroni_config": "Patroni's config leads root through a folder another user controls",
    "reload.patroni_relogin": "a running primary's etcd password changes, and only its restart makes Patroni log in again",
    "reload.no_member": "the run holds no member to manage the etcd users through",
    # rotate_ca
    "rotate_ca.down": "no member of the cluster answers",
    "rotate_ca.refused": "the cluster, a member or a client host does not allow the rotation: one line per problem",
    "rotate_ca.member_left_out": "a member is not a running member of the inventory in this run",
    "rotate_ca.no_new_ca": "the control node has no CA to move to",
    "rotate_ca.damaged_ca": "a member's CA file holds no CA certificate",
    "rotate_ca.client_left_out": "a client host is out of the run, or etcd_rotate_skip names no client host",
    # backup
    "backup.down": "no member of the cluster answers",
    "backup.no_leader": "the cluster has no leader: a snapshot could miss committed writes",
    "backup.no_voter": "no healthy voting member is in the run",
    "backup.exists": "a snapshot of this name exists already",
    # restore
    "restore.unnamed": "no snapshot is named",
    "restore.missing": "the snapshot does not exist on the control node",
    "restore.no_sidecar": "the snapshot has no readable sidecar to check it against",
    "restore.damaged": "the snapshot is not the file its sidecar describes",
    "restore.refused": "the snapshot, a host or the control node does not allow the restore: one line per problem",
    "restore.other_cluster": "the snapshot is another cluster's (or its sidecar names none)",
    "restore.left_out": "the run leaves out a member",
    "restore.host": "a host runs etcd, holds member data or another member's etcd.conf, or cannot be reached",
    "restore.no_root": "the control node has no root password for the cluster",
    # maintain
    "maintain.down": "no member of the cluster answers",
    "maintain.refused": "the cluster does not answer as a whole, or an alarm maintenance does not mend is active",
    # upgrade and downgrade
    "upgrade.down": "no member of the cluster answers",
    "upgrade.no_version": "etcd_version is not set",
    "upgrade.refused": "the version rules, the cluster or a member do not allow the upgrade",
    "downgrade.down": "no member of the cluster answers",
    "downgrade.no_version": "etcd_version is not set",
    "downgrade.rules": "etcd's rules do not allow this downgrade",
    "downgrade.refused": "the cluster or a member does not allow the downgrade",
    # recover
    "recover.refused": "recover cannot start: one line per problem",
    "recover.unaccounted": "a member can neither be reached nor is named lost",
    "recover.lost_answers": "a member named lost answers over SSH or on its etcd port",
    "recover.left_out": "the run leaves out a member",
    "recover.partition": "a member has a leader: the cluster has quorum somewhere",
    "recover.safeguard": "etcd_safeguard is on",
    "recover.foreign": "a host holds what is not this cluster's",
    "recover.unreadable": "a member's data could not be read",
    "recover.tokens": "the members with data were bootstrapped as different clusters",
    "recover.no_data": "no member holds data recover can start from",
}


@dataclass(frozen=True)
class Problem:
    """One of several problems a refusal found, with its own code: one line for the operator."""

    code: str
    text: str

    def __post_init__(self) -> None:
        _known(self.code)

    def __str__(self) -> str:
        return self.text


class Refusal(DeployError):
    """A SOP stops before any change. `code` is stable (REFUSALS); `found` is what was seen: one
    line, or one line per problem (text or Problem); `why` says why that stops the run (for several
    problems: what cannot be done); `fix` is the one command or step that resolves it."""

    def __init__(self, code: str, found: str | Sequence[str | Problem], why: str = "", fix: str = "") -> None:
        _known(code)
        self.code = code
        self.found: str | tuple[str | Problem, ...] = found if isinstance(found, str) else tuple(found)
        self.why = why
        self.fix = fix
        super().__init__(render(self))

    @property
    def codes(self) -> set[str]:
        """Its code and those of the problems it lists."""
        problems = () if isinstance(self.found, str) else self.found
        return {self.code} | {p.code for p in problems if isinstance(p, Problem)}

    def __reduce__(self):  # an exception pickles by its arguments (pyinfra may copy one between greenlets)
        return (Refusal, (self.code, self.found, self.why, self.fix))


def render(refusal: Refusal) -> str:
    """The text the operator reads. One line: `found; why; nothing was changed. fix`; several:
    `why; nothing was changed:` then one `  - problem` line each, then the fix. Its code last."""
    if isinstance(refusal.found, str):
        text = "; ".join(part for part in (refusal.found, refusal.why) if part) + "; nothing was changed"
        text += f". {refusal.fix}" if refusal.fix else ""
    else:
        text = f"{refusal.why}; nothing was changed:\n" + "\n".join(f"  - {problem}" for problem in refusal.found)
        text += f"\n{refusal.fix}" if refusal.fix else ""
    codes = sorted(refusal.codes - {refusal.code}) if len(refusal.codes) > 1 else [refusal.code]
    return f"{text}\n[refused: {', '.join(codes)} - see {DOC}]"


def _known(code: str) -> None:
    if code not in REFUSALS:
        raise ValueError(f"refusal code {code!r} is not in REFUSALS")
