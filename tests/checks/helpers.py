"""Helpers for the check tests: demo documents to mutate, realistic pods to add, rows to query.

A test changes a few documents of a demo bundle (``demo_docs``, ``sa_doc``, ``pod_doc``,
``add_sa``, ``add_pod``, ``irsa_pod``, ``env``), runs the checks (``results``) and reads the one
row it asserts on (``only`` by check id, ``one`` in a frame of one check's rows). ``outcome``
asserts a row whole: status, outcome key, the exact detail and the evidence, and that none of
its user-facing text (``assert_rendered``) shows an unrendered placeholder, ``None`` or ``XX``.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pandas as pd

from irsa_nb import build_inventory, demo_bundle, run_checks, text
from irsa_nb.bundle import read_documents
from irsa_nb.inventory import Inventory
from tests.builders import k8s_objects as k8s

ACCOUNT = "111122223333"
#: The demo cluster's issuer (host/path) and its IAM OIDC provider.
ISSUER = "oidc.eks.us-west-2.amazonaws.com/id/5C6D1A7E0B9F4E2D8A3C1B7F9E0D2A4C"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
_CACHE: dict[str, dict] = {}


def demo_docs(name: str = "demo") -> dict:
    """A fresh, mutable copy of a demo bundle's documents."""
    if name not in _CACHE:
        _CACHE[name] = read_documents(demo_bundle(name))
    return copy.deepcopy(_CACHE[name])


def inventory(docs: dict) -> Inventory:
    return build_inventory(docs, source="test")


def results(docs: dict, check_id: str | None = None, **kwargs: Any) -> pd.DataFrame:
    """The checks' results on ``docs``: every check, or only ``check_id`` when given."""
    if check_id is not None:
        kwargs["checks"] = [check_id]
    return run_checks(inventory(docs), **kwargs)


def only(df: pd.DataFrame, check_id: str, **where: Any) -> pd.Series:
    """The single row of ``check_id`` matching ``where`` (namespace=, service_account=, pod=)."""
    sel = df[df.check_id == check_id]
    for key, value in where.items():
        sel = sel[sel[key] == value]
    assert len(sel) == 1, f"expected one {check_id} row for {where}, got {len(sel)}:\n{sel}"
    return clean(sel.iloc[0])


def one(df: pd.DataFrame, **where: str) -> pd.Series:
    """The single row matching ``where``."""
    sel = df
    for key, value in where.items():
        sel = sel[sel[key] == value]
    assert len(sel) == 1, f"expected one row for {where}, got {len(sel)}:\n{sel}"
    return clean(sel.iloc[0])


def evidence(row: pd.Series) -> dict:
    return json.loads(row["evidence"]) if row["evidence"] else {}


def pod_doc(docs: dict, name_prefix: str) -> dict:
    return next(
        p for p in docs["k8s/pods.json"]["items"] if p["metadata"]["name"].startswith(name_prefix)
    )


def sa_doc(docs: dict, namespace: str, name: str) -> dict:
    return next(
        s
        for s in docs["k8s/serviceaccounts.json"]["items"]
        if s["metadata"]["namespace"] == namespace and s["metadata"]["name"] == name
    )


def role_arn(name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{ACCOUNT}:role/{name}"


def add_sa(
    docs: dict, ns: str, name: str, role: str | None = None, annotations: dict | None = None
) -> dict:
    ann = dict(annotations or {})
    if role:
        ann["eks.amazonaws.com/role-arn"] = role if role.startswith("arn:") else role_arn(role)
    sa = k8s.service_account(ns, name, ann or None)
    docs["k8s/serviceaccounts.json"]["items"].append(sa)
    return sa


def add_pod(docs: dict, pod: dict) -> dict:
    docs["k8s/pods.json"]["items"].append(pod)
    return pod


def irsa_pod(ns: str, name: str, sa: str, role: str | None = None, **kwargs: Any) -> dict:
    """An admitted pod (webhook mutation applied when ``role`` is given)."""
    arn = None if role is None else (role if role.startswith("arn:") else role_arn(role))
    return k8s.pod(
        ns, name, sa, irsa_role_arn=arn, owner=("ReplicaSet", f"{sa}-5d4c3b2a1"), **kwargs
    )


def env(name: str, value: str | None = None, secret: tuple[str, str] | None = None) -> dict:
    if secret:
        return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret[0], "key": secret[1]}}}
    return {"name": name, "value": value}


