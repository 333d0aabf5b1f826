"""Table tests for irsa_nb.iam.trust: one test per IAM evaluation rule."""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import quote

import pytest

from irsa_nb.iam.trust import (
    PolicyError,
    StatementResult,
    TrustDecision,
    WebIdentityRequest,
    evaluate_trust,
    overbroad_findings,
    parse_policy,
    string_like,
    unmatchable_statements,
)

ACCOUNT = "111122223333"
ISSUER = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
SUB = "system:serviceaccount:prod:app"
AUD = "sts.amazonaws.com"
SUB_KEY = f"{ISSUER}:sub"
AUD_KEY = f"{ISSUER}:aud"
REQUEST = WebIdentityRequest(provider_arn=PROVIDER, issuer=ISSUER, sub=SUB, aud=AUD)

# The trust policy from the AWS article (seed), placeholders filled in.
SEED_POLICY = """
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "Federated": "arn:aws:iam::ACCOUNT_ID:oidc-provider/oidc.eks.AWS_REGION.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E"
      },
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {
        "StringEquals": {
          "oidc.eks.AWS_REGION.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E:sub": "system:serviceaccount:SERVICE_ACCOUNT_NAMESPACE:SERVICE_ACCOUNT_NAME",
          "oidc.eks.AWS_REGION.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E:aud": "sts.amazonaws.com"
        }
      }
    }
  ]
}
"""  # noqa: E501
FILLED = {
    "ACCOUNT_ID": ACCOUNT,
    "AWS_REGION": "us-west-2",
    "SERVICE_ACCOUNT_NAMESPACE": "prod",
    "SERVICE_ACCOUNT_NAME": "app",
}


def fill(text: str, **overrides: str) -> str:
    for placeholder, value in {**FILLED, **overrides}.items():
        text = text.replace(placeholder, value)
    return text


def statement(
    effect: str = "Allow",
    principal: Any = None,
    action: Any = "sts:AssumeRoleWithWebIdentity",
    condition: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": effect, "Action": action}
    if "NotPrincipal" not in extra:
        st["Principal"] = {"Federated": PROVIDER} if principal is None else principal
    if condition is not None:
        st["Condition"] = condition
    st.update(extra)
    if "NotAction" in extra:
        del st["Action"]
    return st


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def canonical(sub: str = SUB) -> dict[str, Any]:
    return policy(statement(condition={"StringEquals": {SUB_KEY: sub, AUD_KEY: AUD}}))


def request(**changes: str) -> WebIdentityRequest:
    return dataclasses.replace(REQUEST, **changes)


def assert_one_sentence(reason: str) -> None:
    assert reason
    assert "\n" not in reason
    assert ". " not in reason and not reason.endswith(".")


# --------------------------------------------------------------------------- seed policy


@pytest.mark.parametrize("as_text", [False, True], ids=["dict", "json-string"])
def test_seed_canonical_policy_allows(as_text: bool) -> None:
    doc: Any = fill(SEED_POLICY) if as_text else json.loads(fill(SEED_POLICY))
    decision = evaluate_trust(doc, REQUEST)
    assert decision.allowed
    assert decision.allowed_by == 1 and decision.denied_by is None
    assert "statement 1 allows sts:AssumeRoleWithWebIdentity" in decision.reason
    assert SUB in decision.reason
    assert_one_sentence(decision.reason)


def test_seed_policy_with_other_namespace_is_denied_naming_both_subjects() -> None:
    decision = evaluate_trust(fill(SEED_POLICY), request(sub="system:serviceaccount:default:app"))
    assert not decision.allowed
    assert decision.reason == (
        f"statement 1 requires {SUB_KEY} StringEquals system:serviceaccount:prod:app but the "
        "token's sub is system:serviceaccount:default:app"
    )
    assert decision.statements[0].failed_condition == f"StringEquals {SUB_KEY}"


def test_get_role_output_policy_document_allows() -> None:
    # Key order as in `aws iam get-role` output (aud before sub).
    doc = policy(statement(condition={"StringEquals": {AUD_KEY: AUD, SUB_KEY: SUB}}))
    assert evaluate_trust({"Statement": doc["Statement"]}, REQUEST).allowed


@pytest.mark.parametrize(
    ("partition", "issuer"),
    [
        ("aws-cn", "oidc.eks.cn-north-1.amazonaws.com.cn/id/EXAMPLED539D4633E53DE1B716D3041E"),
        ("aws-us-gov", "oidc.eks.us-gov-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E"),
        ("aws", "oidc-eks.us-east-2.api.aws/id/EXAMPLED539D4633E53DE1B716D3041E"),
    ],
    ids=["china", "govcloud", "dual-stack-host"],
)
def test_canonical_policy_allows_in_every_partition(partition: str, issuer: str) -> None:
    provider = f"arn:{partition}:iam::{ACCOUNT}:oidc-provider/{issuer}"
    doc = policy(
        statement(
            principal={"Federated": provider},
            condition={"StringEquals": {f"{issuer}:sub": SUB, f"{issuer}:aud": AUD}},
        )
    )
    assert evaluate_trust(doc, WebIdentityRequest(provider, issuer, SUB, AUD)).allowed


def test_request_issuer_with_scheme_and_slash_is_tolerated() -> None:
    assert evaluate_trust(canonical(), request(issuer=f"https://{ISSUER}/")).allowed


# --------------------------------------------------------------------------- principal


@pytest.mark.parametrize(
    ("trusted", "fragments"),
    [
        (
            PROVIDER.replace(ACCOUNT, "444455556666"),
            ["different account: 444455556666 vs 111122223333"],
        ),
        (PROVIDER.replace("arn:aws:", "arn:aws-cn:"), ["different partition: aws-cn vs aws"]),
        (
            PROVIDER.replace("EXAMPLED539D4633E53DE1B716D3041E", "AAAA"),
            ["different issuer id: AAAA vs EXAMPLED539D4633E53DE1B716D3041E"],
        ),
        (PROVIDER.replace("us-west-2", "eu-west-1"), ["different issuer region: eu-west-1 vs"]),
        (
            PROVIDER.replace("oidc.eks.us-west-2.amazonaws.com", "oidc.example.com"),
            ["different issuer host: oidc.example.com vs oidc.eks.us-west-2.amazonaws.com"],
        ),
        (PROVIDER + "/", ["trailing '/'", "AWS CLI"]),
        (PROVIDER.replace("EXAMPLED539", "exampled539"), ["letter case", "case-sensitively"]),
        (
            PROVIDER.replace(ACCOUNT, "444455556666").replace(
                "EXAMPLED539D4633E53DE1B716D3041E", "B"
            ),
            ["different account", " and different issuer id: B vs"],
        ),
        (f"arn:aws:iam::{ACCOUNT}:saml-provider/corp", ["resource type saml-provider"]),
        ("cognito-identity.amazonaws.com", ["not an IAM OIDC provider ARN"]),
    ],
    ids=[
        "account",
        "partition",
        "issuer-id",
        "region",
        "host",
        "trailing-slash",
        "case",
        "account-and-id",
        "saml",
        "cognito",
    ],
)
def test_federated_principal_mismatch_names_the_component(
    trusted: str, fragments: list[str]
) -> None:
    decision = evaluate_trust(policy(statement(principal={"Federated": trusted})), REQUEST)
    assert not decision.allowed
    assert decision.reason.startswith(f"statement 1 trusts provider {trusted}, not this cluster's")
    assert PROVIDER in decision.reason
    for fragment in fragments:
        assert fragment in decision.reason
    result = decision.statements[0]
    assert (result.principal_matches, result.action_matches) == (False, True)
    assert_one_sentence(decision.reason)


def test_cluster_provider_arn_with_trailing_slash_is_reported() -> None:
    decision = evaluate_trust(canonical(), request(provider_arn=PROVIDER + "/"))
    assert not decision.allowed
    assert "this cluster's provider ARN has a trailing '/'" in decision.reason


def test_closest_of_several_federated_providers_is_reported() -> None:
    far = "arn:aws-cn:iam::999999999999:oidc-provider/oidc.example.com/id/Z"
    near = PROVIDER.replace("EXAMPLED539D4633E53DE1B716D3041E", "NEW")
    decision = evaluate_trust(policy(statement(principal={"Federated": [far, near]})), REQUEST)
    assert f"trusts provider {near} (the closest of 2 listed)" in decision.reason


@pytest.mark.parametrize(
    "principal",
    [
        "*",
        {"AWS": "*"},
        {"AWS": [f"arn:aws:iam::{ACCOUNT}:root", "*"]},
        {"Federated": ["arn:aws:iam::444455556666:oidc-provider/x", PROVIDER]},
        {"Federated": PROVIDER, "Service": "pods.eks.amazonaws.com"},
    ],
    ids=["star", "aws-star", "aws-list-with-star", "federated-list", "federated-plus-service"],
)
def test_principal_matches_wildcard_or_listed_provider(principal: Any) -> None:
    assert evaluate_trust(policy(statement(principal=principal)), REQUEST).allowed


@pytest.mark.parametrize(
    ("principal", "fragment"),
    [
        ({"Service": "pods.eks.amazonaws.com"}, "EKS Pod Identity service principal"),
        ({"Service": "ec2.amazonaws.com"}, "trusts service principal ec2.amazonaws.com"),
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "trusts AWS principal"),
        ({"Federated": []}, "lists no principal"),
        ({"Federated": "*"}, "trusts provider *"),  # only "*" / {"AWS": "*"} are wildcards
    ],
)
def test_non_federated_principals_do_not_match_web_identity(principal: Any, fragment: str) -> None:
    decision = evaluate_trust(policy(statement(principal=principal)), REQUEST)
    assert not decision.allowed
    assert fragment in decision.reason


