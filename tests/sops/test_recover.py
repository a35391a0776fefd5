"""Disaster recovery on lab nodes: refused while the cluster has quorum, for a member named lost that
answers, and for a member cut off from a healthy majority; a stopped member with newer data chosen
over a running one; a survivor that restarted without quorum found from its disk; and every time
the whole inventory's cluster at the end, every write the survivor had applied readable.

Tests run in order on one lab: each starts from what the previous one left.
"""

import json
import re
import time

import pytest

from tests.helpers import control_node_state, deploy, etcdctl, host_state, lab, main_pids, members, script, ssh, typed
from tests.writer import PREFIX, Writer

pytestmark = pytest.mark.etcd("3.5.30", "create", "recover", "join")

NODES = ["10.10.10.10", "10.10.10.11", "10.10.10.12"]
LOST_3 = ("--data", "etcd_recover_lost=10.10.10.12", "--exclude", "10.10.10.12")
# the preview's line of the survivor, read from its disk
SURVIVOR = r"  {name} \({address}\): {state}: revision (\d+) \(a copy of its database\)  <- the newest data: the survivor"


@pytest.fixture(scope="module", autouse=True)
def cluster():
    lab("up", "-n", "3")
    lab("reset", "1", "2", "3")
    deploy("create")


def stored(address: str) -> set[int]:
    keys = etcdctl(address, f"get {PREFIX} --prefix --keys-only").stdout.split()
    return {int(key[len(PREFIX) :]) for key in keys if key.startswith(PREFIX)}


def written_before_the_outage(addresses: list[str]) -> set[int]:
    """A few seconds of the writer; then the members apply what the cluster committed."""
    with Writer(addresses) as writer:
        time.sleep(3)
    time.sleep(1)
    assert writer.acknowledged()
    return writer.acknowledged()


def healthy_voters(address: str) -> list[str]:
    """The names of the started voters, when every member is healthy."""
    health = json.loads(etcdctl(address, "endpoint health --cluster -w json").stdout)
    assert [h["health"] for h in health] == [True] * len(health)
    listed = members(address)
    assert all(m.get("name") and not m.get("isLearner") for m in listed)
    return sorted(m["name"] for m in listed)


def not_serving(address: str) -> None:
    """Wait until etcd runs on the host and does not serve (no quorum since it started: its unit
    stays `activating`, as etcd tells systemd it is ready only once it has quorum)."""
    deadline = time.monotonic() + 30
    while ssh(address, "systemctl is-active etcd", check=False).stdout.strip() != "activating" and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2)  # it has read its data
    # its client port takes connections, but answers nothing: not even its metrics
    metrics = (
        "printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' | timeout 3 openssl s_client -quiet "
        f"-connect {address}:2379 -CAfile /etc/etcd/ca.crt -cert /etc/etcd/server.crt -key /etc/etcd/server.key 2>/dev/null"
    )
    assert "etcd_server_has_leader" not in ssh(address, metrics, check=False).stdout, "etcd serves its client port: it has quorum"


def test_recover_is_refused_while_the_cluster_has_quorum():
    before = {address: host_state(address) for address in NODES}
    with Writer(NODES) as writer:
        run = deploy("recover", check=False)
    assert run.returncode != 0 and not run.executed
    assert "the cluster has a leader: etcd-1 (10.10.10.10, seen by itself" in run.stderr
    assert "so it has quorum. recover is only for a cluster that lost its quorum for good" in run.stderr
    assert {address: host_state(address) for address in NODES} == before
    counts = writer.counts(NODES[0])
    assert counts.acknowledged > 0 and counts.lost == 0


def test_a_member_named_lost_that_answers_is_refused():
    before = {address: host_state(address) for address in NODES}
    with Writer(NODES) as writer:
        run = deploy("recover", *LOST_3, check=False)
    assert run.returncode != 0 and not run.executed
    assert "10.10.10.12 is named lost (etcd_recover_lost), but it answers over SSH" in run.stderr
    assert {address: host_state(address) for address in NODES} == before
    counts = writer.counts(NODES[0])
    assert counts.acknowledged > 0 and counts.lost == 0


def test_a_member_cut_off_from_a_healthy_majority_is_never_forced():
    """Node 1 cut from nodes 2 and 3, and the control node's SSH to nodes 2 and 3 dropped: it sees
    node 1 alone, without a leader. Refused; named lost, nodes 2 and 3 are still seen with their
    leader on their client ports. Nothing changes anywhere, and the majority serves throughout."""
    pids = main_pids(NODES)
    before = host_state(NODES[0])
    lab("partition", "1", "2", "3")
    lab("block-ssh", "2")
    lab("block-ssh", "3")
    try:
        time.sleep(3)  # node 1 loses its leader
        with Writer(NODES[1:]) as writer:
            unnamed = deploy("recover", check=False)
            named = deploy("recover", "--data", "etcd_recover_lost=10.10.10.11,10.10.10.12", check=False)
        assert host_state(NODES[0]) == before
    finally:
        for node in ("1", "2", "3"):
            lab("heal", node)
    assert unnamed.returncode != 0 and not unnamed.executed
    assert "10.10.10.11 cannot be reached over SSH, and recover must account for every member" in unnamed.stderr
    assert named.returncode != 0 and not named.executed
    assert (
        "10.10.10.11 is named lost (etcd_recover_lost), but its etcd answers at https://10.10.10.11:2379 (seen from the control node)"
        in (named.stderr)
    )
    assert "the cluster has a leader: etcd-2 (10.10.10.11, seen by the control node)" in named.stderr
    assert main_pids(NODES) == pids
    counts = writer.counts(NODES[1])
    assert counts.acknowledged > 0 and counts.lost == 0
    assert healthy_voters(NODES[0]) == ["etcd-1", "etcd-2", "etcd-3"]


