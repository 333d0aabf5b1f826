"""trust_policy_allows_service_account: the trust policy, evaluated as IAM does (principal, action,
StringEquals/StringLike, AND/OR, Deny), admits `system:serviceaccount:NS:SA` with the token
audience."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from irsa_nb.bundle import role_path
from tests.checks.helpers import (
    ISSUER,
    PROVIDER,
    demo_docs,
    evidence,
    one,
    only,
    outcome,
    pod_doc,
    results,
    zh_outcome,
)

CHECK = "trust_policy_allows_service_account"


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


# --------------------------------------------------------------------------- the suggestion


def test_the_suggested_trust_policy_is_the_whole_canonical_document(demo):
    # The remediation's trust.json is the policy of the EKS User Guide ("Assign IAM roles to
    # Kubernetes service accounts": https://docs.aws.amazon.com/eks/latest/userguide/
    # associate-service-account-role.html): this cluster's provider, the web-identity action,
    # and StringEquals on both <issuer>:sub and <issuer>:aud.
    row = only(demo, CHECK, service_account="cart")
    outcome(
        row,
        "FAIL",
        "denied",
        f"Role irsa-cart does not trust system:serviceaccount:shop:cart: statement 1 requires "
        f"{ISSUER}:sub StringEquals system:serviceaccount:default:cart but the token's sub is "
        "system:serviceaccount:shop:cart.",
    )
    start = row.remediation.index("{")
    end = row.remediation.index("\nand apply it:")
    assert json.loads(row.remediation[start:end]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{ISSUER}:sub": "system:serviceaccount:shop:cart",
                        f"{ISSUER}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }
    assert row.remediation.endswith(
        "aws iam update-assume-role-policy --role-name irsa-cart --policy-document "
        "file://trust.json"
    )


# --------------------------------------------------------------------------- in-pod tokens
# With --exec the claims of the projected token are read inside the pod. The pod identity
# webhook projects a token whose audience is sts.amazonaws.com unless the service account's
# eks.amazonaws.com/audience says otherwise, and whose sub is system:serviceaccount:<ns>:<sa>
# (https://github.com/aws/amazon-eks-pod-identity-webhook#readme); STS checks them against the
# trust policy, and rejects an expired token (ExpiredTokenException, AssumeRoleWithWebIdentity
# API reference).

POD = "checkout-7d4b9c6f5-k2x9p"
READ_AT = 1765000000  # 2025-12-06T05:46:40Z
SUB = "system:serviceaccount:shop:checkout"


def _with_token(docs=None, *, sub=SUB, aud=("sts.amazonaws.com",), exp=READ_AT + 3600):
    docs = docs or demo_docs()
    base = f"k8s/exec/shop/{POD}/checkout/"
    docs[base + "probe.json"] = {"status": "ok", "checked_at": READ_AT}
    docs[base + "id.txt"] = "uid=1000 gid=1000 groups=1000"
    docs[base + "token-claims.json"] = {
        "iss": f"https://{ISSUER}",
        "sub": sub,
        "aud": list(aud),
        "exp": exp,
        "iat": READ_AT - 1000,
        "checked_at": READ_AT,
    }
    return docs


def _token_rows(docs, lang="en"):
    df = results(docs, CHECK, namespace="shop", service_account="checkout", lang=lang)
    return df[df.pod == POD]


def _token_evidence(sub=SUB, aud=("sts.amazonaws.com",), exp="2025-12-06T06:46:40Z"):
    return {
        "source": "exec",
        "pod": POD,
        "container": "checkout",
        "claims": {"iss": f"https://{ISSUER}", "sub": sub, "aud": list(aud)},
        "exp": exp,
        "iat": "2025-12-06T05:30:00Z",
        "checked_at": "2025-12-06T05:46:40Z",
        "expected": {"issuer": ISSUER, "sub": SUB, "aud": "sts.amazonaws.com"},
    }


def test_the_token_read_in_the_pod_matches():
    row = one(_token_rows(_with_token()))
    outcome(row, "PASS", "token_matches", ev=_token_evidence())
    assert POD in row.detail and "checkout" in row.detail


def test_a_token_for_another_audience_is_denied():
    row = one(_token_rows(_with_token(aud=("other",))))
    outcome(
        row,
        "FAIL",
        "token_denied",
        f"The token read inside pod {POD} (checkout) differs from what was checked: aud other "
        "(expected sts.amazonaws.com); the trust policy of irsa-checkout denies it: statement 1 "
        f"requires {ISSUER}:aud StringEquals sts.amazonaws.com but the token's aud is other.",
        _token_evidence(aud=("other",)),
    )
    assert row.remediation.endswith(
        "let the trust policy of irsa-checkout allow sub system:serviceaccount:shop:checkout "
        "and aud other."
    )
    zh = one(_token_rows(_with_token(aud=("other",)), "zh"))
    assert zh.status == "FAIL" and "other" in zh.detail and "sts.amazonaws.com" in zh.detail
    zh_outcome(_with_token(aud=("other",)), CHECK, "token_denied", pod=POD)


def test_a_token_that_differs_but_is_still_allowed_warns():
    docs = demo_docs()
    condition = docs[role_path("get-role", "irsa-checkout")]["Role"]["AssumeRolePolicyDocument"][
        "Statement"
    ][0]["Condition"]
    condition["StringLike"] = {f"{ISSUER}:sub": "system:serviceaccount:shop:*"}
    del condition["StringEquals"][f"{ISSUER}:sub"]
    other = "system:serviceaccount:shop:checkout-old"
    row = one(_token_rows(_with_token(docs, sub=other)))
    outcome(
        row,
        "WARN",
        "token_differs",
        f"The token read inside pod {POD} (checkout) differs from what was checked: sub {other} "
        f"(expected {SUB}); the trust policy of irsa-checkout still allows it.",
        _token_evidence(sub=other),
    )


def test_an_expired_token_fails_and_does_not_also_pass():
    row = one(_token_rows(_with_token(exp=READ_AT - 60)))
    outcome(
        row,
        "FAIL",
        "token_expired",
        f"The token read inside pod {POD} (checkout) expired at 2025-12-06T05:45:40Z (read at "
        "2025-12-06T05:46:40Z): STS rejects it (ExpiredTokenException) because the kubelet did "
        "not refresh it.",
        _token_evidence(exp="2025-12-06T05:45:40Z"),
    )
    # Expiring exactly when read is expired too (exp <= checked_at).
    assert one(_token_rows(_with_token(exp=READ_AT))).status == "FAIL"
    zh_outcome(_with_token(exp=READ_AT - 60), CHECK, "token_expired", pod=POD)


def test_a_token_without_times_matches_and_shows_unknown_times():
    docs = _with_token()
    claims = docs[f"k8s/exec/shop/{POD}/checkout/token-claims.json"]
    del claims["exp"], claims["iat"]
    row = outcome(one(_token_rows(docs)), "PASS", "token_matches")
    ev = evidence(row)
    assert (ev["exp"], ev["iat"], ev["checked_at"]) == ("?", "?", "2025-12-06T05:46:40Z")


def test_a_differing_token_whose_allow_depends_on_the_source_ip_is_undecided():
    """A real token with another aud, a policy that does not constrain aud, and a Deny on
    aws:SourceIp (unknown from the evidence: "the IP address of the requester",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceip):
    WARN token_undecided, never PASS or FAIL."""
    docs = _with_token(aud=("other",))
    doc = docs[role_path("get-role", "irsa-checkout")]["Role"]["AssumeRolePolicyDocument"]
    equals = doc["Statement"][0]["Condition"]["StringEquals"]
    doc["Statement"][0]["Condition"] = {
        "StringEquals": {k: v for k, v in equals.items() if k.endswith(":sub")}
    }
    doc["Statement"].append(_deny({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    row = outcome(one(_token_rows(docs)), "WARN", "token_undecided")
    assert "aud other (expected sts.amazonaws.com)" in row.detail
    assert "statement 2's condition IpAddress on aws:SourceIp" in row.detail