@pytest.mark.parametrize(
    ("not_principal", "allowed"),
    [
        ({"Federated": "arn:aws:iam::444455556666:oidc-provider/other"}, True),
        ({"Federated": PROVIDER}, False),
        ({"AWS": "*"}, False),
    ],
)
def test_notprincipal_matches_when_provider_is_not_listed(
    not_principal: dict[str, Any], allowed: bool
) -> None:
    decision = evaluate_trust(policy(statement(NotPrincipal=not_principal)), REQUEST)
    assert decision.allowed is allowed
    if not allowed:
        assert "through NotPrincipal" in decision.reason


def test_pod_identity_statement_does_not_allow_but_irsa_statement_next_to_it_does() -> None:
    pod_identity = statement(
        principal={"Service": "pods.eks.amazonaws.com"}, action=["sts:AssumeRole", "sts:TagSession"]
    )
    only_pod = evaluate_trust(policy(pod_identity), REQUEST)
    assert not only_pod.allowed
    assert only_pod.reason.startswith("no statement allows sts:AssumeRoleWithWebIdentity")
    assert "pods.eks.amazonaws.com" in only_pod.reason
    migrating = evaluate_trust(policy(pod_identity, canonical()["Statement"][0]), REQUEST)
    assert migrating.allowed and migrating.allowed_by == 2


# --------------------------------------------------------------------------- action


@pytest.mark.parametrize(
    ("action", "allowed"),
    [
        ("sts:AssumeRoleWithWebIdentity", True),
        ("STS:assumerolewithwebidentity", True),
        ("sts:*", True),
        ("*", True),
        ("sts:AssumeRole*", True),
        ("sts:AssumeRoleWith?ebIdentity", True),
        (["sts:TagSession", "sts:AssumeRoleWithWebIdentity"], True),
        ("sts:AssumeRole", False),
        ("sts:AssumeRole?", False),
        (["sts:AssumeRole", "sts:TagSession"], False),
        ("iam:*", False),
        ("sts:AssumeRoleWithSAML", False),
    ],
)
def test_action_matches_case_insensitively_with_wildcards(action: Any, allowed: bool) -> None:
    decision = evaluate_trust(policy(statement(action=action)), REQUEST)
    assert decision.allowed is allowed
    if not allowed:
        assert "not sts:AssumeRoleWithWebIdentity" in decision.reason
        assert decision.statements[0].action_matches is False


@pytest.mark.parametrize(
    ("not_action", "allowed"),
    [
        (["sts:AssumeRole", "sts:TagSession"], True),
        ("sts:AssumeRoleWith*", False),
        ("*", False),
    ],
)
def test_notaction_matches_actions_not_listed(not_action: Any, allowed: bool) -> None:
    decision = evaluate_trust(policy(statement(NotAction=not_action)), REQUEST)
    assert decision.allowed is allowed
    if not allowed:
        assert "through NotAction" in decision.reason


# --------------------------------------------------------------------------- string operators


def test_stringequals_treats_star_literally() -> None:
    doc = canonical(sub="system:serviceaccount:prod:*")
    decision = evaluate_trust(doc, REQUEST)
    assert not decision.allowed
    assert "StringEquals treats * literally; use StringLike" in decision.reason
    assert evaluate_trust(doc, request(sub="system:serviceaccount:prod:*")).allowed


def test_stringequals_question_mark_is_literal_too() -> None:
    decision = evaluate_trust(canonical(sub="system:serviceaccount:prod:ap?"), REQUEST)
    assert not decision.allowed
    assert "StringEquals treats ? literally; use StringLike" in decision.reason


