"""URLs the members advertise come from the members themselves: only https://<IPv4 address or DNS
name>:<port> is used, any other is named with its member and stops every SOP that changes
something, and the URLs that reach a shell are quoted there (run for real here, with sh)."""

import subprocess

import pytest
from etcdkit.facts.etcd import EtcdUser
from pyinfra.facts.files import File, Sha256File

from etcdkit.model import paths
from etcdkit.model.cluster import ClusterView, url_problem
from etcdkit.operations.files import upload
from etcdkit.plans.gather import usable
from etcdkit.plans.status import find_problems
from etcdkit.remote.etcdctl import etcdctl, wait_healthy
from etcdkit.remote.memberfiles import etcdctl_env
from tests.unit import plans_data
from tests.unit.fake_host import FakeHost, run, shell

EVIL = "https://$(touch pwned):2379"


@pytest.mark.parametrize(
    "url",
    ["https://10.10.10.10:2379", "https://etcd-1.example.com:2379", "https://localhost:1", "https://a.b-c.d:65535"],
)
def test_the_urls_etcdkit_gives_members_are_used(url):
    assert url_problem(url) is None


@pytest.mark.parametrize(
    "url, problem",
    [
        (EVIL, "not https://<IPv4 address or DNS name>:<port>"),
        ("http://10.10.10.10:2379", "not https://"),
        ("https://10.10.10.10", "not https://"),
        ("https://10.10.10.10:2379/path", "not https://"),
        ("https://user@10.10.10.10:2379", "not https://"),
        ("https://[::1]:2379", "not https://"),
        ("https://10.10.10.10:2379\n", "not https://"),
        ("https://10.10.10.10:0", "port 0 is not between 1 and 65535"),
        ("https://10.10.10.10:70000", "port 70000 is not between 1 and 65535"),
        ("https://10.10.10.256:2379", "10.10.10.256 is not an IPv4 address"),
        ("https://010.10.10.10:2379", "010.10.10.10 is not an IPv4 address"),
        ("https://-etcd.example:2379", "-etcd.example is not a DNS name"),
        ("https://etcd..example:2379", "etcd..example is not a DNS name"),
        ("https://etcd.123:2379", "etcd.123 is not a DNS name"),
    ],
)
def test_any_other_url_is_refused_with_why(url, problem):
    assert problem in url_problem(url)


def evil_view() -> ClusterView:
    third = {**plans_data.entry(3), "clientURLs": [plans_data.client_url(3), EVIL]}
    return plans_data.view(1, 2, third)


def test_a_member_list_with_a_url_of_another_form_names_the_member_and_leaves_the_url_out():
    view = evil_view()
    third = view.members[2]
    assert view.refused_urls == (
        f"member etcd-3 ({third.hex_id}) advertises the client URL {EVIL!r}: not https://<IPv4 address or DNS name>:<port>",
    )
    assert third.client_urls == (plans_data.client_url(3),)  # only the URL of the form reaches anything
    assert all(EVIL not in url for member in view.members for url in (*member.peer_urls, *member.client_urls))
    assert plans_data.view(1, 2, 3).refused_urls == ()


def test_a_peer_url_of_another_form_is_refused_too():
    pending = {"ID": plans_data.member_id(4), "peerURLs": ["https://10.10.10.13:2380;reboot"]}
    view = plans_data.view(1, 2, 3, pending)
    assert view.refused_urls == (
        f"member (no name yet) ({plans_data.member_id(4):x}) advertises the peer URL 'https://10.10.10.13:2380;reboot': "
        "not https://<IPv4 address or DNS name>:<port>",
    )
    assert view.members[3].peer_urls == ()


def test_every_sop_that_changes_something_stops_on_it_before_any_change():
    with plans_data.refused("cluster.urls") as refused:
        usable(evil_view())
    message = str(refused.value)
    assert "member etcd-3" in message and repr(EVIL) in message and "nothing was changed" in message
    assert "etcdctl member remove" in message  # the way out
    assert usable(plans_data.view(1, 2, 3)) is not None and usable(None) is None


