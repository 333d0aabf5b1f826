"""What the AssumeRoleWithWebIdentity request context holds beyond the token's sub and aud:
global condition keys, policy variables, and absent keys under set operators and IfExists.

Every test cites the IAM User Guide passage it is built from. Sources:

* GLOBAL = https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
* VARIABLES = https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
* VERSION = https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
* OPERATORS = https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
* MULTI = https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
* WIF = https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irsa_nb.iam.context import Known, RequestContext, Unknown
from irsa_nb.iam.trust import evaluate_trust, unmatchable_statements
from tests.iam.test_trust import (
    AUD_KEY,
    ISSUER,
    REQUEST,
    SUB,
    SUB_KEY,
    canonical,
    policy,
    statement,
)

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
EPOCH = int(NOW.timestamp())
ALLOW = canonical()["Statement"][0]


def decide(*statements: dict[str, Any], version: str | None = "2012-10-17", **kw: Any):
    doc: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        doc["Version"] = version
    return evaluate_trust(doc, REQUEST, now=kw.pop("now", NOW), **kw)


def deny(condition: dict[str, Any]) -> dict[str, Any]:
    return statement(effect="Deny", principal="*", condition=condition)


def allow_with(condition: dict[str, Any]) -> dict[str, Any]:
    merged = {"StringEquals": {SUB_KEY: SUB, AUD_KEY: "sts.amazonaws.com"}, **condition}
    return statement(condition=merged)


# --------------------------------------------------------------------------- time


@pytest.mark.parametrize(
    ("operator", "value", "denied"),
    [
        ("DateGreaterThan", "2026-01-01T00:00:00Z", True),
        ("DateGreaterThan", "2027-01-01T00:00:00Z", False),
        ("DateLessThan", "2026-06-01T12:00:01Z", True),
        ("DateNotEquals", "2026-06-01T12:00:00Z", False),
        ("DateEquals", str(EPOCH), True),  # a date operator accepts epoch seconds
    ],
)
def test_a_deny_on_aws_current_time_is_evaluated_against_the_clock(
    operator: str, value: str, denied: bool
) -> None:
    """GLOBAL, aws:CurrentTime: "Works with date operators ... Use this key to compare the date
    and time of the request with the date and time that you specify in the policy.
    Availability - This key is always included in the request context." A Deny that expired
    (or has not started) must not be treated as absent: before this, any Deny on it was
    skipped and the role looked assumable."""
    decision = decide(ALLOW, deny({operator: {"aws:CurrentTime": value}}))
    assert decision.outcome == ("denied" if denied else "allowed"), decision.reason
    if denied:
        assert decision.denied_by == 2


def test_an_allow_that_expired_says_what_the_current_time_is() -> None:
    """GLOBAL, aws:CurrentTime (always included); the clock is injectable."""
    decision = decide(allow_with({"DateLessThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}))
    assert decision.outcome == "denied"
    assert "the request's aws:CurrentTime is 2026-06-01T12:00:00Z" in decision.reason
    later = decide(
        allow_with({"DateLessThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}),
        now=datetime(2025, 12, 31, tzinfo=UTC),
    )
    assert later.allowed


@pytest.mark.parametrize(
    ("condition", "allowed"),
    [
        ({"NumericLessThan": {"aws:EpochTime": EPOCH + 1}}, True),
        ({"NumericGreaterThanEquals": {"aws:EpochTime": EPOCH + 1}}, False),
        ({"DateGreaterThan": {"aws:EpochTime": "2026-05-31T00:00:00Z"}}, True),
        ({"DateLessThan": {"aws:EpochTime": EPOCH - 60}}, False),
    ],
)
def test_aws_epoch_time_works_with_numeric_and_date_operators(
    condition: dict[str, Any], allowed: bool
) -> None:
    """GLOBAL, aws:EpochTime: "Works with date operators or numeric operators. Use this key to
    compare the date and time of the request in epoch or Unix time ... Availability - This key
    is always included in the request context." """
    assert decide(allow_with(condition)).allowed is allowed


