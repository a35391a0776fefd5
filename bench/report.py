"""docs/performance.md, rendered from bench/results.json (make bench runs this at its end), and the
table make bench prints: the doc is never edited by hand. Run alone: .venv/bin/python -m bench.report
"""

from pathlib import Path

from bench import results as results_file
from bench.floor import CREATE_PHASES
from bench.results import STEPS
from bench.targets import TARGETS

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
NONE = "—"


# What timed runs of the 3-member no-op, bin/etcd-add and bin/etcd-rm showed on the lab (2026-11-30; the
# join and removal lines updated on 2026-12-07 for the one-run commands, the rest on 2026-12-07 after the
# host's state in one fact, the bcrypt cost of generated passwords, the cluster view read beside the
# hosts' facts, a member's files in one operation, and again after the SysV switch and etcd-status in
# one phase; the join, systemd's reloads and the version line on 2026-12-07 again; the facts, logins and
# the health wait on 2026-12-08): written by hand.
PROFILE = [
    "A look inside the runs (each fact timed in the 3-member no-op, timestamped `-vv` output of `bin/etcd-add` and `bin/etcd-rm`):",
    "",
    "- **pyinfra itself** takes about 0.5-0.8 s (Python imports, inventory, connecting) before etcdkit's deploy file runs;",
    "  `exec -- true` on the same hosts, pyinfra's own floor, is in the table (`pyinfra3`).",
    "- **The plan's facts**: a member's `EtcdHost` (one round trip: the binary, the unit, the data dir, every managed",
    "  file's checksum, owner and mode, the member's certificate and CA) runs one `systemctl` and three small",
    "  processes: its script takes 25 ms of CPU on an idle lab node, where it took 70-100 ms. What the member's etcd",
    "  is (cluster and member ID, version) comes from the cluster view's status, which asked every member",
    "  already: a host's own `endpoint status` (an `etcdctl` process and a login, 35-45 ms of CPU) is asked only",
    "  where that view cannot say (`gather.with_own`). Its package comes from dpkg's lists of etcd's packages, read",
    "  by the shell (`dpkg-query -S` reads every package's list: 13 ms); the unit's marker, the restart marker,",
    "  the data dir and etcd.conf are read without a process. The cluster view (`EtcdCluster`: member list, status",
    "  and health, side by side) is read through the first member at the same time (`gather.read_early`); for",
    "  create and `bin/etcd-status` it carries the authentication state in the same round trip",
    "  (`EtcdClusterAuth`: the member list, asked with root's password, says root logs in, and one request",
    "  without credentials whether authentication is off), where `EtcdAuth` took a round trip, two `etcdctl`",
    "  processes and a login of its own. A converged run reads no fact after the plan's: the 3-member no-op",
    "  runs 4 commands, the 5-member one 6. The nodes and the control node share two cores, so the hosts' CPU",
    "  is the facts' time: the 5-member no-op used 1.45-1.65 s of the machine's CPU, now 1.1-1.25 s (same cluster).",
    "  `bin/etcd-status` reads everything in that one phase: the hosts' `EtcdHost` and the first member's view,",
    "  alarms and authentication state. Each SOP imports its own plan and task modules only (etcdkit's",
    "  imports: 50 ms, were 90 ms; ruamel.yaml, 50 ms more, only when a client's config is edited).",
    "- **The control node's own work** is the rest of a no-op: pyinfra's imports (0.3-0.55 s, as the machine's load",
    "  goes) and connections (0.11 s), etcdkit's imports (0.05 s), and the plan's decision with the registration of",
    "  the operations (0.08-0.18 s): pyinfra reads the call stack and the type hints of its global arguments for each",
    "  operation on each host (about 3 ms each). A member's folders and files are one",
    "  operation (`files.put_all`): create gives a member 6 operations, where it gave 15.",
    "- **Logins**: each `etcdctl` call logs in as root, and etcd checks the password with bcrypt, once per endpoint;",
    "  a login is also a raft proposal, written and replicated by every member (about 5-10 ms of the machine's CPU).",
    "  At etcd's default cost (10) a login took 0.1-0.2 s on the lab (`endpoint status --cluster`: 0.42 s); at cost 4 it",
    "  takes a few ms (0.07 s). etcdkit sets `bcrypt-cost: 4` when every password of the cluster's users has at",
    "  least 24 characters, as those it generates (32 random ones) do (`etcd_bcrypt_cost`): key stretching adds",
    "  nothing that matters to them, while a shorter password (a site's own) keeps etcd's default. The cost applies",
    "  to passwords set after it: a cluster made before keeps its root hash until the root password is rotated.",
    "  A client certificate whose CN is the user was not chosen: it needs",
    "  client-cert-auth on the client port, so a certificate for every client (Patroni and vip-manager of a",
    "  taken-over site present none).",
    "- **The operations' round trips**: none in a no-op. The operations decide from the plan's `EtcdHost` while no",
    "  command has run on the host in the run (`etcdkit/operations/known.py`); after one, each asks its own fact",
    "  (10-15 ms each), as before. Where files change, `files.put_all` reads them all in one fact (`HostFiles`), sends",
    "  the contents that differ through one private temporary folder and writes them with one command: a create on",
    "  bare hosts runs 12-16 commands per host, where it ran 41-43.",
    "- **systemd's SysV sync**: Debian's `etcd-server` also ships `/etc/init.d/etcd`, and `systemctl enable` or",
    "  `disable` of `etcd.service` ran `update-rc.d` on it: 0.3-0.4 s per host in the install, the start and the",
    "  removal. etcdkit sets `SYSTEMCTL_SKIP_SYSV=1` for them (a native unit makes systemd ignore the script): the",
    "  install is now apt's time, as the floor's.",
    "- **The health wait** after a start asks etcd once its unit's start is no longer queued nor running: etcd",
    "  tells systemd when it serves (`Type=notify`), and an `etcdctl` poll sent before the port is bound waits its",
    "  whole dial timeout (1 s). Create's wait (1.15 s for one member, in the bench before) was up to a second",
    "  longer than etcd's own election; it now ends 0.04-0.09 s after etcd serves. What is left is etcd's",
    "  election: 0.15-0.85 s for one new member on the lab, which the floor's blocking start waits for too.",
    "- **systemd's reloads**: a new member's unit was loaded three times, 0.11-0.15 s each on a lab node: the",
    "  install's disable of the package's unit, the files (the new unit), and the start's `systemctl enable`. Now",
    "  once: the install disables with `--no-reload`, the files do not reload, and the start enables etcd",
    "  whenever it starts a stopped one, which reloads systemd's units (the new unit, and its enablement read again).",
    "- **A join** is apt (about 1.5 s, as the floor's), the member add (etcd's JSON answer confirms it: no member",
    "  list before or after it but the decision's), the start, the promotion (tried through the leader that reading",
    "  found, about every 0.1 s, until it accepts: one `etcdctl` call a try, where a member list and status were",
    "  read for each), the health of the new member and of the cluster,",
    "  and the reload of the members and the clients, in the same pyinfra run (`etcdkit.sops.add`): its operations",
    "  take 2.3 s, less than the floor's whole join; the rest is pyinfra's start, connections and exit (0.7 s) and",
    "  the plan's facts (0.3 s). A member with nothing to restart for takes no turn in the rolling restart (the",
    "  serial step asked each member its unit's state, one after another: 0.1 s). A removal is the same without",
    "  apt (`etcdkit.sops.rm`). Where the leader sends the learner a snapshot (its log compacted; seen on a",
    "  cluster restored from a snapshot), the snapshot may hold the learner's own publish request: its etcd then",
    "  waits 7 s for that request to time out, retries it, and serves only then (`failed to publish local member`",
    "  in its journal), about 5.5 s after its promotion. The join waits for the new member to serve, as it must",
    "  (8.1-8.5 s instead of 1.3-2 s, without apt, in 2 of 3 joins on the lab); the floor does not look.",
]