@pytest.mark.parametrize(
    ("pattern", "allowed"),
    [
        ("system:serviceaccount:prod:*", True),
        ("system:serviceaccount:*:app", True),
        ("system:serviceaccount:prod:ap?", True),
        ("system:serviceaccount:prod:app*", True),  # * matches the empty run
        ("system:serviceaccount:*", True),  # * spans ':'
        ("*", True),
        ("system:serviceaccount:prod:a?", False),  # ? is exactly one character
        ("system:serviceaccount:prod", False),  # whole-string match
        ("system:serviceaccount:prod:app?", False),
        ("System:serviceaccount:*", False),  # case-sensitive
        ("system:serviceaccount:prod:.*", False),  # no regex
    ],
)
def test_stringlike_supports_star_and_question_mark(pattern: str, allowed: bool) -> None:
    doc = policy(statement(condition={"StringLike": {SUB_KEY: pattern}}))
    assert evaluate_trust(doc, REQUEST).allowed is allowed


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("", "", True),
        ("", "a", False),
        ("*", "", True),
        ("?", "", False),
        ("a*b*c", "abc", True),
        ("a*b*c", "aXbYc", True),
        ("a*b*c", "acb", False),
        ("a.b", "axb", False),
        ("a[bc]", "a[bc]", True),
        ("a+", "aa", False),
        ("a\\b", "a\\b", True),
        ("**?", "x", True),
        ("*a", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", False),
        ("*:*:*:*", "system:serviceaccount:ns:sa", True),
    ],
)
def test_string_like_function(pattern: str, value: str, expected: bool) -> None:
    assert string_like(pattern, value) is expected


@pytest.mark.parametrize(
    ("operator", "value", "allowed"),
    [
        ("StringEquals", "System:ServiceAccount:Prod:App", False),
        ("StringEqualsIgnoreCase", "System:ServiceAccount:Prod:App", True),
        ("StringNotEqualsIgnoreCase", "System:ServiceAccount:Prod:App", False),
        ("StringNotEquals", "System:ServiceAccount:Prod:App", True),
        ("StringLike", "System:*", False),
    ],
)
def test_condition_values_are_case_sensitive_except_ignorecase(
    operator: str, value: str, allowed: bool
) -> None:
    decision = evaluate_trust(policy(statement(condition={operator: {SUB_KEY: value}})), REQUEST)
    assert decision.allowed is allowed
    if operator in ("StringEquals", "StringLike"):
        assert "compares case-sensitively" in decision.reason


@pytest.mark.parametrize(
    "key",
    [SUB_KEY.upper(), SUB_KEY.lower(), f"{ISSUER}:Sub", SUB_KEY.replace("oidc.eks", "OIDC.EKS")],
)
def test_condition_key_names_are_case_insensitive(key: str) -> None:
    assert evaluate_trust(
        policy(statement(condition={"StringEquals": {key: SUB}})), REQUEST
    ).allowed


# --------------------------------------------------------------------------- combining


@pytest.mark.parametrize(
    ("values", "allowed"),
    [
        (["system:serviceaccount:other:app", SUB], True),
        ([SUB, "system:serviceaccount:other:app"], True),
        (["system:serviceaccount:a:app", "system:serviceaccount:b:app"], False),
        ([], False),
    ],
)
def test_multiple_values_for_one_key_are_ored(values: list[str], allowed: bool) -> None:
    decision = evaluate_trust(
        policy(statement(condition={"StringEquals": {SUB_KEY: values}})), REQUEST
    )
    assert decision.allowed is allowed
    if len(values) == 2 and not allowed:
        assert "StringEquals one of [system:serviceaccount:a:app, system:serviceaccount:b:app]" in (
            decision.reason
        )


@pytest.mark.parametrize(
    ("values", "allowed"),
    [
        (["system:serviceaccount:a:app", "system:serviceaccount:b:app"], True),
        (["system:serviceaccount:a:app", SUB], False),
    ],
)
def test_negated_operator_values_are_nored(values: list[str], allowed: bool) -> None:
    doc = policy(statement(condition={"StringNotEquals": {SUB_KEY: values}}))
    decision = evaluate_trust(doc, REQUEST)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.reason.endswith("which it excludes")


@pytest.mark.parametrize(
    ("sub", "aud", "allowed", "failing_key"),
    [
        (SUB, AUD, True, None),
        (SUB, "sts.amazonaws.com.cn", False, AUD_KEY),
        ("system:serviceaccount:prod:other", AUD, False, SUB_KEY),
    ],
)
def test_multiple_keys_in_one_operator_are_anded(
    sub: str, aud: str, allowed: bool, failing_key: str | None
) -> None:
    decision = evaluate_trust(canonical(), request(sub=sub, aud=aud))
    assert decision.allowed is allowed
    if failing_key:
        assert decision.statements[0].failed_condition == f"StringEquals {failing_key}"
        assert f"{failing_key} StringEquals" in decision.reason


@pytest.mark.parametrize(
    ("condition", "allowed"),
    [
        (
            {
                "StringEquals": {AUD_KEY: AUD},
                "StringLike": {SUB_KEY: "system:serviceaccount:prod:*"},
            },
            True,
        ),
        (
            {
                "StringEquals": {AUD_KEY: AUD},
                "StringLike": {SUB_KEY: "system:serviceaccount:dev:*"},
            },
            False,
        ),
        ({"StringLike": {SUB_KEY: "*:prod:*"}, "StringNotEquals": {SUB_KEY: SUB}}, False),
        ({"StringLike": {SUB_KEY: "*:prod:*"}, "StringNotEquals": {SUB_KEY: "x"}}, True),
    ],
)
def test_multiple_operators_are_anded(condition: dict[str, Any], allowed: bool) -> None:
    assert evaluate_trust(policy(statement(condition=condition)), REQUEST).allowed is allowed


def test_allow_statements_are_ored() -> None:
    other_cluster = statement(
        principal={"Federated": PROVIDER.replace("EXAMPLED539D4633E53DE1B716D3041E", "OLD")}
    )
    wrong_sa = statement(condition={"StringEquals": {SUB_KEY: "system:serviceaccount:prod:x"}})
    decision = evaluate_trust(policy(other_cluster, wrong_sa, canonical()["Statement"][0]), REQUEST)
    assert decision.allowed and decision.allowed_by == 3
    assert [s.matches for s in decision.statements] == [False, False, True]


def test_no_allow_reason_picks_the_statement_that_got_furthest() -> None:
    other_cluster = statement(
        principal={"Federated": PROVIDER.replace("EXAMPLED539D4633E53DE1B716D3041E", "OLD")}
    )
    wrong_sa = statement(condition={"StringEquals": {SUB_KEY: "system:serviceaccount:prod:x"}})
    decision = evaluate_trust(policy(other_cluster, wrong_sa), REQUEST)
    assert not decision.allowed
    assert decision.reason.startswith("statement 2 requires")
    assert decision.allowed_by is None and decision.denied_by is None


@pytest.mark.parametrize(
    ("statements", "fragment"),
    [
        ([], "the policy has no statements"),
        ([statement(effect="Deny", principal="*", action="sts:TagSession")], "only Deny"),
    ],
)
def test_no_statement_allows(statements: list[dict[str, Any]], fragment: str) -> None:
    decision = evaluate_trust(policy(*statements), REQUEST)
    assert not decision.allowed
    assert decision.reason.startswith("no statement allows sts:AssumeRoleWithWebIdentity")
    assert fragment in decision.reason


# --------------------------------------------------------------------------- explicit deny