#: What rendered text must not show: a placeholder left as is (``{pod}``), a brace at all in
#: a sentence, Python's ``None``, or the ``XX`` that a mutated string literal carries.
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_.]*(?:![rsa])?(?::[^{}]*)?\}")
_LEAKS = re.compile(r"\bNone\b|XX")


def assert_rendered(value: str, *, sentence: bool = True) -> None:
    """Fail when user-facing ``value`` has an unrendered placeholder, ``None`` or ``XX``;
    with ``sentence`` (titles, details) any ``{`` or ``}`` fails too (a remediation may
    quote JSON)."""
    assert not _PLACEHOLDER.search(value), f"unrendered placeholder in {value!r}"
    assert not _LEAKS.search(value), f"None or XX in {value!r}"
    if sentence:
        assert "{" not in value and "}" not in value, f"a brace in {value!r}"


def key_of(check_id: str, detail: str, lang: str = "en") -> str:
    """The outcome key whose ``detail`` template renders as ``detail`` (exactly one)."""
    keys = keys_of(check_id, detail, lang)
    assert len(keys) == 1, f"{detail!r} matches the outcomes {keys}"
    return keys[0]


def keys_of(check_id: str, detail: str, lang: str = "en") -> list[str]:
    """The outcome keys whose ``detail`` template renders as ``detail``: of the templates
    that match, those with the most literal text (two outcomes may share a text)."""
    matches: dict[int, list[str]] = {}
    for section in (check_id, "_common"):
        for key, template in (text.lookup(lang, section, "detail") or {}).items():
            parts = _PLACEHOLDER.split(str(template).strip())
            if re.fullmatch("(?s)" + ".*?".join(map(re.escape, parts)), detail):
                matches.setdefault(sum(map(len, parts)), []).append(key)
    assert matches, f"{detail!r} matches no outcome of {check_id}"
    return matches[max(matches)]


def clean(row: pd.Series, lang: str = "en") -> pd.Series:
    """``row``, after asserting its text: the detail is one outcome's text of its check, and
    no title, detail or remediation shows a placeholder, ``None`` or ``XX``. ``only`` and
    ``one`` apply it to every row a check test reads."""
    if {"check_id", "detail", "title"} <= set(row.index):
        lang = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in row.title) else lang
        keys_of(row.check_id, row.detail, lang)
        # Braces are allowed here: webhook_configured's selector_unknown quotes the selectors
        # as a Python dict (to fix); outcome() is strict.
        for column in ("title", "detail", "remediation"):
            assert_rendered(row[column] or "", sentence=False)
    return row


def outcome(
    row: pd.Series,
    status: str,
    key: str,
    detail: str | None = None,
    ev: dict | None = None,
) -> pd.Series:
    """Assert ``row`` whole: its status, its outcome key, its exact ``detail`` and evidence
    (when given), and clean text in its title, detail and remediation."""
    assert row.status == status, (row.status, row.detail)
    assert key in keys_of(row.check_id, row.detail), (key, row.detail)
    if detail is not None:
        assert row.detail == detail
    if ev is not None:
        assert evidence(row) == ev
    for column in ("title", "detail"):
        assert_rendered(row[column])
    assert_rendered(row.remediation or "", sentence=False)
    return row


def zh_outcome(docs: dict, check_id: str, key: str, **where: Any) -> pd.Series:
    """The row of ``check_id`` in Chinese: its key as in English, its text clean."""
    row = only(results(docs, check_id, lang="zh"), check_id, **where)
    assert key in keys_of(check_id, row.detail, "zh"), (key, row.detail)
    assert_rendered(row.title)
    assert_rendered(row.detail)
    assert_rendered(row.remediation or "", sentence=False)
    return row


def no_service_account(namespace: str, service_account: str) -> tuple:
    """The whole-outcome case (where, status, key, detail, evidence) of a check skipping a
    service account that does not exist."""
    return (
        {"namespace": namespace, "service_account": service_account},
        "SKIP",
        "_no_service_account",
        f"Service account {namespace}/{service_account} does not exist, so there is nothing "
        "to check here (see service_account_exists).",
        {},
    )


def no_role_annotation(namespace: str, service_account: str) -> tuple:
    """The whole-outcome case of a check skipping a service account without a role."""
    return (
        {"namespace": namespace, "service_account": service_account},
        "SKIP",
        "_no_role_annotation",
        f"Service account {namespace}/{service_account} has no eks.amazonaws.com/role-arn "
        "annotation, so there is no role to check (see service_account_role_annotation).",
        {},
    )