def seconds(value: float | None) -> str:
    return NONE if value is None else f"{value:.2f} s"


def ratio(value: float | None) -> str:
    return NONE if value is None else f"{value:.2f}x"


def per_host(counts: dict[str, int] | None) -> str:
    """The counts of the hosts of a step: one number when they agree, else the range."""
    if not counts:
        return NONE
    low, high = min(counts.values()), max(counts.values())
    return str(high) if low == high else f"{low}-{high}"


def verdict(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "not measured yet"}[met]


def target_value(target, results: dict) -> str:
    """The measured value, and the limit it is held to when that comes from the same run."""
    value = target.value(results)
    if value is None:
        return NONE
    shown = f"{value:.2f}{target.unit}" if target.unit else str(value)
    bound = target.bound(results)
    return f"{shown} (limit {bound:.2f}{target.unit})" if bound is not None and bound != target.limit else shown


def table(results: dict) -> str:
    """The table make bench prints."""
    lines = [f"{'step':<16} {'median':>9} {'floor':>9} {'ratio':>7} {'trips/host':>10}  {'writes (ack/failed/lost, stall)':<32} runs"]
    for name in STEPS:
        step = results.get(name)
        if step is None:
            continue
        writes = step.get("writes")
        written = f"{writes['acknowledged']}/{writes['failed']}/{writes['lost']}, {writes['longest_stall_s']:.2f} s" if writes else ""
        lines.append(
            f"{name:<16} {seconds(step['median_s']):>9} {seconds(step.get('floor_s')):>9} {ratio(step.get('ratio')):>7} "
            f"{per_host(step.get('round_trips')):>10}  {written:<32} {' '.join(f'{run:.2f}' for run in step['runs'])}"
        )
    lines += ["", *(f"{verdict(target.met(results)):<18} {target.text} ({target_value(target, results)})" for target in TARGETS)]
    return "\n".join(lines)