@pytest.mark.parametrize(
    ("deny", "deny_first"),
    [
        (statement(effect="Deny", principal="*", action="sts:*"), False),
        (statement(effect="Deny", principal="*", action="sts:*"), True),
        (statement(effect="Deny", condition={"StringLike": {SUB_KEY: "*:prod:*"}}), False),
        (statement(effect="Deny", principal={"AWS": "*"}, NotAction="sts:TagSession"), True),
        (
            statement(
                effect="Deny", principal="*", condition={"StringNotEquals": {AUD_KEY: "other"}}
            ),
            False,
        ),
    ],
)
def test_explicit_deny_wins_even_when_an_allow_matches(
    deny: dict[str, Any], deny_first: bool
) -> None:
    allow = canonical()["Statement"][0]
    statements = [deny, allow] if deny_first else [allow, deny]
    decision = evaluate_trust(policy(*statements), REQUEST)
    deny_index = 1 if deny_first else 2
    allow_index = 2 if deny_first else 1
    assert not decision.allowed
    assert decision.denied_by == deny_index and decision.allowed_by is None
    assert decision.reason == (
        f"explicit Deny in statement {deny_index} matches this request (sub {SUB}), "
        f"which overrides the Allow in statement {allow_index}"
    )
    assert decision.statements[allow_index - 1].matches


def test_deny_that_does_not_match_does_not_block() -> None:
    deny = statement(
        effect="Deny", principal="*", condition={"StringLike": {SUB_KEY: "*:kube-system:*"}}
    )
    decision = evaluate_trust(policy(deny, canonical()["Statement"][0]), REQUEST)
    assert decision.allowed and decision.allowed_by == 2 and decision.denied_by is None


def test_deny_alone_reports_any_allow() -> None:
    decision = evaluate_trust(policy(statement(effect="Deny", principal="*")), REQUEST)
    assert decision.reason.endswith("which overrides any Allow")


# --------------------------------------------------------------------------- keys


@pytest.mark.parametrize(
    "key",
    [
        "oidc.eks.us-west-2.amazonaws.com/id/OTHER:sub",
        "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E:sub",
        "token.actions.githubusercontent.com:sub",
    ],
)
def test_condition_key_from_another_issuer_never_matches(key: str) -> None:
    decision = evaluate_trust(policy(statement(condition={"StringEquals": {key: SUB}})), REQUEST)
    assert not decision.allowed
    assert f"condition key {key} names another issuer, which this token does not carry" in (
        decision.reason
    )
    assert decision.reason.endswith("so StringEquals is false")


def test_aud_key_used_where_sub_was_meant() -> None:
    decision = evaluate_trust(
        policy(statement(condition={"StringEquals": {AUD_KEY: SUB}})), REQUEST
    )
    assert not decision.allowed
    assert f"the token's aud is {AUD}" in decision.reason
    assert f"probably meant to be {SUB_KEY}" in decision.reason


def test_sub_value_without_service_account_prefix_gets_a_hint() -> None:
    decision = evaluate_trust(canonical(sub="app"), REQUEST)
    assert "subjects look like system:serviceaccount:<namespace>:<name>" in decision.reason


def test_amr_key_is_absent_from_eks_tokens() -> None:
    doc = policy(
        statement(condition={"ForAnyValue:StringLike": {f"{ISSUER}:amr": "authenticated"}})
    )
    decision = evaluate_trust(doc, REQUEST)
    assert not decision.allowed
    assert "EKS tokens only provide :sub and :aud" in decision.reason


@pytest.mark.parametrize(
    ("operator", "key", "allowed"),
    [
        ("StringEquals", "amr", False),
        ("StringLike", "amr", False),
        ("StringEqualsIfExists", "amr", True),
        ("StringNotEquals", "amr", True),
        ("StringNotLike", "amr", True),
        ("StringNotEqualsIfExists", "amr", True),
        ("ArnNotEquals", "amr", True),
        ("ForAllValues:StringEquals", "amr", True),  # vacuously true
        ("ForAllValues:StringNotEquals", "amr", True),
        ("ForAnyValue:StringEquals", "amr", False),
        ("ForAnyValue:StringNotEquals", "amr", False),
        ("ForAnyValue:StringEqualsIfExists", "amr", False),  # the qualifier decides first
        ("StringEqualsIfExists", "sub", False),  # present: IfExists does not relax it
        ("ForAllValues:StringEquals", "sub", False),
        ("ForAnyValue:StringEquals", "sub", False),
        ("NumericLessThan", "amr", False),
        ("DateGreaterThan", "amr", False),
        ("IpAddress", "amr", False),
        ("NotIpAddress", "amr", True),
    ],
)
def test_absent_and_present_keys_with_ifexists_negation_and_set_operators(
    operator: str, key: str, allowed: bool
) -> None:
    doc = policy(statement(condition={operator: {f"{ISSUER}:{key}": "value-never-in-token"}}))
    assert evaluate_trust(doc, REQUEST).allowed is allowed


@pytest.mark.parametrize(
    ("operator", "allowed"),
    [
        ("ForAllValues:StringEquals", True),
        ("ForAnyValue:StringEquals", True),
        ("ForAnyValue:StringNotEquals", False),
        ("ForAllValues:StringLike", True),
    ],
)
def test_set_operators_on_a_present_single_valued_key(operator: str, allowed: bool) -> None:
    doc = policy(statement(condition={operator: {SUB_KEY: SUB}}))
    assert evaluate_trust(doc, REQUEST).allowed is allowed


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        (f"{ISSUER}:amr", "true", True),
        (f"{ISSUER}:amr", True, True),
        (f"{ISSUER}:amr", "false", False),
        (SUB_KEY, "true", False),
        (SUB_KEY, "false", True),
        (SUB_KEY.upper(), False, True),
        (SUB_KEY, ["true", "false"], True),
    ],
)
def test_null_operator_tests_key_presence(key: str, value: Any, allowed: bool) -> None:
    decision = evaluate_trust(policy(statement(condition={"Null": {key: value}})), REQUEST)
    assert decision.allowed is allowed
    if not allowed:
        assert "Null" in decision.reason and "but the key is" in decision.reason


@pytest.mark.parametrize(
    ("operator", "value", "aud", "allowed"),
    [
        ("Bool", AUD, AUD, True),  # Bool compares strings
        ("Bool", True, "true", True),  # JSON true becomes "true"
        ("Bool", True, "True", False),
        ("BinaryEquals", AUD, AUD, True),
        ("NumericEquals", 5, "5.0", True),
        ("NumericGreaterThan", "4", "5", True),
        ("NumericLessThan", "4", "5", False),
        ("NumericNotEquals", "4", "not-a-number", True),
        ("DateLessThan", "2030-01-01T00:00:00Z", "2024-06-01T00:00:00Z", True),
        ("IpAddress", "10.0.0.0/8", "10.1.2.3", True),
        ("NotIpAddress", "10.0.0.0/8", "10.1.2.3", False),
    ],
)
def test_other_typed_operators_compare_their_type(
    operator: str, value: Any, aud: str, allowed: bool
) -> None:
    doc = policy(statement(condition={operator: {AUD_KEY: value}}))
    assert evaluate_trust(doc, request(aud=aud)).allowed is allowed


