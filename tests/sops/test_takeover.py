"""Taking over a cluster that Pigsty built: three members laid out as Pigsty's etcd role lays them
out, then create run with the site's CA and root password under the continuous writer: the
cluster ID and every key kept, no acknowledged write lost, the preview naming the restarts, the
units it replaces and the packages it keeps; then join, remove and reload on it.

Two members are built as today's role (Pigsty v4.5) builds them: etcd from the package `etcd` of the
site's own repository (a look-alike made here with dpkg-deb from the lab's etcd 3.5.30, newer than
trixie's 3.5.16), or the same binaries copied into /usr/bin by hand, no package knowing them; its unit
in /etc/systemd/system; the 8 GiB quota; no log keys (etcd logs to the journal). The third is built as
the older role built it: Debian's etcd-server, the unit in the distribution's unit folder, a 16 GiB
quota and a log file. All of them: the role's etcd.conf keys, modes and token, RSA certificates from a
site CA made with openssl, root password `Etcd.Root`. create must install no second etcd on any of
them and replace none.

Node1 is also the site's monitoring host (Pigsty's `infra` group): its own job reads the members'
target files from /infra/targets/etcd, which etcdkit keeps equal to the members (etcd_monitor_target_dir)
without writing a job, TLS files or rules of its own.

Tests run in order on one lab: each starts from what the previous one left.
"""

import json
import re
import shlex
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from lab import config
from tests.helpers import ROOT, deploy, etcdctl, lab, main_pids, script, ssh, typed
from tests.writer import Writer

pytestmark = pytest.mark.etcd("3.5.30", "create", "join", "remove", "reload")

NODES = ["10.10.10.10", "10.10.10.11", "10.10.10.12"]
NEW = "10.10.10.13"
INITIAL = ",".join(f"etcd-{i + 1}=https://{address}:2380" for i, address in enumerate(NODES))
TARGETS = "/infra/targets/etcd"  # Pigsty's: one <cluster>-<seq>.yml per member, read by its `etcd` job
INVENTORY = Path("/tmp/etcdkit-test-takeover-inventory.py")


def inventory(members: list[str]) -> str:
    """The site's inventory: the members, and node1 in the monitoring group `infra`."""
    listed = ", ".join(f"({a!r}, {{'etcd_seq': {i + 1}}})" for i, a in enumerate(members))
    INVENTORY.write_text(f"etcd = ([{listed}], {{'etcd_cluster': 'etcd'}})\ninfra = ([{NODES[0]!r}], {{}})\n")
    return str(INVENTORY)


def pigsty_target(number: int, address: str, cluster: str = "etcd") -> str:
    return f"# {cluster}-{number} @ {address}\n- labels: {{ ip: {address} , ins: {cluster}-{number} , cls: {cluster} }}\n  targets: [ {address}:2379 ]\n"


def targets() -> dict[str, dict]:
    """The target files on the monitoring host: file name -> labels."""
    listing = ssh(NODES[0], f'cd {TARGETS} && for f in *.yml; do echo "$f"; done').stdout.split()
    return {name: yaml.safe_load(ssh(NODES[0], f"cat {TARGETS}/{name}").stdout)[0]["labels"] for name in listing}


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def site_pki(folder: Path) -> Path:
    """Pigsty's files/pki: an RSA CA, and a member certificate per node (CN and DNS name the member's)."""
    ca = folder / "ca"
    ca.mkdir(parents=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "7300", "-subj", "/O=pigsty/CN=pigsty-ca",
            "-keyout", "ca.key", "-out", "ca.crt", cwd=ca)  # fmt: skip
    for number, address in enumerate(NODES, 1):
        name = f"etcd-{number}"
        (folder / f"{name}.ext").write_text(f"subjectAltName=IP:127.0.0.1,DNS:localhost,IP:{address},DNS:{name}\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/O=pigsty/OU=etcd/CN={name}", "-keyout", f"{name}.key",
                "-out", f"{name}.csr", cwd=folder)  # fmt: skip
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca/ca.crt", "-CAkey", "ca/ca.key", "-CAcreateserial", "-days", "7300",
                "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=folder)  # fmt: skip
    return folder


