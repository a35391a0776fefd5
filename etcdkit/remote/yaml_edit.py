"""Keys of a YAML config set in its text, everything else kept: the other keys, their order, the
comments, the quotes and the indentation (a round trip through ruamel.yaml, on the control node:
the hosts need nothing but python3 and PyYAML, which cannot keep comments)."""

import io
import re

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent

# comments, blank lines, directives and `---` before the first key: ruamel drops comments that
# come before a document start, so they are kept as they are
PREAMBLE = re.compile(r"(?:(?:[ \t]*(?:#.*)?|---[ \t]*|%.*)\n)*")


def set_keys(text: str, values: dict) -> str:
    """The text with each key ("a.b" is key b of mapping a) set to its value, a missing mapping
    on the way created; a None value removes the key."""
    preamble = PREAMBLE.match(text).group(0)
    body = text[len(preamble) :]
    _, indent, sequence_offset = load_yaml_guess_indent(body) if body.strip() else (None, None, None)
    indent = indent or 2
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line (pg_hba rules)
    if sequence_offset is None:  # no block sequence yet: "- " indented under its key
        yaml.indent(mapping=indent, sequence=indent + 2, offset=indent)
    else:
        yaml.indent(mapping=sequence_offset or indent, sequence=indent, offset=sequence_offset)
    document = yaml.load(body)
    if document is None:
        document = {}
    for key, value in values.items():
        node, parts = document, key.split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        if value is None:
            node.pop(parts[-1], None)
        elif parts[-1] in node:
            node[parts[-1]] = value
        else:
            _append(node, parts[-1], value)
    out = io.StringIO()
    yaml.dump(document, out)
    return preamble + out.getvalue()


def _append(node, key: str, value) -> None:
    """A new last key of a mapping. ruamel keeps the comments and blank lines after a mapping's
    last value with that value: they move below the new key (the old last keeps its own line's
    comment), so a blank line that ends a section still ends it."""
    last = next(reversed(node), None) if isinstance(node, CommentedMap) else None
    node[key] = value
    tokens = node.ca.items.get(last) if last is not None else None
    if not tokens or len(tokens) < 3 or tokens[2] is None:
        return
    comment = tokens[2]
    own_line, _, rest = comment.value.partition("\n")
    if rest:
        comment.value = own_line + "\n"
        node.ca.items[key] = [None, None, CommentToken("\n" + rest, comment.start_mark, None), None]
