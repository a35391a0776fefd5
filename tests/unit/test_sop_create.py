"""The create SOP's wiring, run in-process on fake hosts: which operations each host gets, in which
order, which are serial or guarded, and that a converged cluster gives a preview without changes."""

from dataclasses import replace

import yaml
from etcdkit.facts.etcd import EtcdHost

from etcdkit.model import paths
from etcdkit.model.refusals import Refusal
from etcdkit.model.run import run_context
from tests.unit import plans_data
from tests.unit.sop_run import FAKE, SopRun, bare_machine, created, member_machine, pki, with_view

ADDRESSES = [plans_data.address(seq) for seq in (1, 2, 3)]

MEMBER_OPS = [
    "etcd member | Install etcd",
    "etcd member | etcd's folders and files",
    "etcd member | No scheduled backups (etcd_backup_schedule is unset)",
    "etcd member | Start etcd",
    "etcd member | Wait for etcd to be healthy [if]",
]  # no turn in a rolling restart: nothing runs that would need one
CONTROL = "Control node: CA, certificates and passwords in the PKI folder"
RBAC = "etcd member | Enable RBAC (root user, auth enable)"


def first_create(tmp_path) -> SopRun:
    run = SopRun("create", {address: bare_machine() for address in ADDRESSES}, group_data=pki(tmp_path)).prepare()
    assert run.error is None
    return run


def test_bare_hosts_get_every_step_rbac_on_the_first_member_and_the_pki_on_the_first_host(tmp_path):
    run = first_create(tmp_path)
    assert run.names(ADDRESSES[0]) == [CONTROL, *MEMBER_OPS, RBAC]
    assert run.names(ADDRESSES[1]) == run.names(ADDRESSES[2]) == MEMBER_OPS
    assert not (tmp_path / "pki").exists()  # the preview wrote nothing on the control node


def test_the_run_writes_the_pki_then_starts_every_member_without_waiting(tmp_path):
    run = first_create(tmp_path).execute()
    assert run.failed() == set()
    assert (tmp_path / "pki" / "ca.crt").exists() and (tmp_path / "pki" / "etcd" / "etcd-3.key").exists()
    for address in ADDRESSES:
        assert "SYSTEMCTL_SKIP_SYSV=1 systemctl enable --quiet etcd.service && systemctl start --no-block etcd.service" in run.commands(
            address
        )
    assert any("auth enable" in command for command in run.commands(ADDRESSES[0]))
    assert not any("auth enable" in command for address in ADDRESSES[1:] for command in run.commands(address))


def test_a_second_run_on_the_converged_cluster_changes_nothing(tmp_path):
    created(tmp_path)
    inv = plans_data.inventory(tmp_path)
    machines = with_view({address: member_machine(inv, seq) for seq, address in enumerate(ADDRESSES, 1)}, plans_data.view(1, 2, 3))
    run = SopRun("create", machines, group_data=pki(tmp_path)).prepare()
    assert run.error is None
    for address in ADDRESSES:  # only what an unchanged upload's guard keeps from running
        assert run.changes(address) == ["etcd member | Wait for etcd to be healthy [if]"]
    run.execute()
    assert {address: run.commands(address) for address in ADDRESSES} == {address: [] for address in ADDRESSES}


def converged(tmp_path, **files) -> dict:
    created(tmp_path)
    inv = plans_data.inventory(tmp_path)
    return with_view({address: member_machine(inv, seq, **files) for seq, address in enumerate(ADDRESSES, 1)}, plans_data.view(1, 2, 3))


def test_the_members_etcd_is_not_asked_what_it_is_where_the_cluster_view_says_it(tmp_path):
    machines = converged(tmp_path)
    for machine in machines.values():  # each host's fact as read without its etcd's own status
        machine.facts[EtcdHost] = replace(machine.facts[EtcdHost], own=None, version=None, runs_binary=True)
    run = SopRun("create", machines, group_data=pki(tmp_path)).prepare()
    assert run.error is None and sorted(run.asked).count((ADDRESSES[1], "EtcdHost")) == 1  # no second reading
    for address in ADDRESSES:  # the version the view reports: nothing to install, nothing to change
        assert run.changes(address) == ["etcd member | Wait for etcd to be healthy [if]"]


def test_on_a_converged_cluster_the_operations_ask_nothing_beyond_the_plans_facts(tmp_path):
    run = SopRun("create", converged(tmp_path), group_data=pki(tmp_path)).prepare()
    # each host's state, and through the first member the cluster view with the RBAC step's
    # authentication state, in one round trip beside them: nothing is asked twice
    assert sorted(run.asked) == sorted([(address, "EtcdHost") for address in ADDRESSES] + [(ADDRESSES[0], "EtcdClusterAuth")])
    run.asked.clear()
    run.execute()
    assert run.asked == []
    assert run.commands(ADDRESSES[0]) == []


