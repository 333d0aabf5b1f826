"""Condition values as IAM reads them: wildcards and policy variables.

A value becomes a :data:`Pattern`, a tuple of tokens: one-character strings (matched
literally) and the wildcards :data:`ANY` (``*``) and :data:`ONE` (``?``), which only
``StringLike``/``ArnLike`` honour. Under ``"Version": "2012-10-17"`` each ``${key}`` is replaced
by the key's value from the request context; ``${key, 'default'}`` uses ``default`` when the
key has no value; ``${*}``, ``${?}`` and ``${$}`` stand for a literal ``*``, ``?`` and ``$``
(IAM User Guide, "IAM policy elements: Variables and tags",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html). A
substituted value is literal text. Under ``2008-10-17`` or without ``Version``, ``${...}`` is
literal text ("IAM JSON policy elements: Version").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from .context import Known, Unknown

__all__ = ["ANY", "ONE", "UNKNOWN", "Pattern", "like", "pattern", "resolve", "text"]

VARIABLES_VERSION = "2012-10-17"


class _Wildcard(str):
    """A wildcard token (a ``str`` subclass, so that it prints as itself)."""


ANY = _Wildcard("*")
ONE = _Wildcard("?")
Pattern = tuple[str, ...]
#: A value whose variable names a key the evidence cannot settle.
UNKNOWN = object()

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,]+?)\s*,\s*'([^']*)'\s*$")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


@lru_cache(maxsize=8192)
def pattern(value: str) -> Pattern:
    """Tokens of ``value`` with ``*`` and ``?`` as wildcards."""
    return tuple(ANY if c == "*" else ONE if c == "?" else c for c in value)


def text(tokens: Pattern) -> str:
    """The value as written (wildcards as ``*``/``?``)."""
    return "".join(tokens)


def like(tokens: Pattern, value: str) -> bool:
    """Whole-string match of ``value`` against ``tokens`` (``*`` any run, ``?`` one char)."""
    p = v = 0
    star = -1
    mark = 0
    plen, vlen = len(tokens), len(value)
    while v < vlen:
        if p < plen and tokens[p] is ANY:
            star, mark = p, v
            p += 1
        elif p < plen and (tokens[p] is ONE or (tokens[p] == value[v] and type(tokens[p]) is str)):
            p += 1
            v += 1
        elif star >= 0:
            p = star + 1
            mark += 1
            v = mark
        else:
            return False
    while p < plen and tokens[p] is ANY:
        p += 1
    return p == plen


def resolve(
    value: str, lookup: Callable[[str], Known | Unknown | None], variables: bool
) -> Pattern | object | None:
    """``value`` as a :data:`Pattern` with its variables substituted (when ``variables``):
    ``None`` when a variable has no value and no default (the value matches nothing: "Policy
    variables with no value"), :data:`UNKNOWN` when a variable's value is not in evidence."""
    if not variables or "${" not in value:
        return pattern(value)
    out: list[str] = []
    pos = 0
    for m in _VARIABLE.finditer(value):
        out.extend(pattern(value[pos : m.start()]))
        pos = m.end()
        name = m.group(1)
        if name in _ESCAPES:
            out.append(_ESCAPES[name])
            continue
        default = _DEFAULT.match(name)
        key = default.group(1) if default else name.strip()
        entry = lookup(key)
        if isinstance(entry, Unknown):
            return UNKNOWN
        if isinstance(entry, Known):
            out.extend(entry.value)
        elif default:
            out.extend(default.group(2))
        else:
            return None
    out.extend(pattern(value[pos:]))
    return tuple(out)
