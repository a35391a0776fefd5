"""etcd-status: the health of an etcd cluster, from its inventory, read-only.

    etcd-status [-i INVENTORY] [--json]

The inventory is -i, else $ETCD_INVENTORY (there is no other default); the command says on stderr
which one it reads. It runs the status SOP (`pyinfra -y INVENTORY etcdkit.sops.status`) in its own
process (etcdkit/cli/run.py), takes the JSON document the run keeps (etcdkit/plans/status.py), and
shows it as a table, or as JSON with --json.

Exit codes (those of monitoring plugins):

    0  healthy: every member started, healthy and a voter, one leader, no alarm, auth on,
       every certificate (members' and CA) valid for more than 30 days
    1  degraded: a member down, unstarted or a learner waiting for promotion, an alarm, auth off,
       a certificate with 30 days or fewer left, a host unreachable over SSH, a host of the
       inventory that is not a member or a member that is not in the inventory, a member on a
       minor version etcdkit does not support (3.4 to 3.7), members on different minor versions
       (an unfinished upgrade or downgrade), a downgrade enabled
    2  no quorum: no leader, fewer healthy voters than a quorum, or no member answers although a
       host is reachable (its etcd is stopped or has lost quorum)
    3  could not check: no inventory, or one pyinfra cannot read, no host reachable over SSH, the
       run failed; also a usage error

The JSON document (--json), one object:

    {
      "cluster": "etcd",                   # etcd_cluster of the inventory
      "inventory": "/path/inventory.py",
      "checked_at": "2026-11-30T15:00:00+00:00",
      "cluster_id": "511d...",             # hex; null when no member answers
      "cluster_version": "3.5",            # major.minor of the lowest server version: etcdctl does
                                           # not report the cluster version (etcd sets it to that),
                                           # or the target of an enabled downgrade
      "downgrade": null,                   # "3.5": a downgrade to it is enabled (etcd 3.6+)
      "leader": "etcd-2", "leader_id": "62a0...",   # null: no leader
      "auth": true,                        # false: anonymous requests are served; null: not known
      "ca_expires": "2036-...", "ca_days": 3650,    # the CA certificate the members hold (earliest)
      "hosts": [                           # the inventory's members
        {"host": "10.10.10.10", "name": "etcd-1", "peer_url": "https://10.10.10.10:2380",
         "reachable": true, "service": "active"}      # service: systemctl is-active, null: unreachable
      ],
      "members": [                         # the live cluster's member list
        {"name": "etcd-1",                 # null: added, never started
         "id": "526e...", "host": "10.10.10.10",      # host: null when not in the inventory
         "peer_urls": [...], "client_urls": [...],
         "state": "started" | "unstarted",
         "role": "leader" | "follower" | "learner",
         "health": "healthy" | "unhealthy", "error": null | "why unhealthy",
         "version": "3.5.16",              # server version
         "db_size": 20480, "db_size_in_use": 16384,   # bytes
         "raft_term": 5, "raft_index": 238,
         "alarms": ["NOSPACE"],
         "cert_expires": "2027-...", "cert_days": 364}  # the member's /etc/etcd/server.crt
      ],                                   # fields the member did not report are null
      "alarms": [{"member_id": "526e...", "alarm": "NOSPACE"}],
      "refused_urls": ["member etcd-3 (...) advertises the client URL '...': not https://<IPv4 address or DNS name>:<port>"],
                                           # such URLs are left out of "members"; any SOP that changes something refuses
      "problems": [{"severity": 1, "message": "member etcd-2 (...) is not healthy: ..."}],
      "advice": ["etcd 3.5.16 (etcd-1, ...): below 3.5.32, ... Move to etcd_version=3.5.32 or later ..."],
                                           # per server version, what etcdkit/model/versions.py says of
                                           # it (the release etcd asks for before the next minor step,
                                           # known issues): shown, with no effect on the exit code
      "status": "healthy" | "degraded" | "no quorum" | "not checked",
      "exit_code": 0                       # the highest severity of the problems, 0 without any
    }

A document of a check that could not be made has the same keys, empty lists and nulls, and one
problem of severity 3.
"""

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from etcdkit.cli.passthrough import add_inventory, add_options, pyinfra_options
from etcdkit.cli.run import run_pyinfra