def test_with_the_first_member_stopped_its_early_view_is_not_used_and_its_rbac_step_reads_auth_after_the_start(tmp_path):
    machines = converged(tmp_path)
    inv = plans_data.inventory(tmp_path)
    machines[ADDRESSES[0]] = with_view({ADDRESSES[0]: member_machine(inv, 1, running=False)}, plans_data.view(1, 2, 3))[ADDRESSES[0]]
    run = SopRun("create", machines, group_data=pki(tmp_path)).prepare()
    assert run.error is None
    # the view read early through the stopped member is not taken: the next member is asked
    assert [(address, fact) for address, fact in run.asked if fact.startswith("EtcdCluster")] == [
        (ADDRESSES[0], "EtcdClusterAuth"),
        (ADDRESSES[1], "EtcdCluster"),
    ]
    run.asked.clear()
    run.execute()
    assert "systemctl start --no-block etcd.service" in " ".join(run.commands(ADDRESSES[0]))
    assert (ADDRESSES[0], "EtcdAuth") in run.asked  # the start ran a command: what was read early no longer stands


def test_once_an_operation_changed_a_host_its_later_operations_read_fresh_facts(tmp_path):
    machines = converged(tmp_path)
    other = dict(machines[ADDRESSES[1]].files)
    other[paths.ENV] = ("# edited by hand\n", *other[paths.ENV][1:])
    machines[ADDRESSES[1]].files = other
    machines[ADDRESSES[1]].facts[EtcdHost] = replace(
        machines[ADDRESSES[1]].facts[EtcdHost], sha256={**machines[ADDRESSES[1]].facts[EtcdHost].sha256, paths.ENV: "0" * 64}
    )
    run = SopRun("create", machines, group_data=pki(tmp_path)).prepare()
    run.asked.clear()
    run.execute()
    asked = [fact for address, fact in run.asked if address == ADDRESSES[1]]
    # the files are read again (one fact) before the edited one is written; every operation after that write reads its own facts
    assert asked[0] == "HostFiles"
    assert "EtcdService" in asked[1:]
    # on the others, the RBAC step's EtcdAuth: read again, since a command ran on another host
    assert [address for address, _ in run.asked if address != ADDRESSES[1]] == [ADDRESSES[0]]
    assert any("etcdctl.sh" in command for command in run.commands(ADDRESSES[1]))


def test_etcd_checks_passwords_at_bcrypts_least_cost_only_when_every_password_is_long(tmp_path):
    def conf(**data) -> dict:
        run = SopRun("create", {address: bare_machine() for address in ADDRESSES}, group_data={**pki(tmp_path), **data}).prepare()
        assert run.error is None
        plan = run_context(run.state).results["create"]
        return yaml.safe_load(plan.members[FAKE + ADDRESSES[0]].files[paths.CONF])

    assert conf()["bcrypt-cost"] == 4  # every password is one etcdkit generates
    assert "bcrypt-cost" not in conf(etcd_root_password="Site.Root-2024")  # one the site chose: etcd's default
    groups = {"pg": ["10.10.10.41"]}
    short = SopRun(
        "create",
        {**{address: bare_machine() for address in ADDRESSES}, "10.10.10.41": bare_machine()},
        members=ADDRESSES,
        group_data=pki(tmp_path),
        host_data={"10.10.10.41": {"pg_cluster": "pg-test", "pg_etcd_password": "DBUser.Test"}},
        groups=groups,
    ).prepare()
    assert "bcrypt-cost" not in yaml.safe_load(run_context(short.state).results["create"].members[FAKE + ADDRESSES[0]].files[paths.CONF])
    assert conf(etcd_bcrypt_cost=12)["bcrypt-cost"] == 12


def test_a_host_that_is_neither_a_member_nor_a_monitoring_host_stops_the_run(tmp_path):
    other = "10.10.10.40"
    machines = {address: bare_machine() for address in [*ADDRESSES, other]}
    run = SopRun("create", machines, members=ADDRESSES, group_data=pki(tmp_path)).prepare()
    assert isinstance(run.error, Refusal) and run.error.code == "create.not_a_host", run.error
    assert (
        run.error.found.endswith(f"{other} is neither in group `etcd` nor a monitoring host of the inventory")
        and run.error.fix == "Limit the run: --limit etcd"
    )
    assert not (tmp_path / "pki").exists()


def test_a_backup_schedule_gives_each_member_its_folder_script_units_and_a_running_timer(tmp_path):
    data = {**pki(tmp_path), "etcd_backup_schedule": "*-*-* 02:30:00"}
    run = SopRun("create", {address: bare_machine() for address in ADDRESSES}, group_data=data).prepare()
    assert run.error is None, run.error
    for address in ADDRESSES:
        names = run.names(address)
        after_files = names.index("etcd member | etcd's folders and files") + 1
        assert names[after_files : after_files + 7] == [
            "etcd member | Scheduled backups folder",
            f"etcd member | Upload {paths.BACKUP_SCRIPT}",
            f"etcd member | Upload {paths.BACKUP_SERVICE}",
            f"etcd member | Upload {paths.BACKUP_TIMER}",
            "etcd member | Reload systemd units (scheduled backups) [if]",
            f"etcd member | Start and enable {paths.BACKUP_TIMER_UNIT}",
            f"etcd member | Restart {paths.BACKUP_TIMER_UNIT} for its new schedule [if]",
        ]
    run.execute()
    assert run.failed() == set()
    assert any(f"> {paths.BACKUP_TIMER}" in command for command in run.commands(ADDRESSES[1]))
