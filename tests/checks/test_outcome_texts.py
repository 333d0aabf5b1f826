"""Every outcome a check can emit has its text in every language: never a silent empty cell.

The outcome keys are read from the code (``Finding(status, key, ...)`` in the check function
and the module functions it calls; a key may be a literal, a conditional of literals, a
local variable assigned such, or an f-string matched against the declared keys) and held
against the check's ``<check_id>.yaml``; keys starting with ``_`` are shared (``_common``).
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from irsa_nb import REGISTRY, STATUSES, run_checks
from irsa_nb.checks import registry
from irsa_nb.text import LANGUAGES, catalogue, lookup

CHECKS = Path(registry.__file__).parent
#: What registry.from_gap can return (its keys are built from the gap's kind).
FROM_GAP = {"_not_collected", "_invalid"} | {
    f"_call_{k}" for k in ("expired", "transient", "unreachable", "failed")
}


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


#: The shared helpers a check may call (they return findings too, e.g. trust_inputs).
HELPERS = _functions(ast.parse((CHECKS / "helpers.py").read_text(encoding="utf-8")))


def _reachable(func: ast.FunctionDef, functions: dict[str, ast.FunctionDef]) -> list:
    """``func`` and the functions of its module it calls, transitively."""
    seen, todo = {func.name: func}, [func]
    while todo:
        for node in ast.walk(todo.pop()):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                name = node.func.id
                if name in functions and name not in seen:
                    seen[name] = functions[name]
                    todo.append(functions[name])
    return list(seen.values())


def _values(expr: ast.expr, func: ast.FunctionDef) -> list:
    """The strings (or f-string patterns) a key expression can take; None when unknown."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [expr.value]
    if isinstance(expr, ast.IfExp):
        return _values(expr.body, func) + _values(expr.orelse, func)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):  # "pass" + seen
        left, right = _values(expr.left, func), _values(expr.right, func)
        if all(isinstance(v, str) for v in left + right):
            return [a + b for a in left for b in right]
        return [None]
    if isinstance(expr, ast.JoinedStr):
        parts = [re.escape(p.value) if isinstance(p, ast.Constant) else ".+" for p in expr.values]
        return [re.compile("".join(parts))]
    if isinstance(expr, ast.Name):
        assigned = []
        for n in ast.walk(func):
            if not isinstance(n, ast.Assign):
                continue
            for t in n.targets:
                if isinstance(t, ast.Name) and t.id == expr.id:
                    assigned.append(n.value)
                elif isinstance(t, ast.Tuple):  # status, key = ("FAIL", "x") if ... else ...
                    names = [e.id if isinstance(e, ast.Name) else None for e in t.elts]
                    if expr.id in names:
                        assigned += _element(n.value, names.index(expr.id))
        return [v for a in assigned for v in _values(a, func)] or [None]
    return [None]


def _element(expr: ast.expr, i: int) -> list[ast.expr]:
    if isinstance(expr, ast.Tuple) and len(expr.elts) > i:
        return [expr.elts[i]]
    if isinstance(expr, ast.IfExp):
        return _element(expr.body, i) + _element(expr.orelse, i)
    return [ast.Constant(None)]


def _tabled(func: ast.FunctionDef) -> set[str]:
    """Keys in (status, key, ...) tuples, for checks that pick a finding from a table."""
    return {
        n.elts[1].value
        for n in ast.walk(func)
        if isinstance(n, ast.Tuple)
        and len(n.elts) >= 2
        and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in n.elts[:2])
        and n.elts[0].value in STATUSES
    }


