"""Property tests (hypothesis) for irsa_nb.iam.trust."""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from irsa_nb.iam.trust import (
    PolicyError,
    WebIdentityRequest,
    evaluate_trust,
    overbroad_findings,
    parse_policy,
    string_like,
)

pytestmark = pytest.mark.slow

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ACCOUNT = "111122223333"
ISSUER = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
SUB_KEY = f"{ISSUER}:sub"
AUD_KEY = f"{ISSUER}:aud"
AMR_KEY = f"{ISSUER}:amr"
AUD = "sts.amazonaws.com"


def reference_like(pattern: str, value: str) -> bool:
    """Independent dynamic-programming glob matcher: '*' any run, '?' one character."""
    rows, cols = len(pattern), len(value)
    table = [[False] * (cols + 1) for _ in range(rows + 1)]
    table[0][0] = True
    for i in range(1, rows + 1):
        if pattern[i - 1] == "*":
            table[i][0] = table[i - 1][0]
    for i in range(1, rows + 1):
        char = pattern[i - 1]
        for j in range(1, cols + 1):
            if char == "*":
                table[i][j] = table[i - 1][j] or table[i][j - 1]
            elif char == "?" or char == value[j - 1]:
                table[i][j] = table[i - 1][j - 1]
    return table[rows][cols]


# --------------------------------------------------------------------------- string_like

glob_alphabet = st.sampled_from("ab:*?.")
value_alphabet = st.sampled_from("ab:*?.")


@FAST
@given(st.text(glob_alphabet, max_size=12), st.text(value_alphabet, max_size=14))
def test_string_like_agrees_with_reference_matcher(pattern: str, value: str) -> None:
    assert string_like(pattern, value) == reference_like(pattern, value)


@st.composite
def pattern_for(draw: st.DrawFn) -> tuple[str, str]:
    """A value and a pattern derived from it (so it matches), to exercise the True branch."""
    value = draw(st.text(st.sampled_from("abc:/-"), max_size=20))
    pattern = []
    i = 0
    while i < len(value):
        choice = draw(st.sampled_from(["keep", "keep", "?", "*"]))
        if choice == "keep":
            pattern.append(value[i])
            i += 1
        elif choice == "?":
            pattern.append("?")
            i += 1
        else:
            pattern.append("*")
            i += draw(st.integers(0, len(value) - i))
    return "".join(pattern), value


@FAST
@given(pattern_for())
def test_string_like_matches_patterns_derived_from_the_value(case: tuple[str, str]) -> None:
    pattern, value = case
    assert string_like(pattern, value)
    assert reference_like(pattern, value)


# --------------------------------------------------------------------------- robustness

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(
        ["Allow", "Deny", "*", PROVIDER, "sts:*", "system:serviceaccount:prod:app", "true"]
    )
)
vocabulary = st.sampled_from(
    [
        "Version",
        "Statement",
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Condition",
        "Federated",
        "AWS",
        "Service",
        "StringEquals",
        "StringLike",
        "StringNotEquals",
        "ForAllValues:StringLike",
        "ForAnyValue:StringEquals",
        "StringEqualsIfExists",
        "Null",
        "Bool",
        "NumericLessThan",
        "DateGreaterThan",
        "IpAddress",
        "ArnLike",
        SUB_KEY,
        AUD_KEY,
        AMR_KEY,
    ]
) | st.text(max_size=6)
json_like = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(vocabulary, inner, max_size=5),
    max_leaves=25,
)
documents = st.one_of(
    json_like,
    st.dictionaries(st.just("Statement"), json_like, min_size=1),
    json_like.map(lambda d: json.dumps(d)),
    json_like.map(lambda d: quote(json.dumps(d))),
    st.text(max_size=30),
)

REQUEST = WebIdentityRequest(PROVIDER, ISSUER, "system:serviceaccount:prod:app", AUD)


@FAST
@given(documents)
def test_arbitrary_documents_raise_only_policy_error(doc: Any) -> None:
    try:
        decision = evaluate_trust(doc, REQUEST)
    except PolicyError:
        pass
    else:
        assert isinstance(decision.reason, str) and decision.reason
        if decision.allowed:
            assert decision.statements[decision.allowed_by - 1].matches
        if decision.denied_by is not None:
            assert not decision.allowed
    try:
        findings = overbroad_findings(doc, ISSUER)
    except PolicyError:
        pass
    else:
        assert all(isinstance(f, str) and f for f in findings)


@FAST
@given(documents)
def test_parse_policy_is_idempotent(doc: Any) -> None:
    try:
        parsed = parse_policy(doc)
    except PolicyError:
        return
    assert parse_policy(parsed) == parsed


# --------------------------------------------------------------------------- statements

names = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)


