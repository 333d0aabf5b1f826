"""trust_policy_allows_service_account: the trust policy, evaluated as IAM does (principal, action,
StringEquals/StringLike, AND/OR, Deny), admits `system:serviceaccount:NS:SA` with the token
audience."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from irsa_nb.bundle import role_path
from tests.checks.helpers import ISSUER, PROVIDER, demo_docs, evidence, only, pod_doc, results


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


# --------------------------------------------------------------------------- request context
# IAM User Guide, "AWS global condition context keys":
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html


def _checkout_with(
    *statements: dict, lang: str = "en", docs: dict | None = None, sdk: dict | None = None
):
    docs = docs or demo_docs()
    doc = docs[role_path("get-role", "irsa-checkout")]["Role"]["AssumeRolePolicyDocument"]
    doc["Statement"].extend(statements)
    df = results(docs, "trust_policy_allows_service_account", namespace="shop", lang=lang, sdk=sdk)
    return only(df, "trust_policy_allows_service_account", service_account="checkout")


def _deny(condition: dict) -> dict:
    return {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": condition,
    }


def test_a_deny_on_the_source_ip_warns_naming_the_key():
    """aws:SourceIp: "This key is included in the request context, except when the requester
    uses a VPC endpoint" -- its value is not in any bundle, so a Deny on it is neither ignored
    (a wrong PASS before) nor a confident FAIL: WARN naming the key, in both languages."""
    deny = _deny({"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}})
    row = _checkout_with(deny)
    assert row.status == "WARN", row.detail
    assert "cannot be decided from the evidence" in row.detail and "aws:SourceIp" in row.detail
    assert evidence(row)["undecided"] == ["NotIpAddress aws:SourceIp"]
    assert "sts_probe_assume_role" in row.remediation
    zh = _checkout_with(deny, lang="zh")
    assert zh.status == "WARN" and "无法根据证据判断" in zh.detail and "aws:SourceIp" in zh.detail


def test_a_deny_that_started_in_the_past_fails():
    """aws:CurrentTime: "Availability - This key is always included in the request context":
    a Deny from a past date applies now (it was ignored before: a wrong PASS)."""
    row = _checkout_with(_deny({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}))
    assert row.status == "FAIL" and "explicit Deny in statement 2" in row.detail


def test_a_deny_without_https_does_not_apply():
    """aws:SecureTransport: "always included"; the SDKs call STS over HTTPS, so the common
    Deny-if-not-SecureTransport statement leaves the Allow in force."""
    row = _checkout_with(_deny({"Bool": {"aws:SecureTransport": "false"}}))
    assert row.status == "PASS", row.detail


@pytest.mark.parametrize(
    ("pod_region", "policy_region", "status"),
    [
        (None, "us-west-2", "PASS"),  # the containers' AWS_REGION (= the cluster's)
        (None, "eu-west-1", "FAIL"),
        ("eu-west-1", "eu-west-1", "PASS"),  # a container setting its own Region
    ],
)
def test_the_requested_region_is_the_region_the_pods_call(pod_region, policy_region, status):
    """aws:RequestedRegion: "Use this key to compare the AWS Region that was called in the
    request ... always included". The check passes the Region its pods' containers set
    (AWS_REGION/AWS_DEFAULT_REGION), else the cluster's."""
    docs = demo_docs()
    if pod_region:
        for c in pod_doc(docs, "checkout-")["spec"]["containers"]:
            for e in c.get("env", []):
                if e["name"] in ("AWS_REGION", "AWS_DEFAULT_REGION"):
                    e["value"] = pod_region
    row = _checkout_with(
        _deny({"StringNotEquals": {"aws:RequestedRegion": policy_region}}), docs=docs
    )
    assert row.status == status, row.detail
    if status == "FAIL":
        assert "explicit Deny in statement 2" in row.detail


@pytest.mark.parametrize(
    ("sdk", "status"), [({"boto3": "1.34.0"}, "WARN"), ({"go2": "1.30.0"}, "FAIL")]
)
def test_a_global_sts_call_leaves_the_requested_region_undecided(sdk, status):
    """Requests to the global endpoint "are automatically served in the same AWS Region as
    your workloads" (https://docs.aws.amazon.com/IAM/latest/UserGuide/
    id_credentials_temp_region-endpoints.html#reference_sts_global_endpoint_changes), so the
    Region is unknown when the SDK calls sts.amazonaws.com: boto3 before 1.40 with
    AWS_STS_REGIONAL_ENDPOINTS unset does; Go v2 calls the regional endpoint of AWS_REGION."""
    docs = demo_docs()
    for c in pod_doc(docs, "checkout-")["spec"]["containers"]:
        c["env"] = [e for e in c.get("env", []) if e["name"] != "AWS_STS_REGIONAL_ENDPOINTS"]
    row = _checkout_with(
        _deny({"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}}), docs=docs, sdk=sdk
    )
    assert row.status == status, row.detail
    if status == "WARN":
        assert "aws:RequestedRegion" in row.detail