def _emitted(check_id: str) -> tuple[set[str], list[re.Pattern[str]], list[str]]:
    """(literal keys, f-string patterns, unresolved key expressions) of one check."""
    func = inspect.unwrap(REGISTRY[check_id].func)
    source = Path(inspect.getfile(func)).read_text(encoding="utf-8")
    tree = ast.parse(source)
    functions = {**HELPERS, **_functions(tree)}
    keys: set[str] = set()
    patterns: list[re.Pattern[str]] = []
    unknown: list[str] = []
    reachable = _reachable(functions[func.__name__], functions)
    tabled = set().union(*(_tabled(f) for f in reachable))
    for f in reachable:
        for node in ast.walk(f):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            if node.func.id == "from_gap":
                keys |= FROM_GAP
            if node.func.id != "Finding" or len(node.args) < 2:
                continue
            key = node.args[1]
            if isinstance(key, ast.Attribute) and key.attr == "key":  # re-emits a finding
                continue
            if isinstance(key, ast.Subscript) and tabled:  # picked from (status, key) tuples
                keys |= tabled
                continue
            for value in _values(key, f):
                if value is None:
                    unknown.append(f"{f.name}:{node.lineno}")
                elif isinstance(value, str):
                    keys.add(value)
                else:
                    patterns.append(value)
    return keys, patterns, unknown


@pytest.mark.parametrize("check_id", sorted(REGISTRY))
def test_every_outcome_a_check_emits_has_a_text_in_every_language(check_id):
    keys, patterns, unknown = _emitted(check_id)
    assert not unknown, f"outcome keys the test cannot read: {unknown}"
    assert keys or patterns, "no Finding(...) found for this check"
    declared = set(catalogue("en")[check_id]["detail"])
    for pattern in patterns:
        matched = {k for k in declared if pattern.fullmatch(k)}
        assert matched, f"no outcome matches {pattern.pattern}"
        keys |= matched
    for key in sorted(keys):
        section = "_common" if key.startswith("_") else check_id
        for lang in LANGUAGES:
            detail = (catalogue(lang).get(section) or {}).get("detail") or {}
            assert detail.get(key), f"{lang}: no {section}.detail.{key}"
    own = {k for k in keys if not k.startswith("_")}
    assert declared - own == set(), "declared outcomes the code never emits"


@pytest.mark.parametrize("check_id", sorted(REGISTRY))
def test_both_languages_declare_the_same_outcomes(check_id):
    en, zh = catalogue("en")[check_id], catalogue("zh")[check_id]
    assert set(en["detail"]) == set(zh["detail"])
    assert set(en.get("remediation") or {}) == set(zh.get("remediation") or {})
    assert set(en.get("remediation") or {}) <= set(en["detail"])
    for lang in LANGUAGES:
        assert lookup(lang, check_id, "title") and lookup(lang, check_id, "explain")


def test_the_metadata_file_sits_beside_the_code():
    for check_id, chk in REGISTRY.items():
        path = Path(inspect.getfile(inspect.unwrap(chk.func))).with_name(f"{check_id}.yaml")
        assert path.parent == CHECKS and path.exists()
    assert {p.stem for p in CHECKS.glob("*.yaml")} == set(REGISTRY)


def test_a_key_without_text_is_an_error_row_not_an_empty_cell(monkeypatch):
    import dataclasses

    from irsa_nb import load_bundle
    from irsa_nb.checks.registry import Finding

    def silent(ctx):
        yield Finding("WARN", "no_such_outcome")

    chk = REGISTRY["oidc_provider_exists"]
    monkeypatch.setitem(REGISTRY, chk.id, dataclasses.replace(chk, func=silent))
    df = run_checks(load_bundle("demo"), checks=[chk.id])
    (row,) = df.itertuples()
    assert row.status == "ERROR" and "detail.no_such_outcome" in row.detail


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("bundle", ["demo", "china", "k8s-118", "no-oidc", "opt-in"])
def test_every_row_of_the_demo_bundles_renders_clean(bundle, lang):
    """Each row's detail is one outcome's text, fully rendered: no placeholder, no None, no
    XX (what a mutated string literal shows), and a title and remediation as clean."""
    from tests.checks.helpers import assert_rendered, demo_docs, key_of, results

    df = results(demo_docs(bundle), lang=lang)
    assert len(df) > 20
    for row in df.itertuples():
        key_of(row.check_id, row.detail, lang)
        assert_rendered(row.title)
        assert_rendered(row.detail)
        assert_rendered(row.remediation or "", sentence=False)