@st.composite
def requests(draw: st.DrawFn) -> tuple[WebIdentityRequest, str]:
    namespace, name = draw(names), draw(names)
    sub = f"system:serviceaccount:{namespace}:{name}"
    return WebIdentityRequest(PROVIDER, ISSUER, sub, AUD), namespace


MATCHING_PRINCIPALS = [
    {"Principal": "*"},
    {"Principal": {"AWS": "*"}},
    {"Principal": {"Federated": PROVIDER}},
    {"Principal": {"Federated": ["arn:aws:iam::444455556666:oidc-provider/x", PROVIDER]}},
    {"NotPrincipal": {"Federated": PROVIDER + "/"}},
]
OTHER_PRINCIPALS = [
    {"Principal": {"Federated": PROVIDER + "/"}},
    {"Principal": {"Federated": PROVIDER.replace(ACCOUNT, "444455556666")}},
    {"Principal": {"Federated": PROVIDER.replace("EXAMPLED", "OTHERID")}},
    {"Principal": {"Service": "pods.eks.amazonaws.com"}},
    {"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}},
    {"NotPrincipal": {"Federated": PROVIDER}},
]
MATCHING_ACTIONS = [
    {"Action": "sts:AssumeRoleWithWebIdentity"},
    {"Action": "STS:ASSUMEROLEWITHWEBIDENTITY"},
    {"Action": ["sts:TagSession", "sts:*"]},
    {"Action": "*"},
    {"Action": "sts:AssumeRole*"},
    {"NotAction": ["sts:TagSession"]},
]
OTHER_ACTIONS = [
    {"Action": "sts:AssumeRole"},
    {"Action": ["sts:TagSession"]},
    {"Action": "iam:*"},
    {"NotAction": "sts:*"},
]


def holding_conditions(sub: str, namespace: str) -> list[dict[str, dict[str, Any]]]:
    return [
        {"StringEquals": {SUB_KEY: sub}},
        {"StringEquals": {SUB_KEY: ["system:serviceaccount:NEVER:x", sub]}},
        {"StringLike": {SUB_KEY: f"system:serviceaccount:{namespace}:*"}},
        {"StringLike": {SUB_KEY.upper(): "*"}},
        {"StringEqualsIgnoreCase": {SUB_KEY: sub.upper()}},
        {"StringNotEquals": {SUB_KEY: ["system:serviceaccount:NEVER:x", "y"]}},
        {"StringEquals": {AUD_KEY: AUD}},
        {"Null": {AMR_KEY: "true", SUB_KEY: "false"}},
        {"StringEqualsIfExists": {AMR_KEY: "z"}},
        {"ForAllValues:StringEquals": {AMR_KEY: "z"}},
        {"StringNotLike": {"token.actions.githubusercontent.com:sub": "*"}},
    ]


def failing_conditions(sub: str, namespace: str) -> list[dict[str, dict[str, Any]]]:
    return [
        {"StringEquals": {SUB_KEY: "system:serviceaccount:NEVER:x"}},
        {"StringEquals": {SUB_KEY: f"system:serviceaccount:{namespace}:*"}},
        {"StringLike": {SUB_KEY: "system:serviceaccount:NEVER-*:*"}},
        {"StringNotEquals": {SUB_KEY: sub}},
        {"StringEquals": {"oidc.eks.us-west-2.amazonaws.com/id/OTHER:sub": sub}},
        {"Null": {SUB_KEY: "true"}},
        {"ForAnyValue:StringEquals": {AMR_KEY: "x"}},
        {"StringEquals": {AUD_KEY: "sts.amazonaws.com.cn"}},
    ]


def merge(*conditions: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for condition in conditions:
        for operator, block in condition.items():
            merged.setdefault(operator, {}).update(block)
    return merged


@st.composite
def matching_statement(draw: st.DrawFn, effect: str, sub: str, namespace: str) -> dict[str, Any]:
    conditions = draw(st.lists(st.sampled_from(holding_conditions(sub, namespace)), max_size=3))
    return {
        "Effect": effect,
        **draw(st.sampled_from(MATCHING_PRINCIPALS)),
        **draw(st.sampled_from(MATCHING_ACTIONS)),
        "Condition": merge(*conditions),
    }


@st.composite
def non_matching_statement(draw: st.DrawFn, sub: str, namespace: str) -> dict[str, Any]:
    broken = draw(st.sampled_from(["principal", "action", "condition"]))
    principals = OTHER_PRINCIPALS if broken == "principal" else MATCHING_PRINCIPALS
    actions = OTHER_ACTIONS if broken == "action" else MATCHING_ACTIONS
    conditions = draw(st.lists(st.sampled_from(holding_conditions(sub, namespace)), max_size=2))
    if broken == "condition":
        conditions.append(draw(st.sampled_from(failing_conditions(sub, namespace))))
    return {
        "Effect": draw(st.sampled_from(["Allow", "Deny"])),
        **draw(st.sampled_from(principals)),
        **draw(st.sampled_from(actions)),
        "Condition": merge(*conditions),
    }


@st.composite
def any_statement(draw: st.DrawFn, sub: str, namespace: str) -> dict[str, Any]:
    conditions = holding_conditions(sub, namespace) + failing_conditions(sub, namespace)
    return {
        "Effect": draw(st.sampled_from(["Allow", "Deny"])),
        **draw(st.sampled_from(MATCHING_PRINCIPALS + OTHER_PRINCIPALS)),
        **draw(st.sampled_from(MATCHING_ACTIONS + OTHER_ACTIONS)),
        "Condition": merge(*draw(st.lists(st.sampled_from(conditions), max_size=3))),
    }


@FAST
@given(st.data())
def test_matching_explicit_deny_always_wins(data: st.DataObject) -> None:
    request, namespace = data.draw(requests())
    others = data.draw(st.lists(any_statement(request.sub, namespace), max_size=5))
    deny = data.draw(matching_statement("Deny", request.sub, namespace))
    position = data.draw(st.integers(0, len(others)))
    statements = [*others[:position], deny, *others[position:]]
    decision = evaluate_trust({"Statement": statements}, request)
    assert not decision.allowed
    assert decision.allowed_by is None
    assert decision.statements[position].matches
    assert decision.denied_by is not None and decision.denied_by <= position + 1
    assert decision.statements[decision.denied_by - 1].effect == "Deny"
    assert decision.reason.startswith(f"explicit Deny in statement {decision.denied_by} ")


@FAST
@given(st.data())
def test_allowed_policy_stays_allowed_after_adding_non_matching_statements(
    data: st.DataObject,
) -> None:
    request, namespace = data.draw(requests())
    allow = data.draw(matching_statement("Allow", request.sub, namespace))
    base = [allow, *data.draw(st.lists(any_statement(request.sub, namespace), max_size=3))]
    base = data.draw(st.permutations(base))
    assume(evaluate_trust({"Statement": base}, request).allowed)
    statements = list(base)
    for extra in data.draw(st.lists(non_matching_statement(request.sub, namespace), max_size=4)):
        statements.insert(data.draw(st.integers(0, len(statements))), extra)
    decision = evaluate_trust({"Statement": statements}, request)
    assert decision.allowed, decision.reason
    assert decision.statements[decision.allowed_by - 1].effect == "Allow"


@FAST
@given(st.data())
def test_statement_generators_do_what_they_claim(data: st.DataObject) -> None:
    request, namespace = data.draw(requests())
    matching = data.draw(matching_statement("Allow", request.sub, namespace))
    broken = data.draw(non_matching_statement(request.sub, namespace))
    assert evaluate_trust({"Statement": [matching]}, request).allowed
    assert not evaluate_trust({"Statement": [broken]}, request).statements[0].matches


@st.composite
def near_valid_documents(draw: st.DrawFn) -> Any:
    """A valid policy with one element (or one condition block/value) replaced by junk."""
    sub, namespace = "system:serviceaccount:prod:app", "prod"
    statements = draw(st.lists(any_statement(sub, namespace), min_size=1, max_size=3))
    victim = draw(st.sampled_from(statements))
    junk = draw(json_like)
    target = draw(st.sampled_from(["Effect", "Principal", "Action", "Condition", "block", "value"]))
    if target in ("block", "value") and victim["Condition"]:
        operator = draw(st.sampled_from(sorted(victim["Condition"])))
        if target == "block":
            victim["Condition"][operator] = junk
        else:
            key = draw(st.sampled_from(sorted(victim["Condition"][operator])))
            victim["Condition"][operator][key] = junk
    elif target in ("Principal", "Action"):
        for name in (target, "Not" + target):
            if name in victim:
                victim[name] = junk
    else:
        victim[target if target in victim else "Effect"] = junk
    doc = {"Version": "2012-10-17", "Statement": statements}
    encoding = draw(st.sampled_from(["dict", "json", "url"]))
    if encoding == "json":
        return json.dumps(doc)
    return quote(json.dumps(doc)) if encoding == "url" else doc


@FAST
@given(near_valid_documents())
def test_near_valid_documents_raise_only_policy_error(doc: Any) -> None:
    try:
        decision = evaluate_trust(doc, REQUEST)
    except PolicyError as exc:
        assert str(exc)
    else:
        assert decision.reason
        assert len(decision.statements) >= 1
    with contextlib.suppress(PolicyError):
        assert isinstance(overbroad_findings(doc, ISSUER), list)
