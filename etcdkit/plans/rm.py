"""bin/etcd-rm's run: the member etcd_remove names leaves, then the members and their clients are
reloaded for the cluster it leaves, in one pyinfra run over the inventory, planned once before
anything changes.

The removal part is the remove SOP's own decision (etcdkit.plans.remove.decide); the reload part is
the reload SOP's decision (etcdkit.plans.reload.decide) on the member list without the departing
member (etcdkit.plans.expected), its host left out of it. The reload's steps run only once this run
saw the member leave the member list. A run whose member left before is a reload.
"""

from dataclasses import dataclass, field, replace

from etcdkit.control.store import ControlWork
from etcdkit.model.inventory import GROUP
from etcdkit.model.refusals import Refusal
from etcdkit.model.run import run_context
from etcdkit.plans import reload, remove
from etcdkit.plans.expected import without_member
from etcdkit.plans.gather import left_out, read_control


@dataclass(frozen=True)
class RmFacts:
    remove: remove.InventoryFacts
    reload: reload.ReloadFacts


@dataclass
class RmPlan:
    removal: remove.Removal | None  # None, or its entry None: the member left before
    reload: reload.ReloadPlan
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def control(self) -> ControlWork | None:
        return self.reload.control

    @property
    def control_host(self) -> str | None:
        return self.reload.control_host


def rm_plan(state, inventory) -> RmPlan:
    return run_context(state).once("rm", lambda: decide(gather(state, inventory)))


def gather(state, inventory) -> RmFacts:
    """The facts of both parts, read once: the remove SOP's (a host etcd_remove names that is out of
    the run is dead: it is not even tried) and the clients of the reload."""
    facts = remove.gather(state, inventory)
    if not isinstance(facts, remove.InventoryFacts) or not facts.named:
        raise Refusal("remove.rm_run", f"the rm run takes the inventory's group `{GROUP}` and etcd_remove=IP (bin/etcd-rm sets it)")
    outside = left_out(state, inventory)
    first = facts.hosts[facts.spec.members[0].host_name].settings
    control = read_control(first, facts.spec.cluster)
    clients = reload.read_clients(inventory, facts.hosts, first)
    return RmFacts(facts, reload.ReloadFacts(facts.spec, facts.hosts, outside, facts.view, control, *clients))


def decide(facts: RmFacts) -> RmPlan:
    removal = remove.decide(facts.remove)
    if removal is None or removal.entry is None or facts.reload.view is None:  # an entry is one of the view's
        return RmPlan(removal, reload.decide(facts.reload), notes=list(removal.notes) if removal else [])
    left = replace(
        facts.reload,
        outside=(*facts.reload.outside, removal.address),  # its host is cleaned, not reloaded
        view=without_member(facts.reload.view, removal.peer_url),
    )
    reloaded = reload.decide(left)
    notes = [*removal.notes, f"then the members and their clients are reloaded for the cluster without {removal.name}", *reloaded.notes]
    return RmPlan(removal, reloaded, [*removal.warnings, *reloaded.warnings], notes)
