"""The text catalogue: titles, details, remediation and explanations per check id.

Text lives in ``en.yaml`` (and translations such as ``zh.yaml``) keyed by check id;
code only names keys and passes parameters. Missing translations fall back to English.
"""

from __future__ import annotations

import string
from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGUAGES = ("en", "zh")


@cache
def catalogue(lang: str = "en") -> dict[str, Any]:
    """The catalogue for ``lang`` (``en`` or ``zh``)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    text = resources.files(__package__).joinpath(f"{lang}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text) or {}


def lookup(lang: str, *path: str) -> Any:
    """The entry at ``path`` (e.g. ``"role_exists", "detail", "pass"``), English fallback."""
    for cat in (catalogue(lang), catalogue("en")) if lang != "en" else (catalogue("en"),):
        node: Any = cat
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
            if node is None:
                break
        if node is not None:
            return node
    return None


def render(lang: str, path: tuple[str, ...], params: dict[str, Any]) -> str:
    """Render the template at ``path`` with ``params`` (unknown placeholders stay visible)."""
    compiled = _compiled(lang, path)
    if compiled is None:
        return ""
    template, fields = compiled
    values = {f: _fmt(params[f]) if f in params else "{" + f + "}" for f in fields}
    return template.format_map(values).strip()


@cache
def _compiled(lang: str, path: tuple[str, ...]) -> tuple[str, frozenset[str]] | None:
    """The template at ``path`` and the parameter names it uses (parsed once)."""
    template = lookup(lang, *path)
    if template is None:
        return None
    template = str(template)
    fields = frozenset(
        name.split(".")[0].split("[")[0]
        for _, name, _, _ in string.Formatter().parse(template)
        if name
    )
    return template, fields


def _fmt(value: Any) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value) if value else "-"
    return str(value)
