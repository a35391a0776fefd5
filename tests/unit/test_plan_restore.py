"""restore's decisions: every refusal, before any change, and the new cluster it builds."""

import hashlib
import json

import pytest

from etcdkit.model import paths
from etcdkit.model.refusals import Refusal
from etcdkit.plans.restore import RestoreFacts, SnapshotFile, decide, read_snapshot
from tests.unit.plans_data import (
    NO_MONITORS,
    UNREACHABLE,
    address,
    bare,
    control,
    foreign_etcd,
    inventory,
    monitors,
    squatter,
)

NOW = "20250102T080000Z"
CONTENT = b"a snapshot"


def snapshot_file(tmp_path, sidecar: dict | None = None, content: bytes = CONTENT) -> SnapshotFile:
    """A snapshot in tmp_path/backups and its sidecar (default: one that matches), as restore reads them."""
    folder = tmp_path / "backups"
    folder.mkdir(exist_ok=True)
    path = folder / "etcd-20250101T120000Z.db"
    path.write_bytes(content)
    about = {"cluster": "etcd", "sha256": hashlib.sha256(CONTENT).hexdigest(), "size": len(CONTENT)}
    path.with_suffix(".json").write_text(json.dumps(about if sidecar is None else sidecar))
    return read_snapshot(str(path))


def facts(inv, snapshot, states=None, root="r00t", in_run=None, monitored=NO_MONITORS) -> RestoreFacts:
    states = {seq: bare() for seq in (1, 2, 3)} | (states or {})
    return RestoreFacts(inv.spec, inv.hosts(states, in_run=in_run), snapshot, control(root=root), monitored, NOW)


def refusal(plan_facts, code: str | None = None) -> str:
    """The text of decide's refusal, whose codes include `code`."""
    with pytest.raises(Refusal) as refused:
        decide(plan_facts)
    assert code is None or code in refused.value.codes, refused.value.codes
    return str(refused.value)


def test_a_snapshot_must_be_named(tmp_path):
    assert refusal(facts(inventory(tmp_path), None)).startswith("name the snapshot to restore: --data etcd_restore=")


def test_a_missing_snapshot_is_refused(tmp_path):
    missing = read_snapshot(str(tmp_path / "backups" / "etcd-20250101T120000Z.db"))
    assert f"the snapshot {missing.path} does not exist on the control node" in refusal(
        facts(inventory(tmp_path), missing), "restore.missing"
    )


def test_a_snapshot_without_its_sidecar_is_refused(tmp_path):
    snapshot = snapshot_file(tmp_path)
    snapshot.path.with_suffix(".json").write_text("{not json")
    assert "etcd-20250101T120000Z.json is missing or not JSON" in refusal(facts(inventory(tmp_path), read_snapshot(str(snapshot.path))))
    snapshot.path.with_suffix(".json").unlink()
    assert "is missing or not JSON" in refusal(facts(inventory(tmp_path), read_snapshot(str(snapshot.path))))


@pytest.mark.parametrize("content", [b"a snapshoT", b"a snapshot!", b""], ids=["other bytes", "longer", "empty"])
def test_a_snapshot_that_is_not_what_its_sidecar_says_is_refused(tmp_path, content):
    message = refusal(facts(inventory(tmp_path), snapshot_file(tmp_path, content=content)), "restore.damaged")
    assert "is not the file its sidecar describes" in message and "it is damaged or another file; nothing was changed" in message


@pytest.mark.parametrize(
    "state, reason",
    [
        (UNREACHABLE, "cannot be reached over SSH: every member is restored together"),
        (
            "running",
            "etcd runs there: restore builds a new cluster and never replaces a running one; destroy it first with deploys/destroy.py",
        ),
        (foreign_etcd(), "etcd runs there"),
        (squatter(), "another process listens on port 2379 or 2380: stop it first"),
        (
            "stopped",
            "the data dir /data/etcd holds member data, which restore never overwrites: if it is this cluster's, deploys/destroy.py",
        ),
        (bare(data=["member", "lost+found"]), "the data dir /data/etcd holds member data, which restore never overwrites"),
    ],
    ids=["unreachable", "running member", "foreign etcd", "listener", "stopped member", "member data"],
)
def test_a_host_that_cannot_take_the_restore_is_refused(tmp_path, state, reason):
    inv = inventory(tmp_path)
    state = {"running": inv.ours(2), "stopped": inv.ours(2, running=False)}.get(state, state) if isinstance(state, str) else state
    message = refusal(facts(inv, snapshot_file(tmp_path), {2: state}))
    assert message.startswith("cannot restore cluster `etcd` from ")
    assert f"\n  - {address(2)}: {reason}" in message
    assert not inv.pki_dir.exists()


def test_a_running_cluster_is_refused_on_every_host(tmp_path):
    inv = inventory(tmp_path)
    message = refusal(facts(inv, snapshot_file(tmp_path), {seq: inv.ours(seq) for seq in (1, 2, 3)}))
    assert [line[4:15] for line in message.splitlines() if "destroy it first with deploys/destroy.py" in line] == [
        address(1),
        address(2),
        address(3),
    ]


def test_a_partial_run_is_refused(tmp_path):
    message = refusal(facts(inventory(tmp_path), snapshot_file(tmp_path), in_run=[1]))
    assert "restore takes the whole cluster, but the run leaves out 10.10.10.11, 10.10.10.12: run it without --limit" in message