def _rows(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(row) + " |" for row in rows)]


def _step(results: dict, name: str) -> dict:
    return results.get(name, {})


def markdown(results: dict) -> str:
    """docs/performance.md for these results ({}: the numbers left as placeholders)."""
    runs = max((len(step["runs"]) for step in results.values()), default=0)
    lines = [
        "# Performance",
        "",
        "<!-- Generated by bench/report.py from bench/results.json (make bench): edit those, not this file. -->",
        "",
        "How long etcdkit's SOPs take on the lab, against a floor: the same work done by a plain shell script",
        "on the same nodes in the same run. Every number below comes from `bench/results.json`, written by",
        (f"the last `make bench` ({runs} runs of each step)." if runs else "`make bench`: **no run yet, the numbers are placeholders**."),
        "",
        "```sh",
        "make bench   # on the lab (bin/lab up -n 5 first if needed), BENCH_RUNS=3 by default; not part of make test",
        "```",
        "",
        "## How it is measured",
        "",
        "- **The lab**: 5 systemd-nspawn Debian nodes on one machine, apt from the lab's local repository. Bare nodes",
        "  (`bin/lab reset`) before each create, for etcdkit and for the floor alike.",
        "- **The floor** (`bench/floor.sh`): parallel ssh over one multiplexed connection per node, no checks: install",
        "  etcd-server and etcd-client, a CA and member certificates (openssl), etcd.conf and the unit, a parallel start,",
        "  a wait for `endpoint health`, root and `auth enable`; then a learner added and promoted (join) and removed.",
        "  It pauses, untimed, 5 s before each membership change, since etcd refuses one sooner.",
        "- **etcdkit**: the deploys and `bin/etcd-*` commands as an operator runs them, with `-y -vv`. Each step is the",
        "  median of its runs (`BENCH_RUNS`); the ratio is that median over the floor's median for the same step.",
        "- **Round trips**: the shell commands pyinfra ran on each host (facts included), as its `-vv` output echoes",
        "  them (`[HOST] >>> ...`); SFTP uploads are not echoed and not counted. **Facts**: its `Loaded fact` lines.",
        "- **Writes**: during join, remove and the rolling restart, `tests/writer.py` writes a key every 20 ms through",
        "  the three remaining members in turn: acknowledged, failed, lost (acknowledged but missing afterwards) and",
        "  the longest stall, the longest time between two acknowledged writes.",
        "",
        "## Targets",
        "",
        *_rows(
            ["target", "measured", "met?"],
            [[target.text, target_value(target, results), verdict(target.met(results))] for target in TARGETS],
        ),
        "",
        "## Results",
        "",
        *_rows(
            ["step", "what", "median", "floor", "ratio", "round trips per host", "facts per host", "runs"],
            [
                [
                    f"`{name}`",
                    what,
                    seconds(_step(results, name).get("median_s")),
                    seconds(_step(results, name).get("floor_s")),
                    ratio(_step(results, name).get("ratio")),
                    per_host(_step(results, name).get("round_trips")),
                    per_host(_step(results, name).get("facts")),
                    ", ".join(f"{run:.2f}" for run in _step(results, name).get("runs", [])) or NONE,
                ]
                for name, what in STEPS.items()
            ],
        ),
        "",
        "Writes under the continuous writer (all runs together; the stall is the longest of any run):",
        "",
        *_rows(
            ["step", "acknowledged", "failed", "lost", "longest stall"],
            [[f"`{name}`", *_writes(_step(results, name).get("writes"))] for name in ("join", "remove", "rolling_restart")],
        ),
        "",
        "## Where the time goes",
        "",
        "A pyinfra run spends its time in four places: **before the first operation** (start-up, inventory, one SSH",
        "connection per host, and the facts every plan gathers, one round trip each), the **round trips** of its",
        "operations (each command is one; a no-op run is almost nothing else), **apt** (`Install etcd`, the floor's",
        "`install`), and **waits** for etcd itself (a new cluster's election, a learner catching up, a restarted member",
        "serving again), which the floor waits for too.",
        "",
        *_rows(
            ["step", "before the first operation", "slowest operations (median)"],
            [[f"`{name}`", seconds(_step(results, name).get("preparing_s")), _slowest(_step(results, name))] for name in STEPS],
        ),
        "",
        "The floor's create, phase by phase (medians):",
        "",
        *_rows(
            ["members", *CREATE_PHASES, "total"],
            [
                [
                    str(members),
                    *(seconds(_step(results, f"create{members}").get("floor_phases", {}).get(phase)) for phase in CREATE_PHASES),
                    seconds(_step(results, f"create{members}").get("floor_s")),
                ]
                for members in (1, 3, 5)
            ],
        ),
        "",
        *PROFILE,
        "",
        "## From 1 to 3 to 5 members",
        "",
        *_rows(
            ["members", "create", "floor", "ratio", "no-op", "round trips per host (create / no-op)", "facts per host (no-op)"],
            [_growth(results, members) for members in (1, 3, 5)],
        ),
        "",
        _growth_sentence(results),
        "",
    ]
    return "\n".join(lines)


