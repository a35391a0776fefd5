"""The commands of README.md and docs/ (docs/zh/ too) are the commands the lab tests run, and their links lead somewhere.

Every line of a ```sh block that starts with `pyinfra `, `bin/` or `make ` is reduced to its form: the
inventory, addresses, host names, cluster names and --data values may differ; the deploy file or
script, its flags and the --data keys must be a form of SOP_FORMS, each of which names the test of
tests/sops that runs it (and the test's text that shows it does). The few documented forms that no
test of tests/sops runs are listed in NOT_RUN_BY_SOP_TESTS, each with the reason: a form missing
from both lists fails, naming the command and the file.
"""

import re
import shlex
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]  # docs/zh/ too
SOP_TESTS = ROOT / "tests" / "sops"

# form -> (file of tests/sops, text of that file that runs the form)
SOP_FORMS = {
    "pyinfra INV deploys/create.py": ("test_create.py", 'deploy("create")'),
    "pyinfra INV deploys/create.py --dry": ("test_commands.py", 'typed("deploys/create.py", "--dry")'),
    "pyinfra INV deploys/create.py -vvv": ("test_create.py", 'deploy("create", "-vvv")'),
    "pyinfra INV deploys/create.py --data etcd_clean=*": ("test_create.py", 'deploy("create", "--data", "etcd_clean=true")'),
    "pyinfra INV deploys/create.py --data etcd_clean=* --data etcd_safeguard=*": (
        "test_create.py",
        '"--data", "etcd_clean=true", "--data", "etcd_safeguard=true"',
    ),
    "pyinfra INV deploys/create.py --data etcd_election_timeout=* --data etcd_heartbeat_interval=*": (
        "test_create.py",
        '"--data", "etcd_heartbeat_interval=150", "--data", "etcd_election_timeout=1500"',
    ),
    "pyinfra INV deploys/create.py --data etcd_tarball=* --data etcd_tarball_sha256=*": ("test_create.py", 'f"etcd_tarball_sha256='),
    "pyinfra INV deploys/create.py --data etcd_init=* --limit HOST": ("test_join.py", '"--data", "etcd_init=existing"'),
    "pyinfra INV deploys/create.py --data etcd_root_password=*": ("test_commands.py", 'f"etcd_root_password={new}"'),
    "pyinfra INV deploys/create.py --data etcd_pki_dir=*": ("test_commands.py", 'f"etcd_pki_dir='),
    "pyinfra INV deploys/join.py": ("test_join.py", 'deploy("join", nodes='),
    "pyinfra INV deploys/join.py --limit HOST": ("test_commands.py", 'typed("deploys/join.py", "--limit", NEW'),
    "pyinfra INV deploys/join.py --data etcd_join_timeout=* --limit HOST": ("test_join.py", '"etcd_join_timeout=6"'),
    "pyinfra INV deploys/remove.py --limit HOST": ("test_commands.py", 'typed("deploys/remove.py", "--limit", NEW'),
    "pyinfra INV deploys/remove.py --data etcd_safeguard=* --limit HOST": ("test_remove.py", '"--data", "etcd_safeguard=true"'),
    "pyinfra INV deploys/remove.py --data etcd_data=* --limit HOST": ("test_safety.py", '"--data", "etcd_data=/data"'),
    # run (and refused: the value is no address) by test_safety; bin/etcd-rm runs the same SOP with
    # --data etcd_remove=IP for every removal (etcdkit/cli/membership.py), as test_remove's runs show
    "pyinfra INV deploys/remove.py --data etcd_remove=*": ("test_safety.py", '("--data", "etcd_remove='),
    "pyinfra INV deploys/remove.py": ("test_remove.py", 'pyinfra(f"@ssh/{departing}", "deploys/remove.py")'),
    "pyinfra INV deploys/destroy.py": ("test_destroy.py", 'deploy("destroy")'),
    "pyinfra INV deploys/destroy.py --data etcd_safeguard=*": (
        "test_commands.py",
        'typed("deploys/destroy.py", "--data", "etcd_safeguard=false")',
    ),
    "pyinfra INV deploys/destroy.py --data etcd_safeguard=* --limit HOST": ("test_safety.py", 'deploy("destroy", "--limit"'),
    "pyinfra INV deploys/reload.py": ("test_commands.py", 'typed("deploys/reload.py")'),
    "pyinfra INV deploys/reload.py --data etcd_reload=*": ("test_reload.py", 'deploy("reload", "--data", "etcd_reload=restart"'),
    "pyinfra INV deploys/rotate_ca.py --data etcd_ca_cert=* --data etcd_ca_key=*": (
        "test_reload.py",
        '("rotate_ca", "--data", f"etcd_ca_cert=',
    ),
    # previewed there (--dry, with the host left out by --limit etcd): the rotation itself is the form above
    "pyinfra INV deploys/rotate_ca.py --data etcd_ca_cert=* --data etcd_ca_key=* --data etcd_rotate_skip=*": (
        "test_rotate_ca.py",
        '"--data", f"etcd_rotate_skip={ADMIN}"',
    ),
    "bin/etcd-ca ADDR ADDR": ("test_reload.py", '"etcd-ca"), "new"'),
    "pyinfra INV deploys/upgrade.py --data etcd_version=*": ("test_upgrade.py", '"--data", "etcd_version=3.5.16"'),
    "pyinfra INV deploys/downgrade.py --data etcd_version=*": ("test_version_rules.py", 'deploy("downgrade", "--data", "etcd_version='),
    "pyinfra INV deploys/upgrade.py --data etcd_tarball=* --data etcd_tarball_sha256=* --data etcd_version=*": (
        "test_upgrade.py",
        'upgrade_under_writes("--data", "etcd_version=3.5.30", *tarball("3.5.30"))',
    ),
    "pyinfra INV deploys/maintain.py": ("test_maintain.py", 'deploy("maintain", *small, *keep_none)'),
    "bin/etcd-backup -i INV": ("test_backup.py", 'script("etcd-backup", nodes='),
    "pyinfra INV deploys/backup.py": ("test_backup.py", 'deploy("backup"'),
    "pyinfra INV deploys/backup.py --data etcd_backup_keep=*": ("test_backup.py", 'deploy("backup", "--data", "etcd_backup_keep=2")'),
    "bin/etcd-restore -i INV ADDR": ("test_backup.py", 'script("etcd-restore", str('),
    "bin/etcd-restore --data etcd_restore_from=* -i INV ADDR": ("test_backup_faults.py", '"--data", "etcd_restore_from=staging"'),
    "pyinfra INV deploys/restore.py --data etcd_restore=*": ("test_backup.py", 'deploy("restore", "--data", f"etcd_restore='),
    "pyinfra INV deploys/create.py --data etcd_backup_schedule=*": ("test_backup.py", '"--data", "etcd_backup_schedule='),
    "pyinfra INV deploys/recover.py": ("test_recover.py", 'deploy("recover")'),
    "pyinfra INV deploys/recover.py --data etcd_recover_lost=* --exclude HOST": (
        "test_recover.py",
        'LOST_3 = ("--data", "etcd_recover_lost=10.10.10.12", "--exclude", "10.10.10.12")',
    ),
    "pyinfra INV deploys/create.py --ssh-user USER --sudo": ("test_sudo.py", 'deploy("create", *SUDO)'),
    "bin/etcd-add --ssh-user USER --sudo -i INV ADDR": ("test_sudo.py", 'script("etcd-add", *SUDO, NEW'),
    "pyinfra INV deploys/create.py --data etcd_ca_cert=* --data etcd_ca_key=* --data etcd_root_password_file=*": (
        "test_takeover.py",
        'takeover = [f"etcd_ca_cert={pki}/ca/ca.crt", f"etcd_ca_key={pki}/ca/ca.key", f"etcd_root_password_file={password}"]',
    ),
    "bin/etcd-add -i INV ADDR": ("test_join.py", 'script("etcd-add", NODES[1]'),
    "bin/etcd-rm -i INV ADDR": ("test_remove.py", 'script("etcd-rm", follower'),
    "bin/etcd-rm -i INV --destroy CLUSTER": ("test_destroy.py", 'script("etcd-rm", "--destroy", "etcd"'),
    "bin/etcd-rm -i INV": ("test_safety.py", 'script("etcd-rm", nodes='),
    "bin/etcd-status -i INV": ("test_create.py", '"etcd-status"), "-i", "inventories/lab.py"'),
}

