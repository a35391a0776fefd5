"""The join SOP's decisions, made once per run from the inventory, every member's state and the live
member list, before anything changes.

The joining host is the host of the run (`--limit`) that is not yet a started voting member; one per
run, so that memberships change one at a time (bin/etcd-add runs one join after another). A join
begun before (an unstarted entry or a started learner with the host's peer URL) is resumed.
"""

from dataclasses import dataclass

from pyinfra import logger
from pyinfra.api.exceptions import DeployError

from etcdkit import checks
from etcdkit.cluster import ClusterView, LiveMember
from etcdkit.discovery import HostState, live_view, once_per_run, survey
from etcdkit.inventory import ClusterSpec
from etcdkit.memberfiles import Membership, cluster_secrets, cluster_token, member_files


@dataclass
class JoinPlan:
    spec: ClusterSpec
    view: ClusterView
    joiner: HostState | None  # None: every host of the run is a started voting member already
    files: dict[str, str]
    entry: LiveMember | None  # the joiner's member entry, when a join was begun before
    learner: bool
    wipe: bool  # the joiner holds stale data (it is not a started member): delete it first
    endpoints: str  # client URLs of the started members, for etcdctl on the joiner


def join_plan(state, inventory) -> JoinPlan:
    return once_per_run(state, "join", lambda: _make_plan(state, inventory))


def _make_plan(state, inventory) -> JoinPlan:
    spec, hosts = survey(inventory)
    in_run = [h for h in hosts.values() if state.limit_hosts is None or inventory.get_host(h.member.host_name) in state.limit_hosts]
    view = live_view(inventory, [h for h in hosts.values() if h.ownership()[0] == "ours"])
    problems = checks.answers(view, spec.cluster)
    if problems:
        raise DeployError(f"cannot join: {problems[0]}; nothing was changed")

    def joined(host: HostState) -> bool:
        entry = view.by_peer_url(host.member.peer_url)
        return entry is not None and entry.started and not entry.is_learner

    joiners = [h for h in in_run if not joined(h)]
    if not joiners:
        logger.info(f"every host of this run is a started member of `{spec.cluster}`: nothing to join")
        return JoinPlan(spec, view, None, {}, None, False, False, "")
    if len(joiners) > 1:
        names = " ".join(h.member.address for h in joiners)
        raise DeployError(
            f"{len(joiners)} hosts of this run are not members ({names}): members join one at a time. "
            f"Limit the run to one host (--limit IP), or run bin/etcd-add {names}, which joins them one after another"
        )
    joiner = joiners[0]
    entry = view.by_peer_url(joiner.member.peer_url)
    learner = entry.is_learner if entry else joiner.settings["etcd_learner"]
    problems = checks.nothing_pending(view, allowed=entry) + checks.healthy(view, ignoring=entry)
    if entry is None and not learner:
        voters, healthy = len(view.voters) + 1, len(view.healthy_voters)
        if voters == 2 and healthy == 1:
            logger.warning(
                "etcd_learner=false on a 1-member cluster: it has no write quorum from the member add "
                "until the new member is up; a learner (the default) avoids that"
            )
        else:
            problems += checks.quorum_after(view, voters, healthy)
    kind, reason = joiner.ownership()
    if joiner.running and kind == "foreign" and not (entry and entry.started):
        problems.append(
            f"{joiner.member.host_name} runs an etcd that is not a member of `{spec.cluster}` ({reason}): "
            "stop it if its data can go (systemctl stop etcd), then run the join again"
        )
    if problems:
        raise DeployError(
            f"cannot join {joiner.member.host_name} to `{spec.cluster}`; nothing was changed:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        )
    members = [h for h in hosts.values() if h is not joiner]
    secrets = cluster_secrets(members[0].settings if members else joiner.settings, spec.cluster)
    token = cluster_token(members) or spec.cluster
    files = member_files(joiner, secrets, Membership.of_live_cluster(view, spec, joining=joiner.member), token, "existing")
    endpoints = ",".join(sorted(url for m in view.started if m is not entry for url in m.client_urls))
    wipe = bool(joiner.state["data"]) and not (entry and entry.started)
    return JoinPlan(spec, view, joiner, files, entry, learner, wipe, endpoints)
