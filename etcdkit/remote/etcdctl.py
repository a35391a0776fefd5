"""etcdctl command lines for members, authenticated as root without exposing the password.

The password is read from the member's /etc/etcd/etcd.pass when the command runs and handed to
etcdctl in its environment (ETCDCTL_USER): it is never part of a command line, so it shows neither
in pyinfra's output nor in /proc/*/cmdline.

No ETCDCTL_API: etcdctl speaks API v3 by default from 3.4, and from 3.6 on it warns on every call
of a variable it no longer reads.
"""

from pyinfra.api import StringCommand

from etcdkit.model import paths
from etcdkit.remote.shell import script, sh


def timeouts(dial: str, command: str) -> tuple[str, str]:
    """etcdctl's timeouts: to connect, and for the whole command ("2s", "30m")."""
    return f"--dial-timeout={dial}", f"--command-timeout={command}"


TIMEOUTS = timeouts("2s", "5s")
# Health polls give up quickly and try again: a member that is up but has no leader yet would
# otherwise hold each poll for the whole command timeout.
POLL_TIMEOUTS = timeouts("1s", "1s")
# Seconds between two polls of an event (a member started, a learner caught up, the cluster answers):
# each poll is one round trip, so a change is seen about 0.1 s after it happens.
POLL_INTERVAL = 0.1


def etcdctl(
    endpoints: str, as_root: bool = True, timeouts: tuple[str, str] = TIMEOUTS, login: tuple[str, str] | None = None
) -> StringCommand:
    """etcdctl against the endpoints with the member's certificate, as root unless as_root is false,
    or as login = (user, password file)."""
    ctl = sh(
        "etcdctl --endpoints={endpoints} --cacert={ca} --cert={cert} --key={key} {timeouts}",
        endpoints=endpoints,
        ca=paths.CA,
        cert=paths.CERT,
        key=paths.KEY,
        timeouts=timeouts,
    )
    if not (as_root or login):
        return ctl
    name, password_file = login or ("root", paths.PASS)
    return sh('ETCDCTL_USER={user}"$(cat {password_file})" {ctl}', user=f"{name}:", password_file=password_file, ctl=ctl)


def call(ctl: StringCommand, arguments: str, /, **values) -> StringCommand:
    """An etcdctl call: ctl (etcdctl()) and its arguments, a template of etcdkit.remote.shell.sh."""
    return sh("{ctl} " + arguments, ctl=ctl, **values)


def journal(lines: int = 30) -> StringCommand:
    return sh("journalctl -u {service} -n {lines} --no-pager -o short-iso", service=paths.SERVICE, lines=int(lines))


def wait_healthy(endpoint: str, cluster_wide: bool, timeout: int) -> StringCommand:
    """A loop on the host of the endpoint's member that waits for it (and with cluster_wide, every
    member) to serve linearizable reads, which needs a leader and quorum; it fails with the journal
    excerpt. It polls etcd once its unit is no longer starting."""
    return script(
        "wait-healthy.sh.j2",
        service=paths.SERVICE,
        endpoint=endpoint,
        timeout=int(timeout),
        scope=["--cluster"] if cluster_wide else [],
        poll=etcdctl(endpoint, timeouts=POLL_TIMEOUTS),
        etcdctl=etcdctl(endpoint),
        journal=journal(),
    )


def health(endpoints: str, cluster_wide: bool = False) -> StringCommand:
    """Whether the endpoints (with cluster_wide, every member) serve reads now: one quick poll."""
    return call(etcdctl(endpoints, timeouts=POLL_TIMEOUTS), "endpoint health" + (" --cluster" if cluster_wide else ""))


def side_by_side(calls: dict[str, StringCommand]) -> StringCommand:
    """The commands at once, each one's output printed after its section's name, in order: each
    etcdctl call logs in, and etcd's bcrypt makes a login slow."""
    return script("side-by-side.sh.j2", calls=calls)


# the sections of a cluster view: section -> etcdctl's arguments (each answers in JSON)
VIEW = {"members": "member list -w json", "status": "endpoint status --cluster -w json"}
HEALTH = {"health": "endpoint health --cluster -w json"}