@pytest.mark.parametrize(
    ("operator", "pattern", "allowed"),
    [
        ("ArnLike", "arn:aws:iam::*:role/app", True),
        ("ArnEquals", "arn:aws:iam::111122223333:role/app", True),
        ("ArnLike", "arn:aws:iam::111122223333:role/*", True),
        ("ArnLike", "arn:aws:*", False),  # each of the six components is matched separately
        ("StringLike", "arn:aws:*", True),
        ("ArnNotLike", "arn:aws:iam::*:role/other", True),
        ("ArnNotEquals", "arn:aws:iam::111122223333:role/app", False),
    ],
)
def test_arn_operators_match_component_by_component(
    operator: str, pattern: str, allowed: bool
) -> None:
    arn_sub = "arn:aws:iam::111122223333:role/app"
    doc = policy(statement(condition={operator: {SUB_KEY: pattern}}))
    assert evaluate_trust(doc, request(sub=arn_sub)).allowed is allowed


def test_arn_operators_never_match_a_service_account_subject() -> None:
    doc = policy(statement(condition={"ArnLike": {SUB_KEY: "*"}}))
    assert not evaluate_trust(doc, REQUEST).allowed


# --------------------------------------------------------------------------- documents


def _canonical_json() -> str:
    return json.dumps(canonical())


@pytest.mark.parametrize(
    "doc",
    [
        _canonical_json(),
        "  \n" + _canonical_json() + "\n",
        quote(_canonical_json()),
        quote(_canonical_json(), safe=""),
        json.dumps(_canonical_json()),  # double-encoded
        {"Statement": canonical()["Statement"][0]},  # Statement as a single object
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": [PROVIDER]},
                    "Action": ["sts:AssumeRoleWithWebIdentity"],
                    "Condition": {"StringEquals": {SUB_KEY: [SUB], AUD_KEY: [AUD]}},
                }
            ]
        },
    ],
    ids=["json", "json-whitespace", "url-encoded", "url-encoded-all", "double", "dict", "lists"],
)
def test_documents_in_every_encoding_evaluate_the_same(doc: Any) -> None:
    assert evaluate_trust(doc, REQUEST).allowed


def test_parse_policy_normalises_shapes() -> None:
    raw = {
        "Version": "2012-10-17",
        "Statement": {
            "Sid": "irsa",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"Bool": {"k": True}, "NumericEquals": {"n": [1, 2.5]}},
        },
    }
    parsed = parse_policy(raw)
    assert parsed == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "irsa",
                "Effect": "Allow",
                "Principal": {"AWS": ["*"]},
                "Action": ["sts:AssumeRoleWithWebIdentity"],
                "Condition": {"Bool": {"k": ["true"]}, "NumericEquals": {"n": ["1", "2.5"]}},
            }
        ],
    }
    assert parse_policy(parsed) is parsed  # already normalised: not parsed again
    assert parse_policy(dict(parsed)) == parsed  # a plain dict of the same is normalised
    assert raw["Statement"]["Principal"] == "*"  # input untouched


def test_role_parses_its_trust_policy_once() -> None:
    from irsa_nb.inventory import Role

    good = Role("app", f"arn:aws:iam::{ACCOUNT}:role/app", policy(statement()), (), ())
    assert good.trust() is good.trust()
    assert good.trust() == parse_policy(good.trust_policy)
    bad = Role("bad", f"arn:aws:iam::{ACCOUNT}:role/bad", {"Statement": 3}, (), ())
    for _ in range(2):  # the same error every time, not a cached None
        with pytest.raises(PolicyError, match="Statement"):
            bad.trust()


def test_parse_policy_adds_empty_condition() -> None:
    parsed = parse_policy(policy(statement(NotPrincipal={"Federated": "x"}, NotAction="sts:X")))
    st = parsed["Statement"][0]
    assert st["Condition"] == {}
    assert st["NotPrincipal"] == {"Federated": ["x"]}
    assert st["NotAction"] == ["sts:X"]
    assert "Principal" not in st and "Action" not in st


GOOD = statement()


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ("not json", "not valid JSON"),
        ("", "empty"),
        ("[]", "must be a JSON object"),
        ("%7B%22Statement%22", "not valid JSON"),
        (42, "must be a JSON object"),
        (None, "must be a JSON object"),
        ({}, "no Statement"),
        ({"Statement": "x"}, "Statement must be an object or a list"),
        ({"Statement": [GOOD, 1]}, "statement 2 must be an object"),
        ({"Statement": [{**GOOD, "Effect": "allow"}]}, 'it must be "Allow" or "Deny"'),
        ({"Statement": [{k: v for k, v in GOOD.items() if k != "Effect"}]}, "Effect null"),
        (
            {"Statement": [{**GOOD, "NotPrincipal": {"AWS": "*"}}]},
            "both Principal and NotPrincipal",
        ),
        ({"Statement": [{"Effect": "Allow", "Action": "sts:*"}]}, "no Principal"),
        ({"Statement": [{**GOOD, "Principal": PROVIDER}]}, 'must be "*" or an object'),
        ({"Statement": [{**GOOD, "Principal": {"Federal": PROVIDER}}]}, "unknown principal type"),
        ({"Statement": [{**GOOD, "Principal": {"Federated": 5}}]}, "Principal.Federated must be"),
        ({"Statement": [{**GOOD, "Principal": {}}]}, "non-empty object"),
        ({"Statement": [{**GOOD, "Action": 5}]}, "Action must be a string or a list"),
        ({"Statement": [{**GOOD, "NotAction": "x"}]}, "both Action and NotAction"),
        ({"Statement": [{"Effect": "Allow", "Principal": "*"}]}, "no Action"),
        ({"Statement": [{**GOOD, "Condition": []}]}, "Condition must be an object"),
        ({"Statement": [{**GOOD, "Condition": {"StringEqual": {SUB_KEY: SUB}}}]}, "unknown"),
        ({"Statement": [{**GOOD, "Condition": {"stringequals": {}}}]}, "did you mean StringEquals"),
        ({"Statement": [{**GOOD, "Condition": {"ForAnyValues:StringLike": {}}}]}, "set prefixes"),
        ({"Statement": [{**GOOD, "Condition": {"NullIfExists": {SUB_KEY: "true"}}}]}, "Null"),
        ({"Statement": [{**GOOD, "Condition": {"Null": {SUB_KEY: "maybe"}}}]}, "true or false"),
        ({"Statement": [{**GOOD, "Condition": {"StringEquals": [SUB]}}]}, "must map condition"),
        ({"Statement": [{**GOOD, "Condition": {"StringEquals": {SUB_KEY: None}}}]}, "strings"),
        ({"Statement": [{**GOOD, "Condition": {"StringEquals": {SUB_KEY: {"a": 1}}}}]}, "strings"),
        ({"Statement": [{**GOOD, "Condition": {"StringEquals": {SUB_KEY: [[SUB]]}}}]}, "strings"),
        ({"Statement": [{**GOOD, "Condition": {"StringEquals": {"": SUB}}}]}, "condition key"),
        ({"Statement": [{**GOOD, "Condition": {"NumericEquals": {"k": 10**5000}}}]}, "cannot"),
        ("[" * 100_000, "not valid JSON"),
    ],
)
def test_invalid_documents_raise_policy_error(doc: Any, fragment: str) -> None:
    with pytest.raises(PolicyError) as info:
        evaluate_trust(doc, REQUEST)
    assert fragment in str(info.value)
    with pytest.raises(PolicyError):
        overbroad_findings(doc, ISSUER)


