"""remove's decisions: which member leaves, through which host, with what hand-over, and every
refusal, from plain facts. Members 1-3 run; member 3 (10.10.10.12) usually leaves."""

from dataclasses import replace
from types import SimpleNamespace

import pytest
from etcdkit.facts.etcd import EtcdCluster, EtcdHost

from etcdkit.plans.gather import conf_values
from etcdkit.plans.remove import InventoryFacts, OwnConfigFacts, decide, gather, own_member
from tests.unit.fake_host import FakeHost, active, fact
from tests.unit.plans_data import (
    UNREACHABLE,
    address,
    assert_control_node_untouched,
    bare,
    client_url,
    entry,
    foreign_data,
    foreign_etcd,
    hex_id,
    inventory,
    make_settings,
    peer_url,
    refused,
    squatter,
    view,
)

MEMBERS = view(1, 2, 3)


def facts(inv, states=None, in_run=(3,), named=None, live=MEMBERS, limited=True) -> InventoryFacts:
    return InventoryFacts(inv.spec, inv.hosts(states, in_run=in_run), named, limited, live)


def refusal(fragment: str) -> str:
    return rf"^cannot remove 10\.10\.10\.12; nothing was changed:\n  - {fragment}"


# Which member leaves


def test_a_run_without_a_limit_or_etcd_remove_is_refused(tmp_path):
    with refused("remove.unnamed", match=r"^name the member to remove: --limit IP \(or bin/etcd-rm IP\)"):
        decide(facts(inventory(tmp_path), in_run=None, limited=False))


def test_etcd_remove_naming_a_host_outside_the_group_is_refused(tmp_path):
    with refused("remove.unknown", match=r"^etcd_remove=10\.10\.10\.99 is not a host of group `etcd`"):
        decide(facts(inventory(tmp_path), in_run=None, named="10.10.10.99", limited=False))


def test_two_hosts_leaving_in_one_run_are_refused(tmp_path):
    with refused("remove.several", match=r"^2 hosts would leave \(10\.10\.10\.11 10\.10\.10\.12\): members leave one at a time"):
        decide(facts(inventory(tmp_path), in_run=(2, 3)))


def test_a_limit_to_no_host_of_the_group_removes_nothing(tmp_path):
    assert decide(facts(inventory(tmp_path), in_run=())) is None


def test_the_safeguard_refuses(tmp_path):
    inv = inventory(tmp_path, etcd_safeguard=True)
    with refused("remove.safeguard", match=r"^etcd_safeguard is on: refusing to remove 10\.10\.10\.12; nothing was changed"):
        decide(facts(inv))


def test_no_member_answers(tmp_path):
    with refused("remove.down", match=r"^cannot remove 10\.10\.10\.12: no member of cluster `etcd` answers"):
        decide(facts(inventory(tmp_path), live=None))


# The removal through its own host


def test_a_member_is_removed_through_its_own_host(tmp_path):
    inv = inventory(tmp_path)
    removal = decide(facts(inv))
    assert (removal.host_name, removal.name, removal.peer_url) == (address(3), "etcd-3", peer_url(3))
    assert removal.entry.hex_id == hex_id(3)
    assert (removal.reachable, removal.has_credentials, removal.executor) == (True, True, address(3))
    assert removal.survivors == f"{client_url(1)},{client_url(2)}"
    assert (removal.leader_endpoint, removal.successor) == (None, None)  # member 1 leads
    assert removal.certificates == [] and removal.warnings == [] and removal.notes == []
    assert_control_node_untouched(inv)


def test_its_certificate_files_on_the_control_node_are_listed_not_deleted(tmp_path):
    inv = inventory(tmp_path)
    folder = inv.pki_dir / "etcd"
    folder.mkdir(parents=True)
    for name in ("etcd-3.crt", "etcd-3.key", "etcd-2.crt", "admin.crt"):
        (folder / name).write_text(name)
    removal = decide(facts(inv))
    assert removal.certificates == [folder / "etcd-3.crt", folder / "etcd-3.key"]
    assert sorted(p.name for p in folder.iterdir()) == ["admin.crt", "etcd-2.crt", "etcd-3.crt", "etcd-3.key"]


def test_a_host_that_is_no_member_any_more_is_only_cleaned(tmp_path):
    inv = inventory(tmp_path)
    removal = decide(facts(inv, {3: inv.ours(3, running=False)}, live=view(1, 2)))
    assert (removal.entry, removal.executor) == (None, None)
    assert removal.notes == ["10.10.10.12 (https://10.10.10.12:2380) is not a member of the cluster: only its cleanup is left"]