# --------------------------------------------------------------------------- transport, region


@pytest.mark.parametrize(
    ("effect", "value", "allowed"),
    [("Deny", "false", True), ("Deny", "true", False), ("Allow", "true", True)],
)
def test_aws_secure_transport_is_true_for_sdk_calls(effect: str, value: str, allowed: bool) -> None:
    """GLOBAL, aws:SecureTransport: "Use this key to check whether the request was sent using
    SSL. The request context returns true or false ... Availability - This key is always
    included in the request context." The SDKs call STS over https:// endpoints, so the usual
    "Deny unless SecureTransport" statement does not deny; before, an Allow that required it
    was wrongly denied."""
    cond = {"Bool": {"aws:SecureTransport": value}}
    statements = [ALLOW, deny(cond)] if effect == "Deny" else [allow_with(cond)]
    assert decide(*statements).allowed is allowed


@pytest.mark.parametrize(
    ("region", "outcome"),
    [("us-west-2", "allowed"), ("eu-west-1", "denied"), (None, "undecided")],
)
def test_aws_requested_region_is_the_region_the_caller_passes(region, outcome) -> None:
    """GLOBAL, aws:RequestedRegion: "Use this key to compare the AWS Region that was called in
    the request ... Availability - This key is always included in the request context." The
    Region is an input (the Region whose STS endpoint the pod's SDK calls); without it the
    condition cannot be decided."""
    cond = {"StringEquals": {"aws:RequestedRegion": "us-west-2"}}
    decision = decide(allow_with(cond), requested_region=region)
    assert decision.outcome == outcome, decision.reason
    if outcome == "denied":
        assert "the request's aws:RequestedRegion is eu-west-1" in decision.reason
    if outcome == "undecided":
        assert decision.undecided == ("StringEquals aws:RequestedRegion",)
        assert "Region whose STS endpoint the pod's SDK calls" in decision.reason


def test_aws_via_aws_service_is_false_for_a_direct_call() -> None:
    """GLOBAL, aws:ViaAWSService: "The request context key also returns false when the
    principal makes the call directly. Availability - This key is always included." """
    assert decide(allow_with({"Bool": {"aws:ViaAWSService": "false"}})).allowed
    assert decide(ALLOW, deny({"Bool": {"aws:ViaAWSService": "true"}})).allowed


# --------------------------------------------------------------------------- cannot decide


@pytest.mark.parametrize(
    ("condition", "key"),
    [
        ({"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24"]}}, "aws:SourceIp"),
        ({"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, "aws:SourceVpce"),
        ({"StringNotLike": {"aws:UserAgent": "aws-sdk-go*"}}, "aws:UserAgent"),
        ({"StringNotEquals": {"aws:SourceVpc": "vpc-111bbb22"}}, "aws:SourceVpc"),
        ({"StringNotLike": {"sts:RoleSessionName": "app-*"}}, "sts:RoleSessionName"),
    ],
)
def test_a_deny_on_a_key_no_evidence_shows_is_undecided_not_ignored(
    condition: dict[str, Any], key: str
) -> None:
    """GLOBAL, aws:SourceIp: "This key is included in the request context, except when the
    requester uses a VPC endpoint"; aws:SourceVpc/aws:SourceVpce: "only if the requester uses
    a VPC endpoint"; aws:UserAgent: "always included" (its value is the SDK's header). A Deny
    on them was treated as absent (a wrong allow); the bundle cannot show the value, so the
    outcome is "undecided" and names the key, neither allowed nor a confident denial."""
    decision = decide(ALLOW, deny(condition))
    assert decision.outcome == "undecided"
    assert not decision.allowed and decision.denied_by is None
    assert decision.undecided == (f"{next(iter(condition))} {key}",)
    assert "Deny in statement 2" in decision.reason and key in decision.reason