def test_policy_error_names_the_statement_index() -> None:
    doc = policy(GOOD, statement(condition={"StringEquls": {SUB_KEY: SUB}}))
    with pytest.raises(
        PolicyError, match=r"^statement 2 uses unknown condition operator 'StringEquls'"
    ):
        parse_policy(doc)


def test_policy_error_is_a_value_error() -> None:
    assert issubclass(PolicyError, ValueError)


# --------------------------------------------------------------------------- results


def test_decision_exposes_per_statement_results() -> None:
    doc = policy(
        statement(principal={"Service": "pods.eks.amazonaws.com"}, action="sts:AssumeRole"),
        statement(condition={"StringEquals": {AUD_KEY: AUD}, "StringLike": {SUB_KEY: "x:*"}}),
        statement(effect="Deny", condition={"StringEquals": {SUB_KEY: "other"}}),
    )
    decision = evaluate_trust(doc, REQUEST)
    assert isinstance(decision, TrustDecision)
    assert decision.statements == (
        StatementResult(
            index=1,
            effect="Allow",
            principal_matches=False,
            action_matches=False,
            conditions_match=True,
            failed_condition=None,
            detail=decision.statements[0].detail,
        ),
        StatementResult(
            index=2,
            effect="Allow",
            principal_matches=True,
            action_matches=True,
            conditions_match=False,
            failed_condition=f"StringLike {SUB_KEY}",
            detail=decision.reason,
        ),
        StatementResult(
            index=3,
            effect="Deny",
            principal_matches=True,
            action_matches=True,
            conditions_match=False,
            failed_condition=f"StringEquals {SUB_KEY}",
            detail=decision.statements[2].detail,
        ),
    )
    assert "Pod Identity" in decision.statements[0].detail
    assert decision.reason.startswith(f"statement 2 requires {SUB_KEY} StringLike x:*")


@pytest.mark.parametrize(
    "doc",
    [
        canonical(),
        canonical(sub="system:serviceaccount:prod:*"),
        policy(statement(principal={"Federated": PROVIDER + "/"})),
        policy(statement(effect="Deny", principal="*"), canonical()["Statement"][0]),
        policy(statement(condition={"StringEquals": {"aws:PrincipalTag/team": "x"}})),
        policy(statement(principal={"Service": "pods.eks.amazonaws.com"}, action="sts:AssumeRole")),
    ],
)
def test_reasons_are_single_sentences(doc: dict[str, Any]) -> None:
    assert_one_sentence(evaluate_trust(doc, REQUEST).reason)


# --------------------------------------------------------------------------- over-broad


@pytest.mark.parametrize(
    ("stmt", "fragments"),
    [
        (canonical()["Statement"][0], []),
        (
            statement(),
            ["statement 1 has no", ":sub condition", "any service account in the cluster"],
        ),
        (statement(condition={"StringEquals": {AUD_KEY: AUD}}), ["has no", "any service account"]),
        (
            statement(condition={"StringLike": {SUB_KEY: "system:serviceaccount:*:app"}}),
            ["system:serviceaccount:*:app (StringLike)", "other namespaces"],
        ),
        (
            statement(condition={"StringLike": {SUB_KEY: "system:serviceaccount:prod-?:app"}}),
            ["other namespaces"],
        ),
        (
            statement(condition={"StringLike": {SUB_KEY: "system:serviceaccount:*"}}),
            ["other namespaces"],
        ),
        (statement(condition={"StringLike": {SUB_KEY: "*"}}), ["other namespaces"]),
        (
            statement(condition={"StringLike": {SUB_KEY: "system:serviceaccount:prod*"}}),
            ["other namespaces"],
        ),
        (
            statement(condition={"StringLike": {SUB_KEY: "system:serviceaccount:prod:*"}}),
            ["every service account in namespace prod"],
        ),
        (statement(condition={"StringLike": {SUB_KEY: "system:serviceaccount:prod:app-*"}}), []),
        (statement(condition={"StringLike": {SUB_KEY: "repo:org/*"}}), []),
        (statement(condition={"StringEquals": {SUB_KEY: "system:serviceaccount:*:app"}}), []),
        (
            statement(
                condition={
                    "StringLike": {SUB_KEY: "system:serviceaccount:*:app"},
                    "StringEquals": {SUB_KEY: SUB},
                }
            ),
            [],
        ),
        (
            statement(condition={"StringLike": {SUB_KEY: [SUB, "system:serviceaccount:*:x"]}}),
            ["system:serviceaccount:*:x", "other namespaces"],
        ),
        (
            statement(condition={"ForAllValues:StringEquals": {SUB_KEY: SUB}}),
            ["ForAllValues:StringEquals", "vacuously true"],
        ),
        (
            statement(condition={"StringEqualsIfExists": {SUB_KEY: SUB}}),
            ["StringEqualsIfExists", "passes when the key is absent"],
        ),
        (
            statement(condition={"StringNotEquals": {SUB_KEY: "system:serviceaccount:x:y"}}),
            ["only with StringNotEquals", "every other service account"],
        ),
        (statement(condition={"Null": {SUB_KEY: "false"}}), ["has no"]),
        (
            statement(principal="*", condition={"StringEquals": {SUB_KEY: SUB}}),
            ['Principal "*"'],
        ),
        (statement(principal={"AWS": "*"}), ['Principal "*"', "has no"]),
        (
            statement(NotPrincipal={"Federated": "arn:aws:iam::1:oidc-provider/x"}),
            ["NotPrincipal with Allow", "has no"],
        ),
        (statement(condition={"StringLike": {SUB_KEY.upper(): SUB}}), []),
        (statement(effect="Deny"), []),
        (statement(action="sts:AssumeRole"), []),
        (statement(principal={"Service": "pods.eks.amazonaws.com"}), []),
        (statement(principal={"Federated": "arn:aws:iam::1:oidc-provider/other.example/id/X"}), []),
    ],
)
def test_overbroad_findings(stmt: dict[str, Any], fragments: list[str]) -> None:
    findings = overbroad_findings(policy(stmt), ISSUER)
    if not fragments:
        assert findings == []
        return
    text = " | ".join(findings)
    for fragment in fragments:
        assert fragment in text
    for finding in findings:
        assert finding.startswith("statement 1 ") and finding.endswith(".")
        assert "\n" not in finding


def test_overbroad_findings_accepts_issuer_url_and_reports_each_statement() -> None:
    doc = policy(
        statement(condition={"StringLike": {SUB_KEY: "system:serviceaccount:*:app"}}),
        canonical()["Statement"][0],
        statement(),
    )
    findings = overbroad_findings(json.dumps(doc), f"https://{ISSUER}/")
    assert [f.split(" ", 2)[1] for f in findings] == ["1", "3"]


