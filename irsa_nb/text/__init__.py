"""The text catalogue: titles, details, remediation and explanations per check id.

Text lives in ``en.yaml`` (and translations such as ``zh.yaml``); each check's own text lives
beside its code (``irsa_nb/checks/<check_id>.yaml``) and joins the catalogue under its check
id when the check registers (:func:`register`). Code only names keys and passes parameters.
Missing translations fall back to English.

Sentence fragments built below the checks (a trust-policy explanation, an ARN parse error,
a credential-chain rule) are :class:`Msg` objects: a ``str`` holding the English text, so
existing callers and the JSON evidence see plain English, that also remembers its catalogue
key and parameters. :func:`render` renders a ``Msg`` parameter in the row's language.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

import yaml

__all__ = ["LANGUAGES", "Msg", "catalogue", "join", "lookup", "phrase", "register", "render"]

LANGUAGES = ("en", "zh")


#: Sections added by :func:`register` (each check's text, keyed by its id), per language.
_REGISTERED: dict[str, dict[str, Any]] = {lang: {} for lang in LANGUAGES}


def register(section: str, by_lang: Mapping[str, Any]) -> None:
    """Add ``section`` (a check's title, explanation, details and remediation, keyed by its
    check id) to the catalogue of each language; the check registry calls it for every
    check, whose text lives beside its code (``irsa_nb/checks/<check_id>.yaml``)."""
    for lang, entry in by_lang.items():
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r} in the text of {section}")
        _REGISTERED[lang][section] = entry
    catalogue.cache_clear()
    _compiled.cache_clear()
    _by_english.cache_clear()


@cache
def catalogue(lang: str = "en") -> dict[str, Any]:
    """The catalogue for ``lang`` (``en`` or ``zh``): ``<lang>.yaml`` and the registered
    sections (the checks' text)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    text = resources.files(__package__).joinpath(f"{lang}.yaml").read_text(encoding="utf-8")
    base = yaml.safe_load(text) or {}
    clash = sorted(base.keys() & _REGISTERED[lang].keys())
    if clash:
        raise ValueError(f"{lang}.yaml and a check's text both define {', '.join(clash)}")
    return {**base, **_REGISTERED[lang]}


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
    """Render the template at ``path`` with ``params`` (unknown placeholders stay visible).

    :class:`Msg` parameters are rendered in ``lang``; a plain ``what`` parameter that is the
    English text of a ``_what`` entry is translated.
    """
    compiled = _compiled(lang, path)
    if compiled is None:
        return ""
    template, fields = compiled
    if lang != "en" and "what" in fields and "what" in params:
        # {what} names the evidence in _common; callers pass its English name (_what).
        params = {**params, "what": phrase("_what", params["what"])}
    values = {f: _fmt(params[f], lang) if f in params else "{" + f + "}" for f in fields}
    return template.format_map(values).strip()


class Msg(str):
    """A catalogue fragment: the English text as a ``str``, renderable in any language.

    ``Msg("_trust.allow", index=1, ...)`` renders the template at ``_trust.allow``; its
    parameters may themselves be ``Msg`` objects (or lists of them), rendered in the same
    language. :func:`join` builds a ``Msg`` from parts and a catalogue separator. Comparing,
    hashing, formatting or JSON-encoding a ``Msg`` uses the English text.

    Examples
    --------
    >>> m = Msg("_arn.empty")
    >>> m, m.in_lang("zh") != m
    ('it is empty', True)
    """

    path: tuple[str, ...]
    params: dict[str, Any]
    parts: tuple[Any, ...] | None

    def __new__(cls, key: str, /, **params: Any) -> Msg:
        return cls._make(tuple(key.split(".")), params, None)

    @classmethod
    def _make(cls, path: tuple[str, ...], params: dict[str, Any], parts: tuple | None) -> Msg:
        if parts is None and _compiled("en", path) is None:
            raise KeyError(f"no text {'.'.join(path)!r} in the en catalogue")
        self = str.__new__(cls, _text("en", path, params, parts))
        self.path, self.params, self.parts = path, params, parts
        return self

    @property
    def key(self) -> str:
        """The catalogue key (for :func:`join`: the separator's key)."""
        return ".".join(self.path)

    def in_lang(self, lang: str) -> str:
        """The text in ``lang`` (English for ``en``)."""
        return str(self) if lang == "en" else _text(lang, self.path, self.params, self.parts)

    def __reduce__(self) -> tuple:
        return (Msg._make, (self.path, self.params, self.parts))


def join(parts: Iterable[Any], sep: str = "semicolon") -> Msg:
    """The ``parts`` joined by the separator ``_sep.<sep>`` of each language (``"; "``...)."""
    return Msg._make(("_sep", sep), {}, tuple(parts))


def phrase(section: str, english: Any) -> Any:
    """The ``Msg`` of ``section`` whose English text is ``english``, else ``english`` itself.

    For names callers pass in English (``from_gap(gap, "the cluster description")``).
    """
    if isinstance(english, Msg) or not isinstance(english, str):
        return english
    key = _by_english(section).get(english)
    return Msg(f"{section}.{key}") if key else english


@cache
def _by_english(section: str) -> dict[str, str]:
    entries = lookup("en", *section.split(".")) or {}
    return {str(v): k for k, v in entries.items() if isinstance(v, str)}


def _text(lang: str, path: tuple[str, ...], params: dict[str, Any], parts: tuple | None) -> str:
    if parts is None:
        return render(lang, path, params)
    sep = lookup(lang, *path)
    sep = "; " if sep is None else str(sep)
    return sep.join(_fmt(p, lang) for p in parts)


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


def _fmt(value: Any, lang: str = "en") -> str:
    if isinstance(value, Msg):
        return value.in_lang(lang)
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(_fmt(v, lang) for v in value) if value else "-"
    return str(value)
