"""The join SOP's wiring, in-process: the joining host gets its certificate from the control node,
its files, an announcement as a learner, then start, promotion and checks; a join whose member
cannot start is undone."""

from etcdkit.facts.etcd import EtcdMembership

from tests.unit import plans_data
from tests.unit.sop_run import SopRun, bare_machine, created, member_machine, pki, with_view
from tests.unit.test_sop_create import ADDRESSES

JOINER = plans_data.address(4)


def membership(run: SopRun):
    """The member list as the join's own commands change it."""
    if not run.ran("member add"):
        return plans_data.view(1, 2, 3)
    if run.ran("member remove"):  # the join was undone
        return plans_data.view(1, 2, 3)
    started = run.ran("systemctl start --no-block etcd.service")
    learner = not run.ran("member promote")
    return plans_data.view(1, 2, 3, plans_data.entry(4, started=started, learner=learner))


# etcd's answer to the member add: the member list with the new, unstarted learner
ADDED = {"member add": {"stdout": plans_data.view_json(1, 2, 3, plans_data.entry(4, started=False, learner=True))[0]}}


def join(tmp_path, answers: dict | None = None) -> SopRun:
    created(tmp_path)
    inv = plans_data.inventory(tmp_path)
    machines = with_view({address: member_machine(inv, seq) for seq, address in enumerate(ADDRESSES, 1)}, plans_data.view(1, 2, 3))
    machines[JOINER] = bare_machine()
    for machine in machines.values():
        machine.facts[EtcdMembership] = membership
    run = SopRun("join", machines, group_data=pki(tmp_path), limit=[JOINER], answers={**ADDED, **(answers or {})}).prepare()
    assert run.error is None
    return run


def test_the_joiner_gets_its_certificate_files_an_announcement_as_learner_then_starts(tmp_path):
    names = join(tmp_path).names(JOINER)
    assert names[0] == "Control node: CA, certificates and passwords in the PKI folder"
    assert names[1:3] == ["etcd join | Install etcd 3.5.16", "etcd join | etcd's folders and files"]  # the version the members run
    assert names[-2:] == ["etcd join | Announce etcd-4 (learner)", "etcd join | Start etcd-4, promote it, check the cluster"]


def test_the_join_announces_starts_and_promotes_in_that_order(tmp_path):
    run = join(tmp_path).execute()
    assert run.failed() == set()
    assert (tmp_path / "pki" / "etcd" / "etcd-4.crt").exists()
    commands = run.commands(JOINER)
    order = [next(i for i, c in enumerate(commands) if text in c) for text in ("member add", "systemctl start", "member promote")]
    assert order == sorted(order)
    assert "--learner" in commands[order[0]] and not run.ran("member remove")


def test_a_join_whose_member_cannot_start_is_undone(tmp_path):
    refused = {"systemctl start --no-block": {"success": False, "stderr": "Job for etcd.service failed"}}
    run = join(tmp_path, answers=refused).execute()
    assert run.failed() == {JOINER}
    assert run.ran("member remove") and run.ran("SYSTEMCTL_SKIP_SYSV=1 systemctl disable --now --quiet etcd.service")
