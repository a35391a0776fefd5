"""upgrade's decisions: every refusal (unhealthy, no leader, learner pending, downgrade, minor
skip, a member under the release etcd asks for before the minor step, a key the new minor version
no longer reads, a v2 store that fails its check before 3.6, no etcd_version), the order
(followers by etcd_seq, the leader last), and a converged cluster that takes no turn."""

from dataclasses import replace

import pytest

from etcdkit.model.data import V2StoreCheck
from etcdkit.model.refusals import Refusal
from etcdkit.plans.upgrade import UpgradeFacts, decide
from tests.unit.plans_data import client_url, entry, inventory, view, with_status


def live(*versions: str, leader: int = 2, **kwargs):
    """Members 1.. running these server versions."""
    members = kwargs.pop("members", range(1, len(versions) + 1))
    cluster = view(*members, leader=leader, **kwargs)
    for seq, version in enumerate(versions, 1):
        if client_url(seq) in cluster.status:
            cluster = with_status(cluster, client_url(seq), version=version)
    return cluster


def facts(inv, cluster, in_run=None, v2store=None, states=None, **changes) -> UpgradeFacts:
    return UpgradeFacts(inv.spec, inv.hosts(states, in_run, **{"etcd_version": "3.5.16", **changes}), cluster, v2store or {})


def refused(tmp_path, cluster, v2store=None, code: str | None = None, **changes) -> str:
    """The text of decide's refusal, whose codes include `code`."""
    with pytest.raises(Refusal) as error:
        decide(facts(inventory(tmp_path), cluster, v2store=v2store, **changes))
    assert code is None or code in error.value.codes, error.value.codes
    return str(error.value)


def test_no_member_answers(tmp_path):
    assert refused(tmp_path, None).startswith("cannot upgrade: no member of cluster `etcd` answers")


def test_etcd_version_is_required(tmp_path):
    assert "set the version to run, etcd_version" in refused(tmp_path, live("3.5.15", "3.5.15", "3.5.15"), etcd_version=None)


@pytest.mark.parametrize(
    "cluster, expected",
    [
        (live("3.5.15", "3.5.15", "3.5.15", down=[3]), "member etcd-3 (https://10.10.10.12:2379) is not healthy"),
        (live("3.5.15", "3.5.15", "3.5.15", leader=None), "the cluster has no leader"),
    ],
    ids=["unhealthy", "no-leader"],
)
def test_refused_unless_healthy_with_a_leader(tmp_path, cluster, expected):
    assert f"\n  - the cluster is not healthy: {expected}" in refused(tmp_path, cluster, code="cluster.unhealthy")


def test_a_pending_learner_is_refused(tmp_path):
    inv = inventory(tmp_path, seqs=(1, 2, 3, 4))
    cluster = live("3.5.15", "3.5.15", "3.5.15", "3.5.15", members=(1, 2, 3, entry(4, learner=True)))
    with pytest.raises(Refusal, match=r"member etcd-4 .* learner .* is pending \(an unfinished join\)") as error:
        decide(facts(inv, cluster))
    assert "cluster.pending" in error.value.codes


def test_a_downgrade_is_refused(tmp_path):
    assert "etcd_version 3.5.16 is older than the etcd that runs (3.5.17): the upgrade SOP does not downgrade" in refused(
        tmp_path, live("3.5.16", "3.5.17", "3.5.16")
    )


def test_a_minor_skip_is_refused(tmp_path):
    message = refused(tmp_path, live("3.4.23", "3.4.23", "3.4.23"), etcd_version="3.6.4")
    assert "etcd_version 3.6.4 skips a minor version: the cluster runs 3.4" in message
    assert "Upgrade to 3.5.32 first (etcd_version=3.5.32), then to 3.6.4" in message


def test_a_minor_step_under_the_floor_is_refused_before_the_v2_store_is_looked_at(tmp_path):
    message = refused(
        tmp_path, live("3.5.30", "3.5.30", "3.5.30"), v2store={"10.10.10.10": None}, code="upgrade.refused", etcd_version="3.6.11"
    )
    assert message.startswith("cannot upgrade; nothing was changed:\n  - every member must run etcd 3.5.32 or later before the step to 3.6")
    assert "upgrade to 3.5.32 first (etcd_version=3.5.32), then to 3.6.11" in message
    assert "etcdutl" not in message.split("(")[0] and "has no etcdutl" not in message


def test_the_step_to_3_6_needs_a_clean_v2_store_on_every_member_of_the_run(tmp_path):
    cluster = live("3.5.32", "3.5.32", "3.5.32")
    clean = V2StoreCheck(passed=True, output="No custom content found in both v2store and WAL records.")
    dirty = V2StoreCheck(passed=False, output='{"level":"info"}\nError: detected custom content in v2store')
    message = refused(tmp_path, cluster, v2store={"10.10.10.10": clean, "10.10.10.11": dirty, "10.10.10.12": None}, etcd_version="3.6.11")
    assert (
        "10.10.10.11: `etcdutl check v2store --data-dir /data/etcd` fails (Error: detected custom content in v2store): "
        "etcd 3.6 cannot start on a v2 store that holds more than membership data" in message
    )
    assert "10.10.10.12 has no etcdutl, which checks the v2 store before the step to etcd 3.6.11" in message
    assert "10.10.10.10" not in message
    inv = inventory(tmp_path)
    plan = decide(facts(inv, cluster, v2store={inv.name(seq): clean for seq in (1, 2, 3)}, etcd_version="3.6.11"))
    assert plan.turns == [inv.name(1), inv.name(3), inv.name(2)]
    assert "`etcdutl check v2store` passed on 10.10.10.10, 10.10.10.11, 10.10.10.12" in plan.notes


