"""Command lines from a fixed template and quoted values: the one way etcdkit writes a shell command.

    sh("rm -f -- {paths}", paths=["/etc/etcd/a b", "/run/x"])   ->  rm -f -- '/etc/etcd/a b' /run/x

Every `{name}` of the template is a value, quoted as one shell word (shlex.quote, through pyinfra's
QuoteString); a list or tuple is one word per item; a StringCommand is a command built the same
way, put in as it is. Only the template is shell: it is a literal of the caller's, with shell braces
doubled as in str.format, and a value is never put inside quotes of the template. A value read back
from etcd or from a host is quoted like any other.

A program with a loop, a trap, a temporary file or messages of its own is a script of
templates/scripts/ (`script`), rendered with its values through the `shell` filter; shellcheck checks
each one (`make lint`), and tests/unit runs them against stand-in programs.
"""

from string import Formatter

from pyinfra.api import QuoteString, StringCommand

from etcdkit.remote.render import render, script_text

# what etcdkit.remote's functions return, and what the runners of etcdkit/operations/on_host.py take
Command = StringCommand


def sh(template: str, /, **values) -> StringCommand:
    """The template with each {name} replaced by its value, quoted."""
    bits: list = []
    for literal, name, spec, conversion in Formatter().parse(template):
        if literal:
            bits.append(literal)
        if name is None:
            continue
        if spec or conversion:
            raise ValueError(f"{{{name}}}: no format spec or conversion in a command template")
        bits.extend(_words(values[name]))
    return StringCommand(*bits, _separator="")


def _words(value) -> list:
    if isinstance(value, StringCommand):
        return [value]
    if isinstance(value, (list, tuple)):
        words: list = []
        for number, item in enumerate(value):
            words += ([" "] if number else []) + _words(item)
        return words
    if value is None or isinstance(value, bool):
        raise TypeError(f"{value!r} is not a value for a command line")
    return [QuoteString(str(value))]


def announce(message: str) -> StringCommand:
    """A command that does nothing but show the message (`: 'message'`): a change the preview must
    show, which only the run's execution can make."""
    return sh(": {message}", message=message)


def joined(commands: list[StringCommand], separator: str = " && ") -> StringCommand:
    """Commands in one command line, each only if the one before succeeded (&&), or with the separator ("; ")."""
    return StringCommand(*commands, _separator=separator)


def script(name: str, /, **values) -> StringCommand:
    """templates/scripts/<name> rendered with these values (a StringCommand value goes in as its
    text), as one command: pyinfra runs it with `sh -c`, as any command."""
    text = render(f"scripts/{name}", **{key: _raw(value) for key, value in values.items()})
    return StringCommand(text)


def python(name: str, /, *arguments) -> StringCommand:
    """templates/scripts/<name>, a Python program, run with `python3 -c` and these arguments."""
    return StringCommand("python3", "-c", *(QuoteString(str(word)) for word in (script_text(name), *arguments)))


def _raw(value):
    return value.get_raw_value() if isinstance(value, StringCommand) else value