# Documented forms that no test of tests/sops runs, and why they are documented anyway.
NOT_RUN_BY_SOP_TESTS = {
    "make demo": "a Makefile target: bin/lab up, then the create form above, then bin/etcd-status",
    "make test": "a Makefile target: runs the test suite itself",
    "make bench": "a Makefile target: the benchmark on the lab (bench/run.py), run by hand, never by the tests",
    "make test-versions": "a Makefile target: the lab tests of tests/versions (docs/versions.md), run by hand, not by make test",
    "pyinfra INV etcdkit.sops.create": "the function form for an installed package; no test runs it (tests/package only imports etcdkit.sops)",
    "pyinfra INV etcdkit.sops.join --limit HOST": "the function form; bin/etcd-add runs it for each address (etcdkit/cli/membership.py)",
    "pyinfra INV deploys/destroy.py --data etcd_backup=* --data etcd_safeguard=*": "destroy without a snapshot, for a cluster that "
    "no longer answers (docs/troubleshooting.md); no test destroys without a snapshot",
    "bin/lab tarball": 'run by tests/sops/test_upgrade.py for its tarball upgrade (lab("tarball", ...)), not by tests/lab',
    "bin/lab ssh": "the lab's shell for you; the tests reach nodes with plain ssh (tests/helpers.py), never through bin/lab ssh",
    "pyinfra INV deploys/maintain.py --data etcd_compact_keep=* --data etcd_maintain=*": "the parts and the history kept, chosen; "
    "test_maintain.py runs maintain with all parts, tests/unit/test_plan_maintain.py each choice",
    "bin/etcd-add ADDR ADDR": "several addresses, inventory from $ETCD_INVENTORY; the tests add one address at a time, always with -i",
    "pyinfra INV deploys/create.py --data etcd_root_password_file=*": "the file form of --data etcd_root_password, which "
    "test_commands.py runs; tests/unit/test_passwords.py shows that the file's password is the one the plan uses",
    "pyinfra INV deploys/recover.py --data etcd_safeguard=*": "the override the refusal names (docs/troubleshooting.md); "
    "tests/unit/test_plan_recover.py shows the refusal, no lab test recovers a guarded cluster",
    "pyinfra INV deploys/reload.py --data etcd_patroni_restart_primary=*": "lab test pending (issue 16): the replica-first order and "
    "the primary's opt-in are unit-tested (tests/unit/test_plan_reload.py)",
}