def pigsty_conf(number: int, address: str, older: bool = False) -> str:
    """etcd.conf as Pigsty's role writes it: today's (8 GiB, no log keys), or an older release's (16
    GiB, a log file with rotation)."""
    conf = textwrap.dedent(f"""\
        name: etcd-{number}
        data-dir: /data/etcd
        initial-cluster-token: "etcd"
        initial-cluster-state: new
        initial-cluster: {INITIAL}
        initial-advertise-peer-urls: https://{address}:2380
        listen-peer-urls: https://{address}:2380
        listen-client-urls: https://{address}:2379,https://127.0.0.1:2379
        advertise-client-urls: https://{address}:2379
        election-timeout: 1000
        heartbeat-interval: 100
        quota-backend-bytes: {17179869184 if older else 8589934592}
        auto-compaction-mode: periodic
        auto-compaction-retention: "24h"
        client-transport-security:
          cert-file: /etc/etcd/server.crt
          key-file: /etc/etcd/server.key
          trusted-ca-file: /etc/etcd/ca.crt
        peer-transport-security:
          cert-file: /etc/etcd/server.crt
          key-file: /etc/etcd/server.key
          trusted-ca-file: /etc/etcd/ca.crt
        """)
    if older:
        conf += textwrap.dedent("""\
            logger: zap
            log-level: info
            log-format: json
            log-outputs: [/var/log/etcd.log]
            enable-log-rotation: true
            log-rotation-config-json: '{"maxsize": 100, "maxage": 14, "compress": true}'
            """)
    return conf


UNIT = """\
[Unit]
Description=Etcd Server
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
WorkingDirectory=/data/etcd
User=etcd
ExecStart=/usr/bin/etcd --config-file /etc/etcd/etcd.conf
Restart=on-failure
RestartSec=5
TimeoutStartSec=60
TimeoutStopSec=60
LimitNOFILE=65536
OOMScoreAdjust=-1000

[Install]
WantedBy=multi-user.target
"""

PROFILE = """\
alias e="etcdctl"
alias em="etcdctl member"
export ETCDCTL_API=3
export ETCDCTL_ENDPOINTS=https://127.0.0.1:2379
export ETCDCTL_CACERT=/etc/etcd/ca.crt
export ETCDCTL_CERT=/etc/etcd/server.crt
export ETCDCTL_KEY=/etc/etcd/server.key
export ETCDCTL_USER="root:$(cat /etc/etcd/etcd.pass 2>/dev/null)"
"""


def put_file(address: str, path: str, text: str, owner: str, mode: str) -> None:
    ssh(address, f"cat > {path} && chown {owner} {path} && chmod {mode} {path}", input_=text)


def site_repository(folder: Path) -> Path:
    """The site's own package repository, as Pigsty's serves its package `etcd` (binaries in /usr/bin,
    no unit, no user): a look-alike package made from the lab's Debian etcd 3.5.30 binaries."""
    debs = [deb for name in config.ETCD_PACKAGES for deb in (config.IMAGES_DIR / "trixie" / "repo").glob(f"**/{name}_3.5.30-*.deb")]
    package, repository = folder / "package", folder / "repo"
    for deb in debs:
        subprocess.run(["dpkg-deb", "-x", str(deb), str(folder / "unpacked")], check=True)
    (package / "usr" / "bin").mkdir(parents=True)
    for binary in ("etcd", "etcdctl", "etcdutl"):
        (folder / "unpacked" / "usr" / "bin" / binary).rename(package / "usr" / "bin" / binary)
    (package / "DEBIAN").mkdir()
    (package / "DEBIAN" / "control").write_text(
        "Package: etcd\nVersion: 3.5.30-1\nArchitecture: amd64\nMaintainer: site <ops@example.com>\n"
        "Description: etcd server and tools, as the site's repository packages them\n"
    )
    repository.mkdir()
    subprocess.run(["dpkg-deb", "-Znone", "--root-owner-group", "--build", str(package), str(repository / "etcd_3.5.30-1_amd64.deb")],
                   check=True, capture_output=True)  # fmt: skip
    packages = subprocess.run(["apt-ftparchive", "packages", "."], cwd=repository, check=True, capture_output=True, text=True).stdout
    (repository / "Packages").write_text(packages)
    release = subprocess.run(["apt-ftparchive", "release", "."], cwd=repository, check=True, capture_output=True, text=True).stdout
    (repository / "Release").write_text(release)
    return repository


def use_site_repository(address: str, repository: Path) -> None:
    subprocess.run(["scp", "-q", "-r", str(repository), f"{address}:/srv/site-repo"], check=True)
    ssh(address, "echo 'deb [trusted=yes] file:/srv/site-repo ./' > /etc/apt/sources.list.d/site.list && apt-get update -q >/dev/null")


