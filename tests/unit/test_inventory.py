"""Inventory validation: every problem is one line naming the host and the fix."""

import secrets

import pytest
from pyinfra.api import Inventory

from etcdkit.model.inventory import InventoryError, cluster_spec, default_bcrypt_cost


def inventory(hosts, pg=None, **group_data):
    others = [pg] if pg else []
    return Inventory((hosts + others, {}), etcd=(hosts, group_data), **({"pg": (others, {})} if pg else {}))


def problems(hosts, pg=None, **group_data) -> list[str]:
    with pytest.raises(InventoryError) as error:
        cluster_spec(inventory(hosts, pg, **group_data))
    return error.value.problems


def test_three_members_in_seq_order_with_urls():
    spec = cluster_spec(inventory([("10.10.10.12", {"etcd_seq": 3}), ("10.10.10.10", {"etcd_seq": 1}), ("10.10.10.11", {"etcd_seq": 2})]))
    assert [m.name for m in spec.members] == ["etcd-1", "etcd-2", "etcd-3"]
    assert spec.members[0].peer_url == "https://10.10.10.10:2380"
    assert spec.members[0].client_url == "https://10.10.10.10:2379"
    assert spec.warnings == ()


def test_group_vars_and_command_line_strings_are_coerced():
    spec = cluster_spec(inventory([("10.0.0.1", {"etcd_seq": "0", "etcd_port": "3379"})], etcd_cluster="meta"))
    assert spec.members[0].name == "meta-0" and spec.members[0].client_url == "https://10.0.0.1:3379"


def test_missing_group():
    with pytest.raises(InventoryError) as error:
        cluster_spec(Inventory((["10.0.0.1"], {})))
    assert error.value.problems == ["no hosts in group `etcd`: list the members under `etcd` with an etcd_seq each"]


def test_duplicate_seq_names_both_hosts():
    found = problems([("10.0.0.1", {"etcd_seq": 1}), ("10.0.0.2", {"etcd_seq": 1}), ("10.0.0.3", {"etcd_seq": 2})])
    assert found == ["host 10.0.0.2: etcd_seq 1 is already used by 10.0.0.1: every member needs its own etcd_seq"]


def test_missing_negative_and_non_integer_seq():
    found = problems([("10.0.0.1", {}), ("10.0.0.2", {"etcd_seq": -1}), ("10.0.0.3", {"etcd_seq": "x"})])
    assert found[0].startswith("host 10.0.0.1: etcd_seq is missing")
    assert found[1] == "host 10.0.0.2: etcd_seq -1 is negative: use an integer >= 0"
    assert found[2] == "host 10.0.0.3: etcd_seq must be an integer, not 'x'"


def test_host_names_must_be_ip_addresses():
    found = problems([("db1.example.com", {"etcd_seq": 1}), ("10.0.0.300", {"etcd_seq": 2}), ("10.0.0.3", {"etcd_seq": 3})])
    assert found == [
        "host db1.example.com: `db1.example.com` is not an IP address: name members by their IP (e.g. 10.10.10.10)",
        "host 10.0.0.300: `10.0.0.300` is not an IP address: name members by their IP (e.g. 10.10.10.10)",
    ]


def test_ssh_connector_hosts_use_their_address():
    spec = cluster_spec(inventory([("@ssh/10.10.10.12", {"etcd_seq": 3})]))
    assert spec.members[0].address == "10.10.10.12"


def test_one_cluster_per_group():
    found = problems(
        [
            ("10.0.0.1", {"etcd_seq": 1, "etcd_cluster": "a"}),
            ("10.0.0.2", {"etcd_seq": 2, "etcd_cluster": "b"}),
            ("10.0.0.3", {"etcd_seq": 3, "etcd_cluster": "a"}),
        ]
    )
    assert found == [
        "group `etcd` mixes clusters ('a' on 10.0.0.1, 10.0.0.3; 'b' on 10.0.0.2): one inventory group is one cluster, set one etcd_cluster"
    ]