def test_an_allow_on_a_key_no_evidence_shows_is_undecided() -> None:
    """GLOBAL, aws:SourceIp (see above): an Allow limited to a source range may or may not
    match the pod's call."""
    decision = decide(allow_with({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))
    assert decision.outcome == "undecided"
    assert "statement 1" in decision.reason and "network path" in decision.reason


def test_a_false_condition_decides_even_beside_an_unknown_one() -> None:
    """MULTI: "If your policy statement has multiple condition operators, the condition
    operators are evaluated using a logical AND": one false condition makes the statement
    false whatever the unknown one would be."""
    wrong_sub = statement(
        condition={
            "StringEquals": {SUB_KEY: "system:serviceaccount:prod:other"},
            "IpAddress": {"aws:SourceIp": "203.0.113.0/24"},
        }
    )
    decision = decide(wrong_sub)
    assert decision.outcome == "denied" and "prod:other" in decision.reason
    # An undecided Deny does not matter when no Allow can match.
    assert decide(wrong_sub, deny({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})).outcome == (
        "denied"
    )


def test_null_on_an_always_present_key_is_decided() -> None:
    """OPERATORS, Null: "Use a Null condition operator to check if a condition key is absent at
    the time of authorization"; GLOBAL, aws:UserAgent: "always included in the request
    context" -- its presence is known even though its value is not."""
    assert not decide(allow_with({"Null": {"aws:UserAgent": "true"}})).allowed
    assert decide(allow_with({"Null": {"aws:UserAgent": "false"}})).allowed
    unsure = decide(allow_with({"Null": {"aws:SourceIp": "false"}}))
    assert unsure.outcome == "undecided" and "network path" in unsure.reason


# --------------------------------------------------------------------------- documented absent


@pytest.mark.parametrize(
    "key",
    ["aws:TokenIssueTime", "aws:MultiFactorAuthPresent", "aws:PrincipalArn", "aws:referer"],
)
def test_global_keys_documented_as_absent_are_absent(key: str) -> None:
    """GLOBAL, aws:TokenIssueTime: "included in the request context only when the principal
    uses temporary credentials to make the request"; aws:PrincipalArn: "included ... for all
    signed requests. Anonymous requests do not include this key"; aws:referer: "not included
    for programmatic requests". The SDKs send AssumeRoleWithWebIdentity unsigned, so these
    are absent: a positive operator is false, and no token can match (unmatchable)."""
    doc = policy(allow_with({"StringLike": {key: "*"}}))
    decision = evaluate_trust(doc, REQUEST, now=NOW)
    assert decision.outcome == "denied"
    assert "is not in the request context of an AssumeRoleWithWebIdentity call" in (decision.reason)
    assert unmatchable_statements(doc, ISSUER) == {1: f"StringLike {key}"}


# --------------------------------------------------------------------------- absent keys

AMR = f"{ISSUER}:amr"  # not in an EKS token (WIF lists amr for Amazon Cognito)


@pytest.mark.parametrize(
    ("operator", "holds"),
    [
        ("StringEquals", False),
        ("StringNotEquals", True),
        ("StringNotLike", True),
        ("StringEqualsIfExists", True),
        ("StringNotEqualsIfExists", True),
        ("ForAllValues:StringEquals", True),
        ("ForAllValues:StringNotEquals", True),
        ("ForAnyValue:StringEquals", False),
        ("ForAnyValue:StringNotEquals", False),
        ("ForAnyValue:StringLikeIfExists", False),
        ("ForAllValues:StringEqualsIfExists", True),
    ],
)
def test_absent_keys_under_negated_set_and_if_exists_operators(operator: str, holds: bool) -> None:
    """OPERATORS: "If the key that you specify in a policy condition is not present in the
    request context, the values do not match and the condition is false. If the policy
    condition requires that the key is not matched, such as StringNotLike ... the condition is
    true." IfExists: "If the key is not present, evaluate the condition element as true."
    MULTI, ForAllValues: "It also returns true if there are no keys in the request";
    ForAnyValue: "For no matching key or a null dataset, the condition returns false" -- with
    IfExists too: "if there is no matching context key or the dataset is null, the condition
    returns false" (accepted answer, https://repost.aws/questions/QU9HFmDzP0QGuU-fd7rS6B7w)."""
    decision = decide(allow_with({operator: {AMR: "authenticated"}}))
    assert decision.allowed is holds, decision.reason


# --------------------------------------------------------------------------- policy variables


@pytest.mark.parametrize(
    ("version", "allowed"), [("2012-10-17", True), ("2008-10-17", False), (None, False)]
)
def test_variables_are_substituted_only_under_version_2012_10_17(version, allowed) -> None:
    """VARIABLES: "Variables were introduced in version 2012-10-17 ... If you don't include the
    Version element and set it to an appropriate version date, variables like
    ${aws:username} are treated as literal strings in the policy." VERSION, 2008-10-17:
    "variables such as ${aws:username} aren't recognized as variables and are instead treated
    as literal strings"."""
    stmt = statement(condition={"StringEquals": {SUB_KEY: f"${{{SUB_KEY}}}"}})
    assert decide(stmt, version=version).allowed is allowed
    literal = statement(condition={"StringEquals": {SUB_KEY: "${x}"}})
    assert not decide(literal, version=version).allowed


def test_a_global_key_as_a_variable() -> None:
    """VARIABLES: "When you use a policy variable, AWS substitutes a value from the request
    context key in place of the variable in your policy"; GLOBAL: aws:CurrentTime is always
    included."""
    stmt = allow_with({"StringLike": {"aws:CurrentTime": "${aws:CurrentTime}"}})
    assert decide(stmt).allowed


@pytest.mark.parametrize(
    ("value", "sub", "allowed"),
    [
        ("system:serviceaccount:prod:${*}", "system:serviceaccount:prod:app", False),
        ("system:serviceaccount:prod:${*}", "system:serviceaccount:prod:*", True),
        ("system:serviceaccount:prod:ap${?}", "system:serviceaccount:prod:app", False),
        ("system:serviceaccount:prod:ap${?}", "system:serviceaccount:prod:ap?", True),
        ("system:serviceaccount:prod:${$}app", "system:serviceaccount:prod:$app", True),
        ("system:serviceaccount:prod:*", "system:serviceaccount:prod:app", True),
    ],
)
def test_special_character_variables_are_literal_in_string_like(value, sub, allowed) -> None:
    """VARIABLES, "Special characters": "${*} - use where you need an * (asterisk) character.
    ${?} - use where you need a ? (question mark) character. ${$} - use where you need a $
    (dollar sign) character." -- inserted literally, an asterisk "would be interpreted as a
    wildcard"."""
    from tests.iam.test_trust import request

    doc = policy(statement(condition={"StringLike": {SUB_KEY: value}}))
    assert evaluate_trust(doc, request(sub=sub), now=NOW).allowed is allowed


def test_default_values_apply_when_the_key_has_no_value() -> None:
    """VARIABLES, "Specifying default values": "To add a default value to a variable, surround
    the default value with single quotes (' '), and separate the variable text and the default
    value with a comma and space (, )"."""
    value = "system:serviceaccount:prod:${aws:PrincipalTag/app, 'app'}"
    assert decide(statement(condition={"StringEquals": {SUB_KEY: value}})).allowed
    known = f"${{{AUD_KEY}, 'app'}}"  # the key has a value: the default is not used
    assert not decide(statement(condition={"StringEquals": {SUB_KEY: known}})).allowed


@pytest.mark.parametrize(
    ("operator", "allowed"), [("StringEquals", False), ("StringNotEquals", True)]
)
def test_a_variable_with_no_value(operator: str, allowed: bool) -> None:
    """VARIABLES, "Policy variables with no value": "When you use a variable with no value in
    the condition element ..., condition operators like StringEquals or StringLike do not
    match ... Inverted condition operators like StringNotEquals or StringNotLike do match
    against a null value"."""
    stmt = statement(condition={operator: {SUB_KEY: "${aws:PrincipalTag/team}"}})
    assert decide(stmt).allowed is allowed


def test_a_variable_the_evidence_cannot_settle_is_undecided() -> None:
    """VARIABLES (substitution from the request context) with GLOBAL aws:UserAgent (always
    present, value not in evidence)."""
    stmt = allow_with({"StringEquals": {"aws:RequestedRegion": "${aws:UserAgent}"}})
    assert decide(stmt, requested_region="us-west-2").outcome == "undecided"


def test_variables_only_in_string_and_arn_comparisons() -> None:
    """VARIABLES, "Condition element": "You can use a policy variable for Condition values in
    any condition that involves the string operators or the ARN operators ... You can't use a
    policy variable with other operators, such as Numeric, Date, Boolean ..." -- there it is
    literal text, which is no date."""
    stmt = allow_with({"DateEquals": {"aws:CurrentTime": "${aws:CurrentTime}"}})
    assert not decide(stmt).allowed


# --------------------------------------------------------------------------- the context


def test_the_request_context_in_one_place() -> None:
    """GLOBAL Availability of each key; WIF: the web-identity keys are named after the provider
    ("Define condition keys using the name of the OIDC provider")."""
    ctx = RequestContext(ISSUER, SUB, "sts.amazonaws.com", "us-west-2", NOW)
    assert ctx.lookup(SUB_KEY.upper()) == Known(SUB, "sub")
    assert ctx.lookup("AWS:CurrentTime") == Known("2026-06-01T12:00:00Z")
    assert ctx.lookup("aws:EpochTime") == Known(str(EPOCH))
    assert ctx.lookup("aws:SecureTransport") == Known("true")
    assert ctx.lookup("aws:RequestedRegion") == Known("us-west-2")
    assert ctx.lookup("aws:SourceIp") == Unknown("network", None)
    assert ctx.lookup("aws:UserAgent") == Unknown("client", True)
    assert ctx.lookup("aws:SomeFutureKey") == Unknown("other", None)
    assert ctx.lookup("aws:PrincipalTag/team") is None
    assert ctx.lookup("s3:prefix") is None
    assert ctx.lookup(f"{ISSUER}:amr") is None


# --------------------------------------------------------------------------- soundness

UNKNOWABLE = {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}
KNOWN_TRUE = {"Bool": {"aws:SecureTransport": "true"}}  # always included, true for the SDKs
KNOWN_FALSE = {"Bool": {"aws:SecureTransport": "false"}}


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    effect = draw(st.sampled_from(["Allow", "Deny"]))
    sub = draw(st.sampled_from([SUB, "system:serviceaccount:prod:*", "system:serviceaccount:x:y"]))
    condition: dict[str, Any] = {"StringLike": {SUB_KEY: sub}}
    if draw(st.booleans()):
        condition.update(UNKNOWABLE)
    return statement(effect=effect, principal="*", condition=condition)


def _with(stmts: list[dict[str, Any]], allow: dict, deny: dict) -> list[dict[str, Any]]:
    out = []
    for s in stmts:
        cond = {k: v for k, v in s["Condition"].items() if k != "IpAddress"}
        if "IpAddress" in s["Condition"]:
            cond.update(allow if s["Effect"] == "Allow" else deny)
        out.append({**s, "Condition": cond})
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(statements(), min_size=1, max_size=4))
def test_undecided_exactly_when_the_unknown_key_could_change_the_outcome(stmts) -> None:
    """OPERATORS/MULTI (conditions ANDed, Allow ORed, Deny wins) read with a third value for
    a key no evidence shows (GLOBAL, aws:SourceIp): the outcome is undecided exactly when
    the most permissive reading of the unknown conditions (true in Allow, false in Deny) and
    the most restrictive one differ; otherwise it equals both."""
    best = decide(*_with(stmts, KNOWN_TRUE, KNOWN_FALSE))
    worst = decide(*_with(stmts, KNOWN_FALSE, KNOWN_TRUE))
    decision = decide(*stmts)
    assert best.outcome != "undecided" and worst.outcome != "undecided"
    if best.allowed == worst.allowed:
        assert decision.outcome == best.outcome, decision.reason
    else:
        assert decision.outcome == "undecided", decision.reason
        assert decision.undecided == ("IpAddress aws:SourceIp",)