def test_overbroad_findings_for_seed_policy_is_empty() -> None:
    assert overbroad_findings(fill(SEED_POLICY), ISSUER) == []


# --------------------------------------------------------------------------- admits nothing

OTHER_ISSUER = "oidc.eks.us-west-2.amazonaws.com/id/OTHER"
OTHER_SUB_KEY = f"{OTHER_ISSUER}:sub"
GITHUB_SUB_KEY = "token.actions.githubusercontent.com:sub"


@pytest.mark.parametrize(
    "stmt",
    [
        # The report: this cluster's provider, but the sub condition keyed on another issuer.
        statement(condition={"StringLike": {OTHER_SUB_KEY: SUB}}),
        statement(condition={"StringEquals": {OTHER_SUB_KEY: SUB, AUD_KEY: AUD}}),
        statement(condition={"StringLike": {GITHUB_SUB_KEY: "repo:org/*"}}),
        statement(condition={"StringEquals": {f"{ISSUER}:amr": "authenticated"}}),
        statement(condition={"ForAnyValue:StringLike": {OTHER_SUB_KEY: "*"}}),
        statement(condition={"Null": {OTHER_SUB_KEY: "false"}}),
        statement(condition={"Null": {SUB_KEY: "true"}}),  # every token carries sub
        statement(principal="*", condition={"StringLike": {OTHER_SUB_KEY: SUB}}),
        statement(
            condition={"StringLike": {SUB_KEY: "system:serviceaccount:*:app", OTHER_SUB_KEY: SUB}}
        ),
        statement(
            condition={
                "StringLike": {SUB_KEY: "system:serviceaccount:*:app"},
                "StringEquals": {OTHER_SUB_KEY: SUB},
            }
        ),
    ],
)
def test_a_statement_no_token_of_this_issuer_can_match_is_not_overbroad(stmt) -> None:
    doc = policy(stmt)
    assert overbroad_findings(doc, ISSUER) == []
    assert list(unmatchable_statements(doc, ISSUER)) == [1]
    # The evaluator agrees: no service account of this cluster gets in through it.
    for sub in (SUB, "system:serviceaccount:other:app", "system:serviceaccount:prod:x"):
        assert not evaluate_trust(doc, request(sub=sub)).allowed


@pytest.mark.parametrize(
    ("stmt", "fragments"),
    [
        # IfExists, ForAllValues:, a negated operator and Null true all hold on an absent key.
        (statement(condition={"StringLikeIfExists": {OTHER_SUB_KEY: SUB}}), ["has no"]),
        (statement(condition={"ForAllValues:StringLike": {OTHER_SUB_KEY: SUB}}), ["has no"]),
        (statement(condition={"StringNotEquals": {OTHER_SUB_KEY: SUB}}), ["has no"]),
        (statement(condition={"Null": {OTHER_SUB_KEY: "true"}}), ["has no"]),
        # Global and STS keys may be in a real request: they never prove "admits nothing".
        (statement(condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}), ["has no"]),
        (statement(condition={"StringLike": {"sts:RoleSessionName": "app-*"}}), ["has no"]),
        # Every token of this issuer carries sub and aud, whatever the aud value required.
        (statement(condition={"StringEquals": {AUD_KEY: "custom-audience"}}), ["has no"]),
        (
            statement(condition={"StringLike": {SUB_KEY.upper(): "system:serviceaccount:*:app"}}),
            ["other namespaces"],
        ),
        (
            statement(principal="*", condition={"StringLikeIfExists": {OTHER_SUB_KEY: SUB}}),
            ['Principal "*"', "has no"],
        ),
    ],
)
def test_conditions_that_can_hold_for_this_issuer_keep_the_finding(stmt, fragments) -> None:
    doc = policy(stmt)
    text = " | ".join(overbroad_findings(doc, ISSUER))
    for fragment in fragments:
        assert fragment in text
    assert unmatchable_statements(doc, ISSUER) == {}


def test_only_the_statements_that_can_match_are_judged() -> None:
    doc = policy(
        statement(condition={"StringLike": {OTHER_SUB_KEY: "system:serviceaccount:*:*"}}),
        statement(condition={"StringLike": {SUB_KEY: "system:serviceaccount:*:app"}}),
        canonical()["Statement"][0],
    )
    findings = overbroad_findings(doc, f"https://{ISSUER}/")
    assert [f.split(" ", 2)[1] for f in findings] == ["2"]
    assert unmatchable_statements(doc, ISSUER) == {1: f"StringLike {OTHER_SUB_KEY}"}


# --------------------------------------------------------------------------- languages


def test_explanations_render_in_chinese_and_stay_english_as_str() -> None:
    decision = evaluate_trust(canonical(), request(sub="system:serviceaccount:default:app"))
    assert decision.reason.startswith(f"statement 1 requires {SUB_KEY} StringEquals")
    zh = decision.reason.in_lang("zh")
    assert zh.startswith(f"语句 1 要求 {SUB_KEY} StringEquals") and "令牌的 sub 是" in zh
    finding = overbroad_findings(policy(statement()), ISSUER)[0]
    assert "集群中的任何服务账户" in finding.in_lang("zh")
    with pytest.raises(PolicyError) as exc:
        parse_policy({"Statement": [{"Effect": "Allow"}]})
    assert str(exc.value) == exc.value.message
    assert exc.value.message.in_lang("zh").startswith("语句 1 既没有 Principal")


# --------------------------------------------------------------------------- exact findings
# Each finding in full, in both languages: a finding that keeps its gist but loses a part (the
# statement number, the key, the operator) or shows a placeholder is a different message.

_NO_SUB = (
    f"statement 2 has no {SUB_KEY} condition, so any service account in the cluster can "
    "assume the role."
)


def test_a_deny_before_an_overbroad_allow_does_not_hide_it() -> None:
    # An explicit Deny removes only the requests it matches (IAM User Guide, "Policy
    # evaluation logic": https://docs.aws.amazon.com/IAM/latest/UserGuide/
    # reference_policies_evaluation-logic.html); every other service account still gets the
    # Allow of statement 2, which names no sub. Statements are judged one by one, in order.
    deny = statement(
        effect="Deny", condition={"StringEquals": {SUB_KEY: "system:serviceaccount:prod:x"}}
    )
    assert overbroad_findings(policy(deny, statement()), ISSUER) == [_NO_SUB]
    other = statement(condition={"StringLike": {OTHER_SUB_KEY: SUB}})
    assert unmatchable_statements(policy(deny, other), ISSUER) == {2: f"StringLike {OTHER_SUB_KEY}"}