def test_the_leader_hands_over_to_the_most_caught_up_healthy_voter(tmp_path):
    inv = inventory(tmp_path, seqs=(1, 2, 3, 4, 5))
    # 3 is further ahead but a learner, 4 is down: 2 takes over from 5
    live = view(1, 2, entry(3, learner=True), 4, 5, leader=5, down={4}, raft={1: 240, 2: 250, 3: 260, 5: 251})
    removal = decide(facts(inv, {4: inv.ours(4, running=False)}, in_run=(5,), live=live))
    assert (removal.leader_endpoint, removal.successor) == (client_url(5), hex_id(2))
    assert removal.survivors == ",".join(client_url(seq) for seq in (1, 2, 3, 4))


def test_an_unstarted_entry_is_removed_and_is_no_survivor(tmp_path):
    inv = inventory(tmp_path, seqs=(1, 2, 3, 4))
    removal = decide(facts(inv, {4: bare()}, in_run=(3,), live=view(1, 2, 3, entry(4, started=False))))
    assert removal.executor == address(3)
    assert removal.survivors == f"{client_url(1)},{client_url(2)}"


# Refused for the cluster's sake


def test_the_last_member_is_refused(tmp_path):
    with refused("remove.refused", "remove.last", match=r"^cannot remove 10\.10\.10\.10; nothing was changed:\n  - it is the last member"):
        decide(facts(inventory(tmp_path, seqs=(1,)), in_run=(1,), live=view(1)))


def test_a_cluster_without_a_leader_is_refused(tmp_path):
    with refused("remove.refused", "cluster.unhealthy", match=refusal(r"the cluster has no leader \(no quorum\) now")):
        decide(facts(inventory(tmp_path), live=view(1, 2, 3, leader=None)))


def test_quorum_loss_counts_a_member_that_is_down(tmp_path):
    inv = inventory(tmp_path)
    with refused(
        "remove.refused", "cluster.quorum", match=refusal("after the change 1 of 2 voting members would be healthy, fewer than the quorum")
    ):
        decide(facts(inv, {2: inv.ours(2, running=False)}, live=view(1, 2, 3, down={2})))


def test_the_member_that_is_down_can_leave(tmp_path):
    inv = inventory(tmp_path)
    removal = decide(facts(inv, {3: inv.ours(3, running=False)}, live=view(1, 2, 3, down={3})))
    assert removal.entry.hex_id == hex_id(3) and removal.executor == address(3)


def test_a_learner_leaving_costs_no_voter(tmp_path):
    inv = inventory(tmp_path, seqs=(1, 2, 3, 4))
    live = view(1, 2, 3, entry(4, learner=True), down={3})
    states = {3: inv.ours(3, running=False), 4: inv.ours(4, initial_state="existing")}
    removal = decide(facts(inv, states, in_run=(4,), live=live))
    assert removal.entry.is_learner and removal.executor == address(4)


def test_the_last_voter_next_to_a_learner_is_refused(tmp_path):
    inv = inventory(tmp_path, seqs=(1, 2))
    with refused(
        "remove.refused", "cluster.quorum", match="after the change 0 of 0 voting members would be healthy, fewer than the quorum of 1"
    ):
        decide(facts(inv, in_run=(1,), live=view(1, entry(2, learner=True))))


# Through whom: a dead host's entry goes through a surviving member


def test_a_dead_host_is_removed_through_the_first_reachable_survivor_of_the_run(tmp_path):
    inv = inventory(tmp_path, seqs=(1, 2, 3, 4))
    states = {1: UNREACHABLE, 4: UNREACHABLE}
    live = view(1, 2, 3, 4, down={1, 4})
    removal = decide(facts(inv, states, in_run=(1, 2, 3), named=address(4), live=live))
    assert (removal.reachable, removal.executor) == (False, address(2))
    assert removal.warnings == ["10.10.10.13 cannot be reached: it is removed from the cluster, its cleanup is skipped"]


def test_the_host_of_an_unstarted_entry_is_no_survivor_to_remove_through(tmp_path):
    inv = inventory(tmp_path, seqs=(1, 2, 3, 4))
    live = view(entry(1, started=False), 2, 3, 4, leader=2, down={4})
    removal = decide(facts(inv, {1: bare(), 4: UNREACHABLE}, in_run=(1, 2, 3), named=address(4), live=live))
    assert removal.executor == address(2)