def test_a_key_the_new_minor_version_no_longer_reads_is_refused(tmp_path):
    inv = inventory(tmp_path)
    state = inv.ours(1)
    state = replace(state, conf=state.conf + "enable-v2: true\n")
    clean = V2StoreCheck(passed=True, output="")
    with pytest.raises(Refusal, match="10.10.10.10: its etcd.conf sets enable-v2, which etcd 3.6 no longer reads"):
        decide(
            facts(
                inv, live("3.5.32", "3.5.32", "3.5.32"), states={1: state}, v2store=dict.fromkeys(inv.hosts(), clean), etcd_version="3.6.11"
            )
        )


def test_the_step_from_3_4_warns_of_users_and_passwords(tmp_path):
    plan = decide(facts(inventory(tmp_path), live("3.4.23", "3.4.23", "3.4.23")))
    assert any(w.startswith("etcd 3.4 -> 3.5:") and "change no password" in w for w in plan.warnings)
    assert decide(facts(inventory(tmp_path), live("3.5.15", "3.5.15", "3.5.15"))).warnings == []


def test_a_tarball_of_another_release_is_refused(tmp_path):
    tarball = tmp_path / "etcd-v3.5.15-linux-amd64.tar.gz"
    message = refused(tmp_path, live("3.5.15", "3.5.15", "3.5.15"), etcd_tarball=str(tarball), etcd_tarball_sha256="0" * 64)
    assert f"etcd_tarball {tarball} is not the release of etcd_version 3.5.16" in message


def test_followers_first_by_etcd_seq_and_the_leader_last(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, live("3.4.23", "3.4.23", "3.4.23", leader=1)))
    assert plan.turns == [inv.name(2), inv.name(3), inv.name(1)]
    assert plan.leader_host == inv.name(1)
    assert plan.notes[-1] == "upgrade: the followers one at a time (etcd-2, etcd-3), then the leader, etcd-1, last"
    assert plan.notes[0] == "etcd-2: etcd 3.4.23 -> 3.5.16"


def test_an_interrupted_upgrade_resumes_with_the_members_left(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, live("3.5.16", "3.4.23", "3.4.23", leader=2)))
    assert plan.turns == [inv.name(3), inv.name(2)] and plan.leader_host == inv.name(2)


def test_a_converged_cluster_takes_no_turn(tmp_path):
    plan = decide(facts(inventory(tmp_path), live("3.5.16", "3.5.16", "3.5.16")))
    assert (plan.members, plan.turns, plan.leader_host) == ({}, [], None)
    assert plan.notes == ["every member of the run runs etcd 3.5.16: nothing to upgrade"]


def test_members_left_out_of_the_run_are_named(tmp_path):
    inv = inventory(tmp_path)
    plan = decide(facts(inv, live("3.5.15", "3.5.15", "3.5.15", leader=2), in_run=[1]))
    assert plan.turns == [inv.name(1)] and plan.leader_host is None
    assert [w.split(" a000")[0] for w in plan.warnings] == ["member etcd-2", "member etcd-3"]


def test_members_upgrade_the_way_they_were_installed(tmp_path):
    tarball = tmp_path / "etcd-v3.5.16-linux-amd64.tar.gz"
    message = refused(tmp_path, live("3.5.15", "3.5.15", "3.5.15"), etcd_tarball=str(tarball), etcd_tarball_sha256="0" * 64)
    assert "10.10.10.10 runs etcd from packages, not a tarball: change its version the way it was installed (unset etcd_tarball)" in message


class _Host:
    def __init__(self, answer):
        self.answer, self.asked = answer, []

    def get_fact(self, fact, **kwargs):
        self.asked.append((fact.__name__, kwargs))
        return self.answer


@pytest.mark.parametrize(
    "target, running, checked",
    [("3.6.11", ("3.5.32", "3.6.11", "3.5.32"), [1]), ("3.5.32", ("3.5.30",) * 3, []), ("3.7.1", ("3.6.11",) * 3, [])],
    ids=["step to 3.6", "patch", "step to 3.7"],
)
def test_gather_checks_the_v2_store_of_the_members_of_the_run_that_step_to_3_6(tmp_path, monkeypatch, target, running, checked):
    from etcdkit.plans import upgrade

    inv = inventory(tmp_path)
    hosts = inv.hosts(in_run=[1, 2], etcd_version=target)  # etcd-3 is left out of the run
    fakes = {name: _Host(V2StoreCheck(passed=True, output="")) for name in hosts}
    monkeypatch.setattr(upgrade, "read_run", lambda state, inventory: (inv.spec, hosts, live(*running)))

    class Inventory:
        def get_host(self, name):
            return fakes[name]

    gathered = upgrade.gather(None, Inventory())
    assert sorted(gathered.v2store) == [inv.name(seq) for seq in checked]
    for seq in checked:
        assert fakes[inv.name(seq)].asked == [("EtcdV2Store", {"data_dir": "/data/etcd"})]