def test_a_control_node_without_a_root_password_is_refused(tmp_path):
    message = refusal(facts(inventory(tmp_path), snapshot_file(tmp_path), root=None))
    assert "the control node has no root password for `etcd`" in message
    assert "set etcd_root_password to the root password the cluster had when the snapshot was taken" in message


def test_bare_hosts_get_a_new_cluster_from_the_snapshot(tmp_path):
    inv = inventory(tmp_path)
    monitored = monitors(tmp_path, "10.10.10.20")
    plan = decide(facts(inv, snapshot_file(tmp_path), {2: bare(data=[]), 3: inv.ours(3, running=False, data=False)}, monitored=monitored))
    assert plan.snapshot == (tmp_path / "backups" / "etcd-20250101T120000Z.db").resolve()
    assert plan.token == "etcd-restored-20250102T080000Z"
    assert plan.initial_cluster == ",".join(f"etcd-{seq}=https://{address(seq)}:2380" for seq in (1, 2, 3))
    assert list(plan.members) == [address(1), address(2), address(3)]
    for seq in (1, 2, 3):
        assert plan.members[address(seq)].files == inv.files(seq, token=plan.token)  # as create renders them
    assert (plan.control_host, plan.check_host) == (address(1), address(1))
    assert [r.name for r in plan.control.certificates] == ["etcd-1", "etcd-2", "etcd-3", "monitor", "admin"]
    assert "initial-cluster-token: etcd-restored-20250102T080000Z" in plan.members[address(1)].files[paths.CONF]
    assert "the cluster had when it was taken" in plan.root_refused
    assert plan.monitoring.hosts == ["10.10.10.20"] and plan.warnings == []
    assert not inv.pki_dir.exists()  # the snapshot folder is the test's own


def test_with_a_site_targets_folder_the_restored_members_are_targets_and_no_monitor_certificate_is_issued(tmp_path):
    inv = inventory(tmp_path)
    monitored = monitors(tmp_path, "10.10.10.20", etcd_monitor_target_dir="/infra/targets/etcd")
    plan = decide(facts(inv, snapshot_file(tmp_path), {2: bare(data=[]), 3: bare(data=[])}, monitored=monitored))
    assert (plan.monitoring.target_dir, plan.monitoring.certificate) == ("/infra/targets/etcd", None)
    assert sorted(plan.monitoring.targets) == ["etcd-1.yml", "etcd-2.yml", "etcd-3.yml"]
    assert [r.name for r in plan.control.certificates] == ["etcd-1", "etcd-2", "etcd-3", "admin"]


def test_a_snapshot_of_another_cluster_is_refused_unless_its_cluster_is_named(tmp_path):
    sidecar = {"cluster": "old", "sha256": hashlib.sha256(CONTENT).hexdigest(), "size": len(CONTENT)}
    message = refusal(facts(inventory(tmp_path), snapshot_file(tmp_path, sidecar)), "restore.other_cluster")
    assert "\n  - etcd-20250101T120000Z.db is a snapshot of cluster `old`, not of `etcd`" in message
    assert "name its cluster for this run: --data etcd_restore_from=old\n" in message
    assert "etcd_restore_from=old" in refusal(facts(inventory(tmp_path, etcd_restore_from="staging"), snapshot_file(tmp_path, sidecar)))
    plan = decide(facts(inventory(tmp_path, etcd_restore_from="old"), snapshot_file(tmp_path, sidecar)))
    assert plan.warnings == ["etcd-20250101T120000Z.db is a snapshot of cluster `old`: restoring it as `etcd` (etcd_restore_from)"]


def test_a_sidecar_that_names_no_cluster_is_refused(tmp_path):
    sidecar = {"sha256": hashlib.sha256(CONTENT).hexdigest(), "size": len(CONTENT)}
    assert "etcd-20250101T120000Z.json names no cluster" in refusal(facts(inventory(tmp_path), snapshot_file(tmp_path, sidecar)))


@pytest.mark.parametrize(
    "conf, said",
    [
        ("name: other-7\ndata-dir: /data/other\n", "configured as member other-7 with data in /data/other"),
        ("name: etcd-3\ndata-dir: /data/etcd\n", "configured as member etcd-3 with data in /data/etcd"),
        ("name: etcd-2\ndata-dir: /var/lib/etcd\n", "configured as member etcd-2 with data in /var/lib/etcd"),
    ],
    ids=["another cluster's", "another member's", "another data dir"],
)
def test_a_host_whose_stopped_etcd_is_configured_as_another_member_is_refused(tmp_path, conf, said):
    inv = inventory(tmp_path)
    message = refusal(facts(inv, snapshot_file(tmp_path), {2: bare(conf=conf)}))
    assert f"\n  - {address(2)}: its stopped etcd is {said} (/etc/etcd/etcd.conf), not as etcd-2 with data in /data/etcd" in message
    assert f"move its file away (`mv /etc/etcd/etcd.conf /etc/etcd/etcd.conf.old` on {address(2)})" in message
    # the same member, stopped, with no data: it is restored
    decide(facts(inv, snapshot_file(tmp_path), {2: bare(conf="name: etcd-2\ndata-dir: /data/etcd\n")}))