def test_a_dead_host_without_a_survivor_in_the_run_is_refused(tmp_path):
    with refused("remove.no_survivor", match=r"^10\.10\.10\.12 cannot be reached") as raised:
        decide(facts(inventory(tmp_path), {3: UNREACHABLE}, in_run=(), named=address(3), live=view(1, 2, 3, down={3})))
    assert raised.value.fix.startswith("Run over the whole inventory with --data etcd_remove=10.10.10.12")


def test_a_host_without_credentials_is_refused_alone(tmp_path):
    with refused("remove.no_survivor", match=r"^10\.10\.10\.12 holds no etcd credentials and no surviving member is in this run"):
        decide(facts(inventory(tmp_path), {3: bare()}))


def test_a_host_without_credentials_goes_through_a_survivor_of_a_whole_run(tmp_path):
    removal = decide(facts(inventory(tmp_path), {3: bare()}, in_run=None, named=address(3), limited=False))
    assert (removal.reachable, removal.has_credentials, removal.executor) == (True, False, address(1))
    assert removal.warnings == []


# The host alone (pyinfra @ssh/IP deploys/remove.py): its etcd.conf says the rest


def own_config(tmp_path, conf: dict, live=MEMBERS, **settings) -> OwnConfigFacts:
    return OwnConfigFacts(address(3), address(3), make_settings(tmp_path, **settings), conf, live)


def member_conf(tmp_path) -> dict:
    """etcd.conf of member pg-meta-3 (data in /var/lib/etcd), parsed."""
    inv = inventory(tmp_path / "other", cluster="pg-meta", etcd_data="/var/lib/etcd")
    return conf_values(inv.ours(3).conf)


def test_its_etcd_conf_names_the_member_cluster_and_data_dir(tmp_path):
    removal = decide(own_config(tmp_path, member_conf(tmp_path), live=view(1, 2, 3, entry(3, cluster="pg-meta"))))
    assert (removal.name, removal.peer_url, removal.settings.etcd_cluster, removal.settings.etcd_data) == (
        "pg-meta-3",
        peer_url(3),
        "pg-meta",
        "/var/lib/etcd",
    )
    assert (removal.executor, removal.entry.hex_id) == (address(3), hex_id(3))


def test_its_etcd_conf_gives_the_endpoints_to_ask_its_own_first(tmp_path):
    assert own_member(member_conf(tmp_path)) == ("pg-meta-3", peer_url(3), [client_url(3), client_url(1), client_url(2)])
    assert own_member({}) == ("", "", [])


def test_without_an_etcd_conf_there_is_nothing_to_remove(tmp_path):
    assert decide(own_config(tmp_path, {}, live=None)) is None


def test_an_etcd_running_without_an_etcd_conf_of_a_member_is_not_stopped(tmp_path):
    running = OwnConfigFacts(address(3), address(3), make_settings(tmp_path), {}, None, running=True)
    with refused("remove.not_a_member", match=r"^10\.10\.10\.12 runs an etcd, but has no /etc/etcd/etcd.conf of a member"):
        decide(running)


def test_the_own_config_form_keeps_a_data_dir_with_other_files(tmp_path):
    crowded = OwnConfigFacts(
        address(3), address(3), make_settings(tmp_path), member_conf(tmp_path), view(1, 2, 3), data_problem="the data dir holds more"
    )
    with refused("remove.foreign", match="cannot remove 10.10.10.12: the data dir holds more"):
        decide(crowded)


@pytest.mark.parametrize(
    "data_dir, problem",
    [
        ("/var/lib", "is a system folder"),
        ("/", "is a system folder"),
        ("/data/etcd/../../etc", "must be an absolute, normalised path"),
        ("member.etcd", "must be an absolute, normalised path"),
        (None, "names no data-dir"),
    ],
)
def test_the_data_dir_its_etcd_conf_names_is_checked_as_the_inventorys_before_anything_goes(tmp_path, data_dir, problem):
    conf = {key: value for key, value in member_conf(tmp_path).items() if key != "data-dir"}
    if data_dir is not None:
        conf["data-dir"] = data_dir
    with refused("remove.data_dir") as raised:
        decide(own_config(tmp_path, conf, live=view(1, 2, 3, entry(3, cluster="pg-meta"))))
    message = str(raised.value)
    shown = "" if data_dir is None else f"data-dir {data_dir!r} of "
    assert message.startswith(
        f"10.10.10.12: {shown}/etc/etcd/etcd.conf " if data_dir else "10.10.10.12: /etc/etcd/etcd.conf names no data-dir"
    )
    assert problem in message and "nothing was changed" in message


