"""Just enough PromQL reading for the monitoring tests: the metric selectors of an expression."""

import re

SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^}]*)\}")
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
RANGE = re.compile(r"\[[^\]]*\]")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
WORD = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
# functions, aggregations and keywords the expressions use
KNOWN_WORDS = {
    "sum", "count", "max", "min", "avg", "rate", "increase", "changes", "histogram_quantile", "predict_linear",
    "time", "vector", "last_over_time", "and", "or", "unless", "bool", "offset",
}  # fmt: skip


def selectors(expr: str) -> list[tuple[str, str]]:
    """(metric, label matchers) of every selector; an error for a metric named without a selector."""
    found = SELECTOR.findall(expr)
    rest = GROUPING.sub(" ", RANGE.sub(" ", SELECTOR.sub(" ", expr)))
    rest = re.sub(r"\b\d+(\.\d+)?(e[+-]?\d+)?\b", " ", STRING.sub(" ", rest))
    bare = [word for word in WORD.findall(rest) if word not in KNOWN_WORDS]
    if bare:
        raise ValueError(f"{expr!r}: {bare} without label matchers (or a function these tests do not know)")
    return found


def matchers(labels: str) -> dict[str, str]:
    """`job=~"etcd-.*", cls="$cls"` as {"job": '=~"etcd-.*"', "cls": '="$cls"'}."""
    return {name: op + value for name, op, value in re.findall(r'([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*")', labels)}