# bin/lab is the test bench, not an SOP: its subcommands are run by tests/lab/test_lab.py.
LAB_TEST = ROOT / "tests" / "lab" / "test_lab.py"
PREFIXES = ("pyinfra ", "bin/", "make ")


def sh_lines(path: Path):
    """(line number, text) of each line inside the file's ```sh blocks."""
    inside = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("```"):
            inside = not inside and stripped == "```sh"
            continue
        if inside:
            yield number, stripped


def commands():
    """(file, line number, command) of every documented command that starts with a PREFIX."""
    for path in DOCS:
        for number, line in sh_lines(path):
            if not re.match(r"(?:[A-Z_][A-Z0-9_]*=\S*\s+)*(?:" + "|".join(map(re.escape, PREFIXES)) + ")", line):
                continue
            words = shlex.split(line, comments=True)
            while re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):  # VAR=value before the command
                words.pop(0)
            yield path.relative_to(ROOT), number, words


def form(words: list[str]) -> str:
    """The command's form: placeholders for what may differ, options sorted, -y left out."""
    program, rest = words[0], words[1:]
    if program == "make" or program == "bin/lab":
        return " ".join([program, *rest[:1]])
    head, options, positional = [program], [], []
    if program == "pyinfra":
        head += ["INV", rest[1]]  # the inventory (a file, @ssh/IP, ...), the deploy file or function
        rest = rest[2:]
    while rest:
        word = rest.pop(0)
        if word == "-y":
            continue
        if word == "--data":
            options.append(f"--data {rest.pop(0).split('=', 1)[0]}=*")
        elif word in ("--limit", "--exclude", "-i", "--destroy", "--ssh-user"):
            rest.pop(0)
            options.append(
                {
                    "--limit": "--limit HOST",
                    "--exclude": "--exclude HOST",
                    "-i": "-i INV",
                    "--destroy": "--destroy CLUSTER",
                    "--ssh-user": "--ssh-user USER",
                }[word]
            )
        elif word.startswith("-"):
            options.append(word)
        else:
            positional.append("ADDR")
    return " ".join(head + sorted(options, key=lambda option: (option.startswith("--destroy"), option)) + positional)