def test_a_stopped_member_with_newer_data_survives_over_a_running_one():
    """etcd-1 stops first; the writer goes on through etcd-2 and etcd-3; then etcd-2 stops (the
    newest data), node 3 dies for good, and etcd-1 starts again without quorum (it never serves).
    recover picks etcd-2 from its disk, keeps its data, and joins etcd-1 back; node 3, named lost,
    joins later with bin/etcd-add."""
    ssh(NODES[0], "systemctl stop etcd")
    written = written_before_the_outage(NODES[1:])
    ssh(NODES[1], "systemctl stop etcd")
    lab("stop", "3")
    ssh(NODES[0], "systemctl start --no-block etcd")
    not_serving(NODES[0])
    run = typed("deploys/recover.py", *LOST_3)  # as an operator types it: the preview, then Enter
    assert run.returncode == 0, run.stderr[-5000:]
    older = re.search(r"  etcd-1 \(10\.10\.10\.10\): running, not serving: revision (\d+) \(a copy of its database\)\n", run.stderr)
    newer = re.search(SURVIVOR.format(name="etcd-2", address=r"10\.10\.10\.11", state="stopped"), run.stderr)
    assert older and newer and int(older[1]) < int(newer[1]), run.stderr
    assert "  etcd-3 (10.10.10.12): named lost (etcd_recover_lost)" in run.stderr
    assert healthy_voters(NODES[1]) == ["etcd-1", "etcd-2"]
    assert written <= stored(NODES[0])  # every write etcd-2 had applied, read through the member that joined again
    lab("reset", "3")  # node 3 comes back with a fresh disk
    with Writer(NODES[:2]) as writer:
        script("etcd-add", NODES[2], nodes="1,2,3")
    counts = writer.counts(NODES[2])
    assert counts.acknowledged > 0 and counts.lost == 0
    assert healthy_voters(NODES[2]) == ["etcd-1", "etcd-2", "etcd-3"]
    assert written <= stored(NODES[2])


def test_a_restarted_survivor_is_found_and_the_whole_cluster_rebuilt_in_one_run():
    """Nodes 2 and 3 lose their disks; etcd-1 is restarted and, without quorum, never serves.
    recover finds it from its disk, makes it the cluster again, joins nodes 2 and 3 one at a time
    and reloads: 3 healthy voters at the end, every write back, in one run."""
    written = written_before_the_outage(NODES)
    for node in ("2", "3"):
        lab("stop", node)
    lab("reset", "2", "3")
    ssh(NODES[0], "systemctl restart --no-block etcd")
    not_serving(NODES[0])
    before = {address: host_state(address) for address in NODES}, control_node_state()
    refused = deploy("recover", "--data", "etcd_recover_lost=10.10.10.11", check=False)
    assert refused.returncode != 0 and "10.10.10.11 is named lost (etcd_recover_lost), but it answers over SSH" in refused.stderr
    dry = typed("deploys/recover.py", "--dry")
    assert dry.returncode == 0, dry.stderr[-5000:]
    assert "Make etcd-1 a one-member cluster of its data (force-new-cluster, once)" in dry.stderr
    assert "Join this member again (the join SOP, one member at a time)" in dry.stderr
    assert ({address: host_state(address) for address in NODES}, control_node_state()) == before
    started = time.monotonic()
    with Writer(NODES) as writer:  # nothing is written until the survivor serves; nothing acknowledged is lost
        run = deploy("recover")
        took = time.monotonic() - started
    print(f"recover of 3 members (survivor alone, 2 joins, reload): {took:.1f} s")
    assert re.search(SURVIVOR.format(name="etcd-1", address=r"10\.10\.10\.10", state="running, not serving"), run.stderr), run.stderr
    assert "recover: `etcd` runs on etcd-1, etcd-2, etcd-3, every one a started voter, its clients reloaded" in run.stderr
    assert healthy_voters(NODES[2]) == ["etcd-1", "etcd-2", "etcd-3"]
    assert written <= stored(NODES[2])
    counts = writer.counts(NODES[1])
    assert counts.acknowledged > 0 and counts.lost == 0
    assert "force-new-cluster" not in ssh(NODES[0], "cat /etc/etcd/etcd.conf; systemctl cat etcd").stdout
    for address in NODES:
        env = ssh(address, "cat /etc/profile.d/etcdctl.sh").stdout
        assert all(node in env for node in NODES), env  # the reload of the same run
    again = deploy("recover", check=False)
    assert again.returncode != 0 and "so it has quorum" in again.stderr
    assert deploy("create").changed == {}