@pytest.mark.parametrize(
    "pattern", ["system:*:*", "system:*", "system:serviceaccount:*:app", "*:*"]
)
def test_a_sub_pattern_whose_star_spans_the_namespace_matches_other_namespaces(pattern) -> None:
    # StringLike's "*" matches any run of characters, ":" included (IAM User Guide, "String
    # condition operators": https://docs.aws.amazon.com/IAM/latest/UserGuide/
    # reference_policies_elements_condition_operators.html#Conditions_String), so
    # system:*:* matches system:serviceaccount:<any namespace>:<any name>.
    assert string_like(pattern, "system:serviceaccount:other:app")
    findings = overbroad_findings(
        policy(statement(condition={"StringLike": {SUB_KEY: pattern}})), ISSUER
    )
    assert findings == [
        f"statement 1 lets {SUB_KEY} match {pattern} (StringLike), which also matches service "
        "accounts in other namespaces."
    ]
    assert findings[0].in_lang("zh") != findings[0]
    assert "{" not in findings[0].in_lang("zh") and pattern in findings[0].in_lang("zh")


@pytest.mark.parametrize(
    ("condition", "extra", "expected"),
    [
        (
            {"StringLike": {SUB_KEY: "system:serviceaccount:prod:*"}},
            {},
            [
                f"statement 1 lets {SUB_KEY} match system:serviceaccount:prod:* (StringLike), "
                "which matches every service account in namespace prod."
            ],
        ),
        (
            {"StringEquals": {SUB_KEY: SUB}},
            {"principal": "*"},
            [
                'statement 1 uses Principal "*", which trusts any principal and leaves only the '
                "conditions."
            ],
        ),
        (
            {"ForAllValues:StringEquals": {SUB_KEY: SUB}},
            {},
            [
                f"statement 1 uses ForAllValues:StringEquals on {SUB_KEY}, which is vacuously "
                "true when the key is absent; drop the ForAllValues: prefix."
            ],
        ),
        (
            {"StringEqualsIfExists": {SUB_KEY: SUB}},
            {},
            [
                f"statement 1 uses StringEqualsIfExists on {SUB_KEY}, which passes when the key "
                "is absent; use StringEquals."
            ],
        ),
        (
            {"StringNotEquals": {SUB_KEY: SUB}, "StringNotLike": {SUB_KEY: "x"}},
            {},
            [
                f"statement 1 constrains {SUB_KEY} only with StringNotEquals, StringNotLike, so "
                "every other service account in the cluster can assume the role."
            ],
        ),
        (
            None,
            {"NotPrincipal": {"Federated": "arn:aws:iam::1:oidc-provider/x"}},
            [
                "statement 1 uses NotPrincipal with Allow, which trusts every principal it does "
                "not list.",
                _NO_SUB.replace("statement 2", "statement 1"),
            ],
        ),
    ],
    ids=[
        "namespace_wide",
        "principal_star",
        "for_all_values",
        "if_exists",
        "negated",
        "not_principal",
    ],
)
def test_each_overbroad_finding_in_full(condition, extra, expected) -> None:
    findings = overbroad_findings(policy(statement(condition=condition, **extra)), ISSUER)
    assert findings == expected
    for finding in findings:
        zh = finding.in_lang("zh")
        assert zh != finding and "{" not in zh and "None" not in zh and "XX" not in zh


@pytest.mark.parametrize(
    ("trusted", "difference"),
    [
        ("not-an-arn", "not-an-arn is not an IAM OIDC provider ARN"),
        (
            PROVIDER.replace("/id/", "/other/"),
            "different issuer path: other/EXAMPLED539D4633E53DE1B716D3041E vs "
            "id/EXAMPLED539D4633E53DE1B716D3041E",
        ),
        (
            PROVIDER.replace("EXAMPLED539", "EXAMPLEFFFF"),
            "different issuer id: EXAMPLEFFFFD4633E53DE1B716D3041E vs "
            "EXAMPLED539D4633E53DE1B716D3041E",
        ),
        (
            PROVIDER.replace("us-west-2", "eu-west-1"),
            "different issuer region: eu-west-1 vs us-west-2",
        ),
        (
            PROVIDER.replace(ACCOUNT, "444455556666"),
            "different account: 444455556666 vs 111122223333",
        ),
        (
            PROVIDER.replace("oidc.eks.us-west-2.amazonaws.com", "example.com"),
            "different issuer host: example.com vs oidc.eks.us-west-2.amazonaws.com",
        ),
    ],
    ids=["not_arn", "path", "id", "region", "account", "host"],
)
def test_a_provider_mismatch_names_the_difference_in_full(trusted, difference) -> None:
    # The Federated principal must be this cluster's provider ARN exactly (IAM User Guide,
    # "Create a role for OpenID Connect federation"); the reason names what differs.
    doc = policy(
        statement(
            principal={"Federated": trusted},
            condition={"StringEquals": {SUB_KEY: SUB, AUD_KEY: AUD}},
        )
    )
    decision = evaluate_trust(doc, REQUEST)
    assert not decision.allowed
    assert decision.reason == (
        f"statement 1 trusts provider {trusted}, not this cluster's {PROVIDER} ({difference})"
    )
    zh = decision.reason.in_lang("zh")
    assert trusted in zh and "{" not in zh and "None" not in zh and "XX" not in zh


def test_a_principal_given_as_a_plain_string_is_refused_quoting_it() -> None:
    # The Principal element is "*" or an object keyed by principal type (IAM User Guide,
    # "AWS JSON policy elements: Principal").
    with pytest.raises(PolicyError) as err:
        parse_policy(policy(statement(principal="arn:aws:iam::1:root")))
    assert str(err.value) == (
        'statement 1: Principal must be "*" or an object such as {"Federated": '
        "\"arn:aws:iam::111122223333:oidc-provider/...\"}, got 'arn:aws:iam::1:root'"
    )
    assert "'arn:aws:iam::1:root'" in err.value.message.in_lang("zh")


# --------------------------------------------------------------------------- mutation survivors


@pytest.mark.parametrize(
    ("key", "value", "state"),
    [(SUB_KEY, "true", "present"), (f"{ISSUER}:amr", "false", "absent")],
)
def test_a_failed_null_condition_says_whether_the_key_was_present(key, value, state) -> None:
    """Null: "true" requires the key to be absent from the request context, "false" present
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Null);
    the web identity request carries sub, not amr."""
    d = evaluate_trust(policy(statement(condition={"Null": {key: value}})), REQUEST)
    assert not d.allowed
    assert d.reason == f"statement 1 requires {key} Null {value} but the key is {state}"


def test_a_boolean_where_strings_belong_is_named_a_boolean() -> None:
    with pytest.raises(PolicyError) as info:
        evaluate_trust(policy(statement(action=True)), REQUEST)
    assert str(info.value) == (
        "statement 1: Action must be a string or a list of strings, got a boolean"
    )


def test_a_wildcard_sub_after_an_exact_aud_in_the_same_statement_is_still_found() -> None:
    """Each operator of a statement is judged: the StringEquals on aud before the StringLike
    on sub does not end the look at the statement."""
    doc = policy(
        statement(
            condition={
                "StringEquals": {AUD_KEY: AUD},
                "StringLike": {SUB_KEY: "system:serviceaccount:*:*"},
            }
        )
    )
    assert overbroad_findings(doc, ISSUER) == [
        f"statement 1 lets {SUB_KEY} match system:serviceaccount:*:* (StringLike), which also "
        "matches service accounts in other namespaces."
    ]