def test_even_member_count_warns():
    spec = cluster_spec(inventory([("10.0.0.1", {"etcd_seq": 1}), ("10.0.0.2", {"etcd_seq": 2})]))
    assert spec.warnings == ("2 members: an even count tolerates no more failures than 1; use 3 or 5",)


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"etcd_port": 2380}, "etcd_port and etcd_peer_port are both 2380"),
        ({"etcd_port": 70000}, "etcd_port 70000 must be between 1 and 65535"),
        ({"etcd_data": "data"}, "etcd_data 'data' must be an absolute, normalised path (e.g. /data)"),
        ({"etcd_data": "/etc/../etc"}, "etcd_data '/etc/../etc' must be an absolute, normalised path (e.g. /etc)"),
        ({"etcd_data": "/data/etcd/"}, "must be an absolute, normalised path (e.g. /data/etcd)"),
        ({"etcd_data": "/var/lib"}, "etcd_data '/var/lib' is a system folder"),
        ({"etcd_data": "/data"}, "etcd_data '/data' is a system folder: give etcd a folder of its own"),
        ({"etcd_data": "/data/etcd\nx"}, "must not hold control characters"),
        ({"etcd_cluster": "etcd\n"}, "etcd_cluster 'etcd\\n' must be letters, digits"),
        ({"etcd_compaction_retention": '24h"'}, "etcd_compaction_retention '24h\"' is not valid here"),
        ({"etcd_quota_backend_bytes": 1024}, "etcd_quota_backend_bytes 1024 must be between"),
        ({"etcd_cert_days": 30}, "etcd_cert_days 30 must be between 31 and 36500 days"),
        ({"etcd_join_timeout": 0}, "etcd_join_timeout 0 must be between 5 and 3600 seconds"),
        ({"etcd_remove": "10.0.0.9; rm -rf /"}, "etcd_remove '10.0.0.9; rm -rf /' must be the IP address"),
        ({"etcd_election_timeout": 300}, "etcd_election_timeout (300 ms) must be at least 5x"),
        ({"etcd_init": "join"}, "etcd_init must be `new` or `existing`"),
        ({"etcd_root_password": "two words"}, "etcd_root_password '<hidden>' must be non-empty, without whitespace"),
        ({"etcd_safeguard": "maybe"}, "etcd_safeguard must be true or false"),
        ({"etcd_tarball": "/tmp/etcd.tar.gz"}, "etcd_tarball needs etcd_tarball_sha256"),
        ({"etcd_version": "3.5"}, "etcd_version '3.5' is not valid here (e.g. 3.5.16)"),
        ({"etcd_version": "3.5.16; reboot"}, "etcd_version '3.5.16; reboot' is not valid here"),
        ({"etcd_maintain": "compact,vacuum"}, "etcd_maintain lists vacuum: choose among compact, defrag, disarm"),
        ({"etcd_compact_keep": -1}, "etcd_compact_keep -1 must be between 0 and"),
        ({"etcd_backup_schedule": "daily\nExecStart=/bin/sh"}, "etcd_backup_schedule 'daily\\nExecStart=/bin/sh' must be one line"),
        ({"etcd_backup_schedule": "daily; reboot"}, "must be one line of systemd's OnCalendar syntax"),
        ({"etcd_backup_schedule": "%n daily"}, "must be one line of systemd's OnCalendar syntax"),  # a unit specifier
        ({"etcd_backup_schedule": " daily"}, "single spaces between words"),
        ({"etcd_backup_schedule": ""}, "must be one line of systemd's OnCalendar syntax"),
        ({"etcd_backup_dir_remote": "/var/backups"}, "etcd_backup_dir_remote '/var/backups' is a system folder"),
        ({"etcd_backup_dir_remote": "backups"}, "etcd_backup_dir_remote 'backups' must be an absolute, normalised path"),
        ({"etcd_backup_metric_dir": "/var/lib/node-exporter/"}, "etcd_backup_metric_dir '/var/lib/node-exporter/' must be an absolute"),
    ],
)
def test_bad_settings(data, expected):
    found = problems([("10.0.0.1", {"etcd_seq": 1, **data})])
    assert len(found) == 1 and found[0].startswith("host 10.0.0.1: ") and expected in found[0]


@pytest.mark.parametrize(
    "schedule", ["daily", "*-*-* 02:30:00", "Mon..Fri *-*-* 03:00", "*:0/15", "Sat,Sun 04:00 UTC", "*-*-1 02:00 Europe/Berlin"]
)
def test_backup_schedules_in_oncalendar_syntax_are_accepted(schedule):
    assert cluster_spec(inventory([("10.0.0.1", {"etcd_seq": 1, "etcd_backup_schedule": schedule})])).members


def test_all_problems_reported_at_once():
    found = problems([("10.0.0.1", {}), ("nohost", {"etcd_seq": 2})])
    assert len(found) == 2


@pytest.mark.parametrize(
    "pg_cluster, expected",
    [
        ("root", "pg_cluster 'root' is the name of an etcd user or certificate of the cluster itself"),
        ("etcd-1", "pg_cluster 'etcd-1' is the name of an etcd user or certificate of the cluster itself"),
        ("a$(id)", "pg_cluster 'a$(id)' must be letters, digits"),
        ("pg-test\n", "must be letters, digits"),
    ],
)
def test_bad_postgresql_cluster_names_are_refused(pg_cluster, expected):
    found = problems([("10.0.0.1", {"etcd_seq": 1})], pg=("10.0.0.5", {"pg_cluster": pg_cluster}))
    assert len(found) == 1 and found[0].startswith("host 10.0.0.5: ") and expected in found[0]


def test_an_ipv6_member_is_refused_with_a_clear_message():
    found = problems([("fd00::10", {"etcd_seq": 1})])
    assert found == ["host fd00::10: `fd00::10` is an IPv6 address: members need an IPv4 address (IPv6 is not supported yet)"]


BACKUPS = "give the scheduled snapshots a folder of their own, e.g. /var/backups/etcd"