# the section of a cluster view read with what authentication does (cluster_view with auth)
AUTH = "auth"


def cluster_view(endpoint: str, auth: bool = False, password_file: str = paths.PASS) -> StringCommand:
    """The member list, every member's status and health through the endpoint (VIEW and HEALTH); with
    auth, the AUTH section too: `password` when /etc/etcd/etcd.pass holds one (its first line, read by
    the shell), `served` when a request without credentials is served. Root logs in when the member
    list, asked with that password, answers: no login of its own."""
    ctl = etcdctl(endpoint)
    calls = {section: call(ctl, arguments) for section, arguments in {**VIEW, **HEALTH}.items()}
    if auth:
        calls[AUTH] = sh(
            'password=; IFS= read -r password <{password_file} || :; [ -n "$password" ] && printf "password "; '
            "{anonymous} get --limit=1 health >/dev/null && printf served; echo",
            password_file=password_file,
            anonymous=etcdctl(endpoint, as_root=False),
        )
    return side_by_side(calls)


def membership_view(endpoint: str) -> StringCommand:
    """The member list and every answering member's status (VIEW), quick enough to poll."""
    ctl = etcdctl(endpoint, timeouts=POLL_TIMEOUTS)
    return side_by_side({section: call(ctl, arguments) for section, arguments in VIEW.items()})


def own_status(port: int) -> StringCommand:
    """`endpoint status -w json` of the member on this host (its client port on 127.0.0.1)."""
    return call(etcdctl(f"https://127.0.0.1:{int(port)}", timeouts=POLL_TIMEOUTS), "endpoint status -w json")


def member_add(endpoints: str, name: str, peer_url: str, learner: bool) -> StringCommand:
    """Announce the member; etcd answers with the new member list, in JSON."""
    command = call(etcdctl(endpoints), "member add {name} --peer-urls={peer_url} -w json", name=name, peer_url=peer_url)
    return sh("{command} --learner", command=command) if learner else command


def member_remove(endpoints: str, member_id: str) -> StringCommand:
    """Remove the member by its hex ID."""
    return call(etcdctl(endpoints), "member remove {member_id}", member_id=member_id)


def member_promote(endpoint: str, member_id: str) -> StringCommand:
    return call(etcdctl(endpoint, timeouts=POLL_TIMEOUTS), "member promote {member_id}", member_id=member_id)


def move_leader(endpoint: str, member_id: str) -> StringCommand:
    """Hand leadership from the leader at endpoint to the member of this hex ID."""
    return call(etcdctl(endpoint), "move-leader {member_id}", member_id=member_id)


def compact(endpoint: str, revision: int, timeout: int) -> StringCommand:
    """Compact the history before revision, and wait until its pages are free (--physical)."""
    return call(etcdctl(endpoint, timeouts=timeouts("2s", f"{int(timeout)}s")), "compact {revision} --physical", revision=int(revision))


def compacted(endpoint: str, revision: int) -> StringCommand:
    """A read at revision: etcd refuses it (on stderr) once that revision is compacted."""
    return call(etcdctl(endpoint), "get health --keys-only --rev={revision} 2>&1 >/dev/null; true", revision=int(revision))


def defrag(endpoint: str, timeout: int) -> StringCommand:
    """Defragment the database of this member only."""
    return call(etcdctl(endpoint, timeouts=timeouts("2s", f"{int(timeout)}s")), "defrag")


def alarms(endpoint: str) -> StringCommand:
    return call(etcdctl(endpoint), "alarm list -w json 2>/dev/null; echo; true")


def disarm(endpoint: str) -> StringCommand:
    return call(etcdctl(endpoint), "alarm disarm >/dev/null")


def downgrade(endpoint: str, minor: str) -> StringCommand:
    """Validate the cluster's downgrade to this minor version, then enable it (etcd 3.6+)."""
    ctl = etcdctl(endpoint)
    return sh("{ctl} downgrade validate {minor} && {ctl} downgrade enable {minor}", ctl=ctl, minor=minor)
