"""trust_policy_allows_service_account: the trust policy, evaluated as IAM does (principal, action,
StringEquals/StringLike, AND/OR, Deny), admits `system:serviceaccount:NS:SA` with the token
audience."""

from __future__ import annotations

import json
import urllib.parse

from irsa_nb.bundle import role_path
from tests.checks.helpers import ISSUER, PROVIDER, demo_docs, evidence, only, results


def test_trust_policy_pass_and_wrong_namespace_fail(demo):
    assert only(demo, "trust_policy_allows_service_account", service_account="checkout").status == (
        "PASS"
    )
    row = only(demo, "trust_policy_allows_service_account", service_account="cart")
    assert row.status == "FAIL"
    assert "system:serviceaccount:default:cart" in row.detail
    assert "system:serviceaccount:shop:cart" in row.remediation
    assert "update-assume-role-policy --role-name irsa-cart" in row.remediation
    assert evidence(row)["request"]["sub"] == "system:serviceaccount:shop:cart"


def test_trust_policy_as_url_encoded_string_loads():
    docs = demo_docs()
    role = docs[role_path("get-role", "irsa-checkout")]["Role"]
    role["AssumeRolePolicyDocument"] = urllib.parse.quote(
        json.dumps(role["AssumeRolePolicyDocument"])
    )
    df = results(docs, namespace="shop", service_account="checkout")
    assert only(df, "trust_policy_allows_service_account").status == "PASS"


def test_trust_policy_explicit_deny_wins():
    docs = demo_docs()
    doc = docs[role_path("get-role", "irsa-checkout")]["Role"]["AssumeRolePolicyDocument"]
    doc["Statement"].append(
        {
            "Effect": "Deny",
            "Principal": {"Federated": PROVIDER},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {f"{ISSUER}:sub": "system:serviceaccount:shop:*"}},
        }
    )
    row = only(
        results(docs, namespace="shop", service_account="checkout"),
        "trust_policy_allows_service_account",
    )
    assert row.status == "FAIL"
    assert "Deny" in row.detail


def test_trust_policy_stringequals_wildcard_is_literal():
    docs = demo_docs()
    doc = docs[role_path("get-role", "irsa-checkout")]["Role"]["AssumeRolePolicyDocument"]
    doc["Statement"][0]["Condition"]["StringEquals"][f"{ISSUER}:sub"] = (
        "system:serviceaccount:shop:*"
    )
    row = only(
        results(docs, namespace="shop", service_account="checkout"),
        "trust_policy_allows_service_account",
    )
    assert row.status == "FAIL"
    assert "StringLike" in row.detail


def test_trust_policy_other_clusters_provider_fails_naming_issuer_id():
    docs = demo_docs()
    doc = docs[role_path("get-role", "irsa-checkout")]["Role"]["AssumeRolePolicyDocument"]
    other = "oidc.eks.us-west-2.amazonaws.com/id/AAAAAAAABBBBBBBBCCCCCCCCDDDDDDDD"
    text = json.dumps(doc).replace(ISSUER, other)
    docs[role_path("get-role", "irsa-checkout")]["Role"]["AssumeRolePolicyDocument"] = json.loads(
        text
    )
    row = only(
        results(docs, namespace="shop", service_account="checkout"),
        "trust_policy_allows_service_account",
    )
    assert row.status == "FAIL"
    assert "AAAAAAAABBBBBBBBCCCCCCCCDDDDDDDD" in row.detail


def test_trust_policy_that_cannot_be_parsed_is_error():
    docs = demo_docs()
    docs[role_path("get-role", "irsa-checkout")]["Role"]["AssumeRolePolicyDocument"] = "{not json"
    row = only(
        results(docs, namespace="shop", service_account="checkout"),
        "trust_policy_allows_service_account",
    )
    assert row.status == "ERROR"
