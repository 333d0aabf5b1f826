"""trust_policy_not_overbroad: a security finding on the role's trust policy."""

from __future__ import annotations

import pytest

from .helpers import demo_docs, evidence, one, results

ISSUER = "oidc.eks.us-west-2.amazonaws.com/id/5C6D1A7E0B9F4E2D8A3C1B7F9E0D2A4C"


def _with_condition(condition):
    docs = demo_docs()
    doc = docs["aws/iam/get-role/irsa-checkout.json"]["Role"]["AssumeRolePolicyDocument"]
    doc["Statement"][0]["Condition"] = condition
    return docs


def _row(docs):
    return one(results(docs, "trust_policy_not_overbroad"), service_account="checkout")


def test_narrow_trust_policy_passes():
    row = _row(demo_docs())
    assert row.status == "PASS" and evidence(row)["findings"] == []


def test_sub_matching_other_namespaces_fails():
    row = one(results(demo_docs(), "trust_policy_not_overbroad"), service_account="audit")
    assert row.status == "FAIL"
    assert "system:serviceaccount:*:audit" in row.detail and "other namespaces" in row.detail
    assert f'"{ISSUER}:sub": "system:serviceaccount:shop:audit"' in row.remediation
    assert "aws iam update-assume-role-policy --role-name irsa-audit" in row.remediation


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ({"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"}}, "no "),
        ({}, "no "),
        (
            {"ForAllValues:StringEquals": {f"{ISSUER}:sub": "system:serviceaccount:shop:checkout"}},
            "ForAllValues",
        ),
        (
            {"StringEqualsIfExists": {f"{ISSUER}:sub": "system:serviceaccount:shop:checkout"}},
            "IfExists",
        ),
    ],
)
def test_missing_or_weak_sub_condition_fails(condition, words):
    row = _row(_with_condition(condition))
    assert row.status == "FAIL" and words in row.detail


def test_namespace_wide_pattern_warns():
    row = _row(_with_condition({"StringLike": {f"{ISSUER}:sub": "system:serviceaccount:shop:*"}}))
    assert row.status == "WARN" and "every service account in namespace shop" in row.detail


def test_invalid_policy_is_an_error_and_missing_role_skips():
    docs = demo_docs()
    docs["aws/iam/get-role/irsa-checkout.json"]["Role"]["AssumeRolePolicyDocument"] = "{not json"
    assert _row(docs).status == "ERROR"
    row = one(results(demo_docs(), "trust_policy_not_overbroad"), service_account="payments")
    assert row.status == "SKIP"  # role does not exist