def test_the_status_reports_it_as_a_problem():
    doc = {"cluster_id": "1", "leader": "etcd-1", "hosts": [], "members": [], "refused_urls": evil_view().refused_urls}
    assert any("advertises the client URL" in p["message"] and p["severity"] == 1 for p in find_problems(doc))


def sh(script: str, cwd) -> str:
    return subprocess.run(["sh", "-c", script], cwd=cwd, capture_output=True, text=True, check=True).stdout


def test_etcdctl_gets_endpoints_as_one_word_and_runs_nothing_in_them(tmp_path):
    # etcdctl stands in as a shell function that prints the words it gets
    words = sh(
        "etcdctl() { printf '%s\\n' \"$@\"; }; " + etcdctl(f"https://10.10.10.10:2379,{EVIL}").get_raw_value() + " member list", tmp_path
    )
    assert words.splitlines()[0] == f"--endpoints=https://10.10.10.10:2379,{EVIL}"
    assert not (tmp_path / "pwned").exists()
    given_up = (
        wait_healthy(EVIL, False, 0).get_raw_value().replace("until ", "until false && ", 1)
    )  # the message of a member that never serves
    failed = subprocess.run(["sh", "-c", given_up], cwd=tmp_path, capture_output=True, text=True)
    assert f"etcd at {EVIL} is not healthy after 0 s" in failed.stderr and not (tmp_path / "pwned").exists()


def test_a_login_user_name_reaches_etcdctl_as_it_is_and_runs_nothing(tmp_path):
    """The name was put inside double quotes, where $(...) runs: now a quoted word before the password."""
    (tmp_path / "pass").write_text("s3cret")
    login = etcdctl("https://10.10.10.10:2379", login=("pg$(touch pwned)`touch pwned`", str(tmp_path / "pass")))
    seen = sh('etcdctl() { printf "%s\\n" "$ETCDCTL_USER"; }; ' + login.get_raw_value() + " get x", tmp_path)
    assert seen == "pg$(touch pwned)`touch pwned`:s3cret\n" and not (tmp_path / "pwned").exists()


def test_the_etcdctl_environment_of_a_root_login_runs_nothing_it_holds(tmp_path):
    env = tmp_path / "etcdctl.sh"
    env.write_text(etcdctl_env("etcd", f"https://10.10.10.10:2379,{EVIL}", paths.CA, paths.CERT, paths.KEY, paths.PASS))
    assert sh(f'. {env} && printf "%s\\n" "$ETCDCTL_ENDPOINTS"', tmp_path) == f"https://10.10.10.10:2379,{EVIL}\n"
    assert not (tmp_path / "pwned").exists()


def test_an_upload_quotes_its_destination_for_chown_and_chmod():
    host = FakeHost({})
    dest = "/etc/etcd-client/a b;$(touch pwned).pass"
    host.set(File, {"user": "root", "group": "root", "mode": 644}, path=dest)
    host.set(Sha256File, "0" * 64, path=dest)
    commands = shell(run(upload, source="x", dest=dest, user="root", group="root", mode="600", host=host, executing=True))
    assert (
        commands[-1] == "chown root:root '/etc/etcd-client/a b;$(touch pwned).pass' && chmod 600 '/etc/etcd-client/a b;$(touch pwned).pass'"
    )


def test_a_client_users_prefix_and_name_reach_grep_as_words(tmp_path):
    command = (
        EtcdUser()
        .command(endpoint="https://10.10.10.10:2379", user="pg.test", prefix="/pg/a'b $(touch pwned)/", password_file="/x")
        .get_raw_value()
    )
    assert "grep -cF -- '(prefix /pg/a'\"'\"'b $(touch pwned)/)'" in command
    assert "name=pg.test\n" in command and 'grep -qxF -- "$name"' in command  # a whole word, '.' no wildcard
