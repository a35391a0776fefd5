"""Only etcdkit/remote/ builds command lines: everywhere else, operations and facts call its functions,
which return pyinfra StringCommands made of quoted parts (etcdkit/remote/shell.py).

The check reads the syntax tree of every module of etcdkit/ and facts/ outside ALLOWED, and fails on
what building a command line takes:

1. the tools for it: `shlex`, and pyinfra's StringCommand, QuoteString, MaskString and
   make_formatted_string_command;
2. a string where a command goes: a literal, an f-string, a `+` of strings, or a str.join/format call
   yielded by a generator (an operation), returned by a fact's `command`, or passed to the command
   runners of callbacks (on_host.run/output/own, host.run_shell_command);
3. in the modules that run things on hosts (operations, facts, tasks), any literal or f-string that
   starts like a shell command: a command name of SHELL_WORDS then a space, or an assignment
   (`ETCDCTL_USER=...`), which also catches one appended to a list before it is yielded.

Messages for people are not commands: the text of host.noop(), the logger's and an exception's
(MESSAGES) is not checked, and a refusal's fix ("run `systemctl start etcd`") does not start that way.
"""

import ast
import re
from pathlib import Path

from tests.unit.sources import etcdkit_modules, parsed, walk

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = ROOT / "etcdkit" / "remote"
TOOLS = {"shlex", "StringCommand", "QuoteString", "MaskString", "make_formatted_string_command"}
RUNNERS = {"run", "output", "own", "run_shell_command"}
# what etcdkit's commands started with before they moved to etcdkit/remote/
SHELL_WORDS = (
    "apt-get|cat|chmod|chown|cp|curl|dnf|echo|etcdctl|etcdutl|for|grep|head|if|journalctl|ls|mkdir|mktemp|mv|"
    "openssl|printf|python3|rm|rmdir|sed|sha256sum|ss|stat|systemctl|tar|trap|umask|until|useradd|yum"
)
SHELL_START = re.compile(rf"^\s*[({{]?\s*(?:(?:{SHELL_WORDS}) |[A-Z_]+=\S|: )")
RUNS_ON_HOSTS = ("etcdkit/operations/", "facts/", "etcdkit/tasks/")
# calls whose strings are messages for people
MESSAGES = {"noop", "debug", "info", "warning", "error", "OperationError", "DeployError", "turn_failed"}


def modules() -> list[Path]:
    return [path for path in etcdkit_modules() if ALLOWED not in path.parents]


def _stringy(node: ast.AST) -> bool:
    """A string made here: a literal, an f-string, a + of strings, or a join/format of one."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _stringy(node.left) or _stringy(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("join", "format"):
        return _stringy(node.func.value)
    if isinstance(node, ast.IfExp):
        return _stringy(node.body) or _stringy(node.orelse)
    if isinstance(node, (ast.List, ast.Tuple)):
        return any(_stringy(element) for element in node.elts)
    return False


def _text(node: ast.AST) -> str | None:
    """The literal text a string starts with ({} for a value an f-string puts in)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
    return None


def _not_strings(tree: ast.AST) -> set[int]:
    """The docstrings, the messages (MESSAGES' arguments), and the literal parts of f-strings (the
    f-string is checked as a whole)."""
    found = set()
    for node in walk(tree):
        if isinstance(node, ast.Call) and _name(node) in MESSAGES:
            found.update(id(part) for argument in node.args for part in ast.walk(argument))
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
        if isinstance(node, ast.JoinedStr):
            found.update(id(part) for part in ast.walk(node) if part is not node and isinstance(part, (ast.Constant, ast.JoinedStr)))
    return found


def _name(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


def command_lines(tree: ast.Module, where: str) -> list[str]:
    """Where the module (its syntax tree, and its path in the repository) builds a command line: `path:line what`."""
    found = []

    def note(node: ast.AST, what: str) -> None:
        found.append(f"{where}:{node.lineno} {what}")

    skipped = _not_strings(tree)
    on_hosts = where.startswith(RUNS_ON_HOSTS)
    for node in walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in TOOLS:
                    note(node, f"imports {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in TOOLS:
                    note(node, f"imports {alias.name}")
        elif isinstance(node, ast.Name) and node.id in TOOLS:
            note(node, f"uses {node.id}")
        elif isinstance(node, (ast.Yield, ast.YieldFrom)) and node.value is not None and _stringy(node.value):
            note(node, "yields a string as a command")
        elif isinstance(node, ast.FunctionDef) and node.name == "command":
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None and _stringy(inner.value):
                    note(inner, "a fact's command is a string")
        elif isinstance(node, ast.Call):
            name = _name(node)
            if name in RUNNERS and node.args and _stringy(node.args[0]):
                note(node, f"runs a string with {name}()")
        if on_hosts and id(node) not in skipped:
            text = _text(node)
            if text is not None and SHELL_START.match(text):
                note(node, f"a command line: {text[:60]!r}")
    return found


def test_only_etcdkit_remote_builds_command_lines():
    found = [line for path in modules() for line in command_lines(parsed(path), path.relative_to(ROOT).as_posix())]
    assert found == [], "build these in etcdkit/remote/ (etcdkit/remote/shell.py):\n" + "\n".join(found)


def test_the_check_finds_what_it_looks_for():
    """Each kind of command line the check is for, in a module where it may not be."""
    sample = (
        "import shlex\n"
        "from pyinfra.api import StringCommand\n"
        "def op(path, tool):\n"
        "    yield f'rm -f {path}'\n"
        "    yield 'chmod 644 ' + path\n"
        "    commands = [f'{tool} remove -y', f'systemctl daemon-reload']\n"
        "    on_host.run(f'{tool} defrag')\n"
        "    message = f'then run `systemctl start etcd` on {path}'\n"
        "    host.noop(f'etcdctl {tool} is installed')\n"
        "class Fact:\n"
        "    def command(self, path):\n"
        "        return f'{path} --version'\n"
    )
    found = [line.split(" ", 1)[1] for line in command_lines(ast.parse(sample), "etcdkit/operations/sample.py")]
    assert found.count("imports shlex") == 1 and found.count("imports StringCommand") == 1
    assert found.count("yields a string as a command") == 2
    assert "runs a string with run()" in found and "a fact's command is a string" in found
    assert "a command line: 'rm -f {}'" in found and "a command line: 'systemctl daemon-reload'" in found
    assert not any("then run" in line or "is installed" in line for line in found)  # messages for people