# How each member got its etcd: today's role installs the site's package `etcd`; a site may have copied
# the same binaries into /usr/bin by hand (no package knows them); an older role used Debian's packages.
INSTALL = {
    1: "DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd >/dev/null",
    2: "dpkg-deb -x /srv/site-repo/etcd_3.5.30-1_amd64.deb /",
    3: "DEBIAN_FRONTEND=noninteractive apt-get install -y -q 'etcd-server=3.5.30*' 'etcd-client=3.5.30*' >/dev/null 2>&1; "
    "systemctl disable --now etcd; rm -rf /var/lib/etcd/default",
}
OLDER = 3  # the member an older release of Pigsty built
UNIT_DIR = {1: "/etc/systemd/system", 2: "/etc/systemd/system", 3: "/lib/systemd/system"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The Pigsty-built cluster on nodes 1-3 (node4: a host of the site, for a join), and the site's
    PKI folder on the control node."""
    lab("up", "-n", "4")
    lab("reset", "1", "2", "3", "4")
    folder = tmp_path_factory.mktemp("files")
    pki, repository = site_pki(folder / "pki"), site_repository(folder)
    for address in [*NODES, NEW]:
        use_site_repository(address, repository)
    for number, address in enumerate(NODES, 1):
        ssh(address, INSTALL[number])
        ssh(address, "{ getent passwd etcd >/dev/null || useradd --system -U -d /var/lib/etcd -s /usr/sbin/nologin etcd; } && "
                     "install -d -o etcd -g etcd -m 750 /etc/etcd && install -d -o etcd -g etcd -m 770 /var/lib/etcd && "
                     "install -d -o etcd -g etcd -m 700 /data/etcd")  # fmt: skip
        put_file(address, "/etc/etcd/etcd.conf", pigsty_conf(number, address, older=number == OLDER), "etcd:etcd", "644")
        put_file(address, "/etc/etcd/ca.crt", (pki / "ca" / "ca.crt").read_text(), "etcd:etcd", "644")
        put_file(address, "/etc/etcd/server.crt", (pki / f"etcd-{number}.crt").read_text(), "etcd:etcd", "644")
        put_file(address, "/etc/etcd/server.key", (pki / f"etcd-{number}.key").read_text(), "etcd:etcd", "600")
        put_file(address, "/etc/etcd/etcd.pass", "Etcd.Root", "root:etcd", "640")
        put_file(address, f"{UNIT_DIR[number]}/etcd.service", UNIT, "root:root", "644")
        put_file(address, "/etc/profile.d/etcdctl.sh", PROFILE, "root:root", "644")
        log = "touch /var/log/etcd.log && chown etcd:etcd /var/log/etcd.log && " if number == OLDER else ""
        ssh(address, f"{log}systemctl daemon-reload && systemctl enable --quiet etcd && systemctl start --no-block etcd")
        ssh(NODES[0], f"mkdir -p {TARGETS} && cat > {TARGETS}/etcd-{number}.yml && chmod 640 {TARGETS}/etcd-{number}.yml",
            input_=pigsty_target(number, address))  # fmt: skip
    ssh(NODES[0], f"cat > {TARGETS}/meta-1.yml", input_=pigsty_target(1, "10.10.10.99", "meta"))  # another cluster's
    time.sleep(5)
    ctl = "ETCDCTL_USER= etcdctl"
    for command in ("user add root --new-user-password=Etcd.Root", "user grant-role root root", "auth enable", "put /site/key kept"):
        ssh(
            NODES[0],
            f"bash -lc {shlex.quote(f'{ctl} {command}' if 'auth' not in command and 'put' not in command else f'etcdctl {command}')}",
        )
    password = pki / "root.password"
    password.write_text("Etcd.Root\n")
    password.chmod(0o600)
    takeover = [f"etcd_ca_cert={pki}/ca/ca.crt", f"etcd_ca_key={pki}/ca/ca.key", f"etcd_root_password_file={password}"]
    yield {"pki": pki, "--data": [*takeover, f"etcd_monitor_target_dir={TARGETS}"]}
    INVENTORY.unlink(missing_ok=True)


def installed(address: str) -> dict:
    """What a host holds of etcd: the binary's version and checksum, and the packages dpkg knows."""
    packages = ssh(address, "dpkg-query -W -f '${Package}=${Version} ${db:Status-Abbrev}\\n' etcd etcd-server 2>/dev/null; true").stdout
    return {
        "etcd": ssh(address, "etcd --version | head -1; sha256sum /usr/bin/etcd | cut -d' ' -f1").stdout.split(),
        "packages": sorted(line.split()[0] for line in packages.splitlines() if line.split()[1:2] == ["ii"]),
    }


def site_args(site) -> list[str]:
    return [word for item in site["--data"] for word in ("--data", item)]


def cluster_id() -> int:
    return json.loads(etcdctl(NODES[0], "endpoint status -w json").stdout)[0]["Status"]["header"]["cluster_id"]


def test_the_site_cluster_serves_as_pigsty_built_it(site):
    assert etcdctl(NODES[1], "get /site/key --print-value-only").stdout.strip() == "kept"
    assert len(json.loads(etcdctl(NODES[2], "member list -w json").stdout)["members"]) == 3
    assert [installed(address)["packages"] for address in NODES] == [["etcd=3.5.30-1"], [], ["etcd-server=3.5.30-2"]]


def test_create_previews_the_takeover_and_changes_nothing_before_enter(site, tmp_path):
    pids = main_pids(NODES)
    # aborted at the prompt, pyinfra leaves its debug log in the working directory: a folder of the test's
    preview = typed(str(ROOT / "deploys" / "create.py"), *site_args(site), enter=False, inventory=inventory(NODES), cwd=tmp_path).stderr
    assert "Restart needed: etcd.conf and the unit changed" in preview, preview[-4000:]
    # the site's own settings that the restart changes, each with the parameter that keeps it: an older
    # release's quota and log file; today's release has neither to lose
    lines = preview.splitlines()
    today, older = ([line for line in lines if f"{hosts}: etcd.conf changes" in line] for hosts in (f"{NODES[0]}, {NODES[1]}", NODES[2]))
    assert len(today) == len(older) == 1, preview[-4000:]
    today, older = today[0], older[0]
    assert "quota" not in today and "log-outputs" not in today
    assert "quota-backend-bytes 17179869184 -> 8589934592 (etcd_quota_backend_bytes keeps it)" in older
    assert 'log-outputs ["/var/log/etcd.log"] -> unset (etcdkit does not set it)' in older
    # the units it replaces or shadows, the packages it keeps
    assert f"{NODES[0]}, {NODES[1]}: the unit /etc/systemd/system/etcd.service that another tool wrote is replaced by etcdkit's" in preview
    assert re.search(rf"{NODES[2]}: etcd runs from the unit (/usr)?/lib/systemd/system/etcd.service; etcdkit's", preview), preview[-4000:]
    assert f"{NODES[0]}: etcd 3.5.30 comes from the package `etcd`, not from etcd_packages (etcd-server, etcd-client)" in preview
    assert f"{NODES[1]}: etcd 3.5.30 (/usr/bin/etcd) belongs to no package: create keeps it" in preview
    assert main_pids(NODES) == pids


def test_create_takes_the_cluster_over_under_writes(site, monkeypatch):
    pki = site["pki"]
    for name, path in (("CA", "ca/ca.crt"), ("CERT", "etcd-1.crt"), ("KEY", "etcd-1.key"), ("PASSWORD", "root.password")):
        monkeypatch.setenv(f"ETCDKIT_TEST_{name}", str(pki / path))  # the writer is a client of the site, as its apps are
    before, etcds = cluster_id(), {address: installed(address) for address in NODES}
    with Writer(NODES) as writer:
        run = deploy("create", *site_args(site), inventory=inventory(NODES))
        time.sleep(1)
    counts = writer.counts(NODES[0])
    print(f"continuous writer during the takeover: {counts}")
    assert counts.acknowledged > 50 and counts.lost == 0
    assert sorted(run.changed["etcd member | Restart etcd (one member at a time)"]) == NODES
    assert cluster_id() == before
    assert etcdctl(NODES[1], "get /site/key --print-value-only").stdout.strip() == "kept"
    assert "ExecStart=/usr/bin/etcd" in ssh(NODES[0], "systemctl cat etcd").stdout
    # no second etcd beside the site's, none replaced: the same binaries, of the same packages (or of none)
    assert {address: installed(address) for address in NODES} == etcds
    assert deploy("create", *site_args(site), inventory=inventory(NODES)).changed == {}


def test_the_sites_monitoring_keeps_its_own_job_and_reads_the_members(site):
    assert targets() == {
        **{f"etcd-{n}.yml": {"cls": "etcd", "ins": f"etcd-{n}", "ip": a} for n, a in enumerate(NODES, 1)},
        "meta-1.yml": {"cls": "meta", "ins": "meta-1", "ip": "10.10.10.99"},
    }
    assert ssh(NODES[0], "test -e /etc/prometheus", check=False).returncode != 0  # no job, TLS files or rules of etcdkit's


def test_join_remove_and_reload_on_the_taken_over_cluster(site):
    # the new member gets the site's package, as the preview advised (etcd_packages: [etcd])
    script("etcd-add", *site_args(site), "--data", "etcd_packages=etcd", NEW, nodes="", inventory=inventory([*NODES, NEW]))
    assert len(json.loads(etcdctl(NODES[0], "member list -w json").stdout)["members"]) == 4
    assert installed(NEW)["packages"] == ["etcd=3.5.30-1"]
    assert targets()["etcd-4.yml"] == {"cls": "etcd", "ins": "etcd-4", "ip": NEW}
    script("etcd-rm", *site_args(site), NEW, nodes="", inventory=inventory([*NODES, NEW]))
    assert len(json.loads(etcdctl(NODES[0], "member list -w json").stdout)["members"]) == 3
    assert sorted(targets()) == ["etcd-1.yml", "etcd-2.yml", "etcd-3.yml", "meta-1.yml"]
    assert deploy("reload", *site_args(site), inventory=inventory(NODES)).changed == {}
