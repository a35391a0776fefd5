"""The recover SOP's wiring, in-process: each phase starts on every host only once the one before it
succeeded (the survivor alone, the older data deleted, the joins one at a time, the reload), and a
phase that failed on one host stops the later ones on every host."""

from dataclasses import replace

from etcdkit.facts.etcd import EtcdCluster, EtcdDatabase, EtcdMembership, EtcdMetrics

from etcdkit.model.data import DatabaseStatus
from tests.unit import plans_data
from tests.unit.sop_run import SopRun, bare_machine, created, member_machine, pki
from tests.unit.test_sop_create import ADDRESSES

SURVIVOR, OLDER, BARE = ADDRESSES
GATES = ["etcd-1 serves alone: the other members may change", "Every member joined: the members and their clients are reloaded"]


def membership(run: SopRun):
    """The member list as the run's own commands change it: etcd-1 alone once forced, then each
    joiner announced, started and promoted by the commands of its host. Each reading records how
    many members were pending (learners or unstarted) in run.pending."""
    entries = [1]
    for seq, address in ((2, OLDER), (3, BARE)):
        commands = run.commands(address)
        if any("member add" in command for command in commands):
            started = any("systemctl start --no-block etcd.service" in command for command in commands)
            entries.append(plans_data.entry(seq, started=started, learner=not any("member promote" in command for command in commands)))
    view = plans_data.view(*entries, leader=1)
    run.pending.append(len(view.pending))
    return view


def recover(tmp_path, answers: dict | None = None) -> SopRun:
    """etcd-1 restarted without quorum (its database read offline: revision 1200), etcd-2 stopped
    with older data (1100), node 3 with a fresh disk."""
    created(tmp_path)
    inv = plans_data.inventory(tmp_path)
    machines = {SURVIVOR: member_machine(inv, 1), OLDER: member_machine(inv, 2, running=False), BARE: bare_machine()}
    survivor = machines[SURVIVOR].facts
    survivor[plans_data.EtcdHost] = replace(survivor[plans_data.EtcdHost], own=None)  # without quorum no one logs in
    databases = {SURVIVOR: 1200, OLDER: 1100}
    for address, machine in machines.items():
        machine.facts[EtcdMetrics] = {}  # no member serves: they are read from their disks
        machine.commands["etcdutl"] = "/usr/bin/etcdutl"
        if address in databases:
            machine.facts[EtcdDatabase] = DatabaseStatus(databases[address], keys=300, size=20480)
        machine.facts[EtcdCluster] = machine.facts[EtcdMembership] = membership
    # etcd's answer to each joiner's member add: the member list with it, an unstarted learner
    added = {
        address: {
            "fake_responses": {
                "member add": {"stdout": plans_data.view_json(*before, plans_data.entry(seq, started=False, learner=True))[0]}
            }
        }
        for address, seq, before in ((OLDER, 2, (1,)), (BARE, 3, (1, 2)))
    }
    run = SopRun("recover", machines, group_data=pki(tmp_path), answers=answers, host_data=added)
    run.pending = []
    run.prepare()
    assert run.error is None, run.error
    return run


def test_each_phase_comes_after_the_one_before_on_every_host(tmp_path):
    run = recover(tmp_path)
    order = run.order()
    phases = [
        "Make etcd-1 a one-member cluster of its data (force-new-cluster, once)",
        GATES[0],
        "Stop etcd and delete its member data (older than the survivor's)",
        "Join this member again (the join SOP, one member at a time) [serial]",
        GATES[1],
        "etcd member | etcd's files",
        "Say how the cluster ends",
    ]
    assert [order.index(phase) for phase in phases] == sorted(order.index(phase) for phase in phases), order
    for address in ADDRESSES:  # every host passes both gates, whatever it does in between
        assert [name for name in run.names(address) if name in GATES] == GATES
    assert "Stop etcd and delete its member data (older than the survivor's)" in run.names(OLDER)
    assert "Stop etcd and delete its member data (older than the survivor's)" not in run.names(BARE) + run.names(SURVIVOR)


def test_the_survivor_serves_alone_then_the_others_join_one_at_a_time_and_are_reloaded(tmp_path):
    run = recover(tmp_path).execute()
    assert run.failed() == set()
    # one learner at a time: each member add reads the member list first, and none saw a learner
    # pending (the joins read it no more: they promote through the leader that read found)
    assert run.pending and max(run.pending) == 0
    assert not membership(run).pending  # none left, as the run's commands made the member list
    assert any("force-new-cluster" in command for command in run.commands(SURVIVOR))
    assert (
        "SYSTEMCTL_SKIP_SYSV=1 systemctl disable --now --quiet etcd.service 2>/dev/null; rm -rf /data/etcd/member /run/etcd.restart-pending"
        in run.commands(OLDER)
    )
    for address in (OLDER, BARE):
        joined = run.commands(address)
        assert [text for text in ("member add", "--learner", "systemctl start", "member promote") if any(text in c for c in joined)] == [
            "member add",
            "--learner",
            "systemctl start",
            "member promote",
        ]
    assert not any("member add" in command for command in run.commands(SURVIVOR))


def test_a_survivor_that_does_not_serve_alone_leaves_every_other_host_as_it_was(tmp_path):
    run = recover(tmp_path, answers={"force-new-cluster": {"success": False, "stderr": "etcd did not start"}}).execute()
    assert run.failed() == set(ADDRESSES)  # the survivor by its error, the others at the gate
    assert run.commands(OLDER) == [] and run.commands(BARE) == []


def test_a_failed_join_stops_the_reload_on_every_host(tmp_path):
    refused = {"member add": {"success": False, "stderr": "etcdserver: peerURL exists"}}
    run = recover(tmp_path, answers=refused).execute()
    assert {OLDER, BARE} <= run.failed() and SURVIVOR in run.failed()  # the survivor stops at the second gate
    assert not any("member promote" in command for address in ADDRESSES for command in run.commands(address))