def test_keeping_the_data_the_data_dir_is_not_needed(tmp_path):
    conf = {**member_conf(tmp_path), "data-dir": "/var/lib"}
    removal = decide(own_config(tmp_path, conf, live=view(1, 2, 3, entry(3, cluster="pg-meta")), etcd_rm_data=False))
    assert removal.name == "pg-meta-3"


def test_with_an_etcd_conf_but_no_answer_it_is_refused(tmp_path):
    with refused("remove.down", match=r"^cannot remove 10\.10\.10\.12: no member of cluster `pg-meta` answers"):
        decide(own_config(tmp_path, member_conf(tmp_path), live=None))


def test_the_safeguard_refuses_the_host_alone(tmp_path):
    with refused("remove.safeguard", match=r"^etcd_safeguard is on: refusing to remove 10\.10\.10\.12"):
        decide(own_config(tmp_path, member_conf(tmp_path), etcd_safeguard=True))


# What the departing host may lose


def test_the_safeguard_of_any_host_refuses(tmp_path):
    inv = inventory(tmp_path)
    hosts = inv.hosts(None, in_run=(3,))
    hosts[inv.name(1)].settings = replace(hosts[inv.name(1)].settings, etcd_safeguard=True)
    with refused("remove.safeguard", match=r"^etcd_safeguard is on: refusing to remove 10\.10\.10\.12"):
        decide(InventoryFacts(inv.spec, hosts, None, True, MEMBERS))


@pytest.mark.parametrize("state", [foreign_etcd(), foreign_data(), squatter()], ids=["a running etcd", "data", "a listener"])
def test_a_departing_host_with_something_foreign_is_refused_and_kept(tmp_path, state):
    with refused("remove.foreign", match=r"^cannot remove 10\.10\.10\.12: it holds an etcd or data that is not this member's"):
        decide(facts(inventory(tmp_path), {3: state}, live=view(1, 2)))


def test_a_host_serving_another_cluster_is_refused(tmp_path):
    inv = inventory(tmp_path)
    with refused("remove.foreign", match=r"^cannot remove 10\.10\.10\.12: its etcd serves another cluster"):
        decide(facts(inv, {3: inv.ours(3, cluster_id=0xBEEF)}, live=view(1, 2)))


def test_a_data_dir_with_other_files_is_kept(tmp_path):
    inv = inventory(tmp_path)
    crowded = replace(inv.ours(3), data=("member", "postgres"))
    with refused("remove.foreign", match=r"holds more than etcd's member/ \(postgres\)"):
        decide(facts(inv, {3: crowded}))
    inv_keep = inventory(tmp_path, etcd_rm_data=False)
    assert decide(facts(inv_keep, {3: crowded})).clean  # the data dir is not deleted: the rest may go


def test_a_bare_departing_host_is_not_cleaned(tmp_path):
    removal = decide(facts(inventory(tmp_path), {3: bare()}, live=view(1, 2)))
    assert removal is not None and not removal.clean and removal.entry is None


def test_a_member_with_its_files_is_cleaned_after_its_removal(tmp_path):
    removal = decide(facts(inventory(tmp_path)))
    assert removal.clean and removal.entry is not None


def test_the_host_alone_is_judged_by_what_its_own_data_dir_holds(tmp_path):
    """Its etcd.conf names another data dir than the default: that one's entries are read (a
    second fact), and what else it holds keeps it."""
    inv = inventory(tmp_path / "other", cluster="pg-meta", etcd_data="/srv/etcd")
    state = inv.ours(3)
    host = FakeHost(
        {
            fact(EtcdHost, data_dir="/data/etcd", ports=(2379, 2380)): bare(conf=state.conf),  # the default: nothing there
            fact(EtcdHost, data_dir="/srv/etcd", ports=(2379, 2380)): replace(state, data=("member", "notes.txt")),
            fact(EtcdCluster, endpoint=",".join([client_url(3), client_url(1), client_url(2)])): view(1, 2, 3, entry(3, cluster="pg-meta")),
        },
        name="@ssh/10.10.10.12",
    )
    host.data = {"ssh_hostname": "10.10.10.12"}
    pyinfra_inventory = SimpleNamespace(get_group=lambda group, default=None: default, iter_activated_hosts=lambda: [host])
    with active(host):
        facts = gather(SimpleNamespace(limit_hosts=None), pyinfra_inventory)
    assert facts.data_problem.startswith("the data dir /srv/etcd holds more than etcd's member/ (notes.txt)")
    with refused("remove.foreign", match=r"cannot remove 10\.10\.10\.12: the data dir /srv/etcd holds more"):
        decide(facts)