PROGRESS_AFTER = 3  # seconds: a longer run says when it is done


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # argparse exits 2 for a usage error: that is "no quorum" here
        self.print_usage(sys.stderr)
        self.exit(3, f"{self.prog}: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    from etcdkit.plans import status

    parser = _Parser(
        prog="etcd-status",
        description="The members of an etcd cluster (state, role, health, version, DB size, raft term and index, alarms, "
        "certificate expiry), its ID, version, leader and authentication, and advice on the versions it runs. Read-only.",
        epilog="Exit codes: 0 healthy, 1 degraded (a member down, an alarm, auth off, a learner pending, a certificate "
        "within 30 days), 2 no quorum or no leader, 3 could not check. The --json schema is in the docstring of "
        "etcdkit/cli/status.py.",
    )
    add_inventory(parser)
    parser.add_argument("--json", action="store_true", help="print the status as one JSON document")
    add_options(parser)
    args = parser.parse_args(argv)
    now = datetime.now(UTC)  # checked_at of a document that could not be made

    if not args.inventory:
        return _done(status.unchecked(None, "no inventory: name one with -i INVENTORY or ETCD_INVENTORY", now), args.json)
    source = "-i" if argv_has_inventory(argv) else "$ETCD_INVENTORY"
    print(f"etcd-status: inventory {args.inventory} (from {source})", file=sys.stderr)
    if not Path(args.inventory).is_file():
        return _done(status.unchecked(None, f"no inventory file {args.inventory}", now, args.inventory), args.json)
    inventory = str(Path(args.inventory).resolve())
    count = _member_count(inventory)
    what = f"{count} members" if count is not None else "the members"
    print(f"etcd-status: reading {what} of {args.inventory}…", file=sys.stderr, flush=True)

    started = time.monotonic()
    outcome = run_pyinfra(["-y", *pyinfra_options(args), inventory, "etcdkit.sops.status"], capture=True)
    if time.monotonic() - started > PROGRESS_AFTER:
        print(f"etcd-status: read in {time.monotonic() - started:.0f} s", file=sys.stderr)

    doc = outcome.context.status_report if outcome.context is not None else None
    if doc is None:
        errors = pyinfra_errors(outcome.output)
        for line in errors:
            print(line, file=sys.stderr)
        reason = f"the status run failed (pyinfra exit {outcome.exit_code})"
        if errors:
            reason += ": " + " ".join(line.strip() for line in errors[:3])
        return _done(status.unchecked(None, reason, now, inventory), args.json)
    return _done(status.decide({**doc, "inventory": inventory}), args.json)


def argv_has_inventory(argv: list[str] | None) -> bool:
    words = sys.argv[1:] if argv is None else argv
    return any(w in ("-i", "--inventory") or w.startswith(("-i", "--inventory=")) for w in words)


def pyinfra_errors(output: str) -> list[str]:
    """pyinfra's error lines (from its first "pyinfra error"), else the last lines of its output."""
    lines = [line for line in output.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if "pyinfra error" in line), None)
    chosen = lines[start:] if start is not None else lines[-5:]
    return [line.replace("--> pyinfra error", "error", 1) for line in chosen]


def _member_count(inventory: str) -> int | None:
    """How many members the inventory has, for the progress line; None when it cannot be told
    here (the run then says why)."""
    try:
        from etcdkit.cli.membership import read_inventory

        return len(read_inventory(inventory).members)
    except (Exception, SystemExit):  # only a progress line depends on it
        return None


def _done(doc: dict, as_json: bool) -> int:
    from etcdkit.plans.status import format_report

    if as_json:
        print(json.dumps(doc, indent=2, sort_keys=True))
    elif doc["exit_code"] != 3 or doc["hosts"]:
        print(format_report(doc))
    if doc["exit_code"] == 3:
        for problem in doc["problems"]:
            print(f"etcd-status: {problem['message']}", file=sys.stderr)
    return doc["exit_code"]


if __name__ == "__main__":
    sys.exit(main())