def _writes(writes: dict | None) -> list[str]:
    if not writes:
        return [NONE] * 4
    return [str(writes["acknowledged"]), str(writes["failed"]), str(writes["lost"]), seconds(writes["longest_stall_s"])]


def _slowest(step: dict) -> str:
    operations = step.get("slowest_operations_s")
    return "; ".join(f"{name}: {value:.2f} s" for name, value in operations.items()) if operations else NONE


def _growth(results: dict, members: int) -> list[str]:
    create, noop = _step(results, f"create{members}"), _step(results, f"noop{members}")
    return [
        str(members),
        seconds(create.get("median_s")),
        seconds(create.get("floor_s")),
        ratio(create.get("ratio")),
        seconds(noop.get("median_s")),
        f"{per_host(create.get('round_trips'))} / {per_host(noop.get('round_trips'))}",
        per_host(noop.get("facts")),
    ]


def _growth_sentence(results: dict) -> str:
    """How much each member adds, from the smallest to the largest cluster measured."""
    sizes = [members for members in (1, 3, 5) if f"create{members}" in results and f"noop{members}" in results]
    if len(sizes) < 2:
        return "The growth per member appears here after a run."
    low, high = sizes[0], sizes[-1]

    def per_member(kind: str) -> float:
        return (results[f"{kind}{high}"]["median_s"] - results[f"{kind}{low}"]["median_s"]) / (high - low)

    return (
        f"From {low} to {high} members, each member adds {per_member('create'):.2f} s to create and "
        f"{per_member('noop'):.2f} s to the no-op."
    )


def main() -> None:
    DOC.write_text(markdown(results_file.load()))
    print(f"bench: wrote {DOC.relative_to(DOC.parent.parent)}")


if __name__ == "__main__":
    main()