def test_every_documented_command_is_a_form_the_tests_run():
    unknown = []
    for path, number, words in commands():
        shape = form(words)
        if words[0] == "bin/lab":  # `bin/lab stop NODE | start NODE`: each subcommand
            for sub in [words[1], *(words[i + 1] for i, word in enumerate(words) if word == "|")]:
                if f'lab("{sub}"' not in LAB_TEST.read_text(encoding="utf-8") and f"bin/lab {sub}" not in NOT_RUN_BY_SOP_TESTS:
                    unknown.append(f"{path}:{number}: {shlex.join(words)}  (bin/lab {sub}: tests/lab/test_lab.py never runs it)")
        elif shape not in SOP_FORMS and shape not in NOT_RUN_BY_SOP_TESTS:
            unknown.append(f"{path}:{number}: {shlex.join(words)}  (form: {shape})")
    assert not unknown, "documented commands that no test runs:\n" + "\n".join(unknown)


def test_each_listed_form_is_run_by_the_test_it_names():
    missing = [
        f"{shape}: tests/sops/{name} does not contain {text!r}"
        for shape, (name, text) in SOP_FORMS.items()
        if text not in (SOP_TESTS / name).read_text(encoding="utf-8")
    ]
    assert not missing, "SOP_FORMS is out of date:\n" + "\n".join(missing)


def test_forms_no_test_runs_are_still_documented_and_make_targets_exist():
    documented = {form(words) for _, _, words in commands()}
    assert not set(NOT_RUN_BY_SOP_TESTS) - documented, "NOT_RUN_BY_SOP_TESTS lists forms the docs no longer show"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for shape in NOT_RUN_BY_SOP_TESTS:
        if shape.startswith("make "):
            assert re.search(rf"^{shape.split()[1]}:", makefile, re.M), f"{shape}: no such target in the Makefile"


def test_make_test_runs_each_test_folder_once():
    """The unit suite under coverage (make coverage), every other testpath of pyproject.toml by name."""
    testpaths = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]["testpaths"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^test: (.*)\n\t\$\(BIN\)/pytest (.*)$", makefile, re.M)
    assert recipe and "coverage" in recipe[1].split(), "make test runs make coverage, then pytest"
    assert re.search(r"^coverage:.*\n.*pytest tests/unit ", makefile, re.M)
    assert sorted(recipe[2].split()) == sorted(set(testpaths) - {"tests/unit"})


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(line.lstrip("#")) for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#")}


@pytest.mark.parametrize("path", DOCS, ids=[str(p.relative_to(ROOT)) for p in DOCS])
def test_every_relative_link_leads_to_a_file(path):
    broken = []
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        destination = (path.parent / file).resolve() if file else path
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no heading #{anchor} in {destination.relative_to(ROOT)}")
    assert not broken, f"{path.relative_to(ROOT)}:\n" + "\n".join(broken)