@pytest.mark.parametrize(
    "backup_dir, settings, why",
    [
        ("/data/etcd", {}, "is the data dir (etcd_data /data/etcd)"),
        ("/data/etcd/snapshots", {}, "lies inside the data dir (etcd_data /data/etcd)"),
        ("/srv/etcd", {"etcd_data": "/srv/etcd/data"}, "contains the data dir (etcd_data /srv/etcd/data)"),
        ("/etc/etcd", {}, "is etcd's configuration folder (/etc/etcd)"),
        ("/etc/etcd/users", {}, "lies inside etcd's configuration folder (/etc/etcd)"),
        ("/etc/etcd-client", {}, "is the clients' folder of etcdkit (/etc/etcd-client)"),
        (
            "/var/lib/prometheus/node-exporter",
            {},
            "is the node exporter's textfile folder (etcd_backup_metric_dir /var/lib/prometheus/node-exporter)",
        ),
        (
            "/var/lib/prometheus",
            {},
            "contains the node exporter's textfile folder (etcd_backup_metric_dir /var/lib/prometheus/node-exporter)",
        ),
        ("/etc/systemd/system", {}, "is systemd's unit folder (/etc/systemd/system)"),
        ("/usr/local/bin/backups", {}, "lies inside the folder of a release tarball's binaries (/usr/local/bin)"),
        ("/etc/prometheus/etcd", {}, "lies inside Prometheus' folder (prometheus_dir /etc/prometheus)"),
    ],
)
def test_a_backup_folder_that_etcdkit_uses_for_something_else_is_refused(backup_dir, settings, why):
    found = problems([("10.0.0.1", {"etcd_seq": 1, **settings})], etcd_backup_schedule="daily", etcd_backup_dir_remote=backup_dir)
    assert found == [f"host 10.0.0.1: etcd_backup_dir_remote {backup_dir!r} {why}: {BACKUPS}"]


def test_a_backup_folder_of_its_own_or_no_schedule_passes():
    cluster_spec(inventory([("10.0.0.1", {"etcd_seq": 1})], etcd_backup_schedule="daily", etcd_backup_dir_remote="/srv/etcd-backups"))
    cluster_spec(inventory([("10.0.0.1", {"etcd_seq": 1})], etcd_backup_schedule="daily"))  # /var/backups/etcd
    cluster_spec(inventory([("10.0.0.1", {"etcd_seq": 1})], etcd_backup_dir_remote="/data/etcd"))  # no schedule: never touched


def test_members_named_lost_must_be_members_of_the_group():
    members = [("10.0.0.1", {"etcd_seq": 1}), ("10.0.0.2", {"etcd_seq": 2}), ("10.0.0.3", {"etcd_seq": 3})]
    assert cluster_spec(inventory(members, etcd_recover_lost="10.0.0.2,10.0.0.3")).members
    assert problems(members, etcd_recover_lost="10.0.0.2,10.0.0.9") == [
        "host 10.0.0.1: etcd_recover_lost names 10.0.0.9, which is not a member of group `etcd`: "
        "name the members gone for good by their inventory address"
    ]
    found = problems(members, etcd_recover_lost="10.0.0.2;reboot")
    assert found == [
        f"host {h}: etcd_recover_lost lists '10.0.0.2;reboot': name each member gone for good by its IP address" for h, _ in members
    ]


MEMBERS = [("10.0.0.1", {"etcd_seq": 1}), ("10.0.0.2", {"etcd_seq": 2}), ("10.0.0.3", {"etcd_seq": 3})]


def test_the_bcrypt_cost_is_the_members_etcd_bcrypt_cost_else_unset():
    assert cluster_spec(inventory(MEMBERS)).bcrypt_cost is None  # read_hosts decides it from the passwords
    assert cluster_spec(inventory(MEMBERS, etcd_bcrypt_cost="10")).bcrypt_cost == 10


@pytest.mark.parametrize(
    ("passwords", "cost"),
    [
        ([None], 4),  # root's, which etcdkit is about to generate
        ([secrets.token_urlsafe(24), secrets.token_urlsafe(18)], 4),  # generated: 32 and 24 characters
        ([secrets.token_urlsafe(24), "Etcd.Root"], None),  # one a site chose: etcd's default
        (["correct horse battery staple"], 4),  # a long passphrase
        (["x" * 23], None),
    ],
)
def test_the_least_bcrypt_cost_only_when_every_password_is_long(passwords, cost):
    assert default_bcrypt_cost(passwords) == cost


def test_one_bcrypt_cost_for_the_cluster_and_within_bcrypts_range():
    differing = [("10.0.0.1", {"etcd_seq": 1, "etcd_bcrypt_cost": 4}), ("10.0.0.2", {"etcd_seq": 2, "etcd_bcrypt_cost": 12})]
    assert problems(differing) == ["etcd_bcrypt_cost differs between the members (4, 12): set one value for the cluster"]
    assert any("etcd_bcrypt_cost" in problem and "between 4 and 31" in problem for problem in problems(MEMBERS, etcd_bcrypt_cost=3))
