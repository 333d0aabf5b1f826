"""trust_policy_not_overbroad: a security finding on the role's trust policy."""

from __future__ import annotations

import pytest

from tests.checks.helpers import (
    ISSUER,
    demo_docs,
    evidence,
    no_role_annotation,
    no_service_account,
    one,
    only,
    outcome,
    results,
)


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


def test_synthetic_cluster_missing_sub_roles_are_flagged(tmp_path):
    from irsa_nb import load_bundle, run_checks
    from tests.builders.synthetic import synthetic_cluster, write_bundle_files

    data = synthetic_cluster(n_service_accounts=150, n_pods=300, n_roles=60, defect_rate=0.5)
    write_bundle_files(data, tmp_path)
    # aud_as_sub: the sub value was written under :aud, so there is no :sub condition either
    kinds = ("missing_sub", "aud_as_sub")
    missing_sub = {r for r, kind in data["defects"]["roles"].items() if kind in kinds}
    assert missing_sub
    df = run_checks(load_bundle(tmp_path), checks=["trust_policy_not_overbroad"])
    df["role"] = df.role_arn.str.rsplit("/", n=1).str[-1]
    flagged = df[df.role.isin(missing_sub) & (df.status != "ERROR")]
    assert len(flagged) and set(flagged.status) == {"FAIL"}
    assert flagged.detail.str.contains(":sub condition").all()
    clean = df[~df.role.isin(missing_sub) & (df.status == "FAIL")]
    assert clean.empty, clean.detail.tolist()


OTHER_SUB = "oidc.eks.us-west-2.amazonaws.com/id/OTHER:sub"


@pytest.mark.parametrize("operator", ["StringLike", "StringEquals", "ForAnyValue:StringLike"])
def test_a_sub_condition_keyed_on_another_issuer_admits_nothing_so_it_is_not_overbroad(operator):
    """The Federated principal is this cluster's provider but the condition names another
    issuer's key: no token of this cluster carries it, so the statement matches nobody."""
    docs = _with_condition({operator: {OTHER_SUB: "system:serviceaccount:shop:checkout"}})
    row = _row(docs)
    assert row.status == "PASS", row.detail
    assert "statement(s) 1 match no token" in row.detail and OTHER_SUB in row.detail
    assert evidence(row)["findings"] == []
    assert evidence(row)["unmatchable"] == {"1": f"{operator} {OTHER_SUB}"}
    zh = one(results(docs, "trust_policy_not_overbroad", lang="zh"), service_account="checkout")
    assert zh.status == "PASS" and "不会匹配此集群的任何令牌" in zh.detail
    # ... and the denial is reported where it belongs.
    allows = one(results(docs, "trust_policy_allows_service_account"), service_account="checkout")
    assert allows.status == "FAIL" and "names another issuer" in allows.detail


@pytest.mark.parametrize(
    "condition",
    [
        {"StringLikeIfExists": {OTHER_SUB: "system:serviceaccount:shop:checkout"}},
        {"StringNotEquals": {OTHER_SUB: "system:serviceaccount:shop:checkout"}},
        {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    ],
)
def test_conditions_that_hold_without_the_key_still_leave_the_role_open(condition):
    row = _row(_with_condition(condition))
    assert row.status == "FAIL" and "any service account in the cluster" in row.detail
    assert "unmatchable" not in evidence(row)


def test_findings_are_rendered_in_chinese():
    row = one(
        results(demo_docs(), "trust_policy_not_overbroad", lang="zh"), service_account="audit"
    )
    assert row.status == "FAIL"
    assert "其他命名空间中的服务账户" in row.detail and "which also matches" not in row.detail
    condition = {"StringLike": {f"{ISSUER}:sub": "system:serviceaccount:shop:*"}}
    zh = one(
        results(_with_condition(condition), "trust_policy_not_overbroad", lang="zh"),
        service_account="checkout",
    )
    assert zh.status == "WARN" and "命名空间 shop 中的每个服务账户" in zh.detail


def test_a_condition_on_a_global_key_absent_from_web_identity_calls_admits_nothing():
    """IAM User Guide, "AWS global condition context keys", aws:PrincipalArn: "This key is
    included in the request context for all signed requests. Anonymous requests do not include
    this key" -- the SDKs send AssumeRoleWithWebIdentity unsigned, so a statement requiring it
    matches no token of this cluster (https://docs.aws.amazon.com/IAM/latest/UserGuide/
    reference_policies_condition-keys.html#condition-keys-principalarn)."""
    condition = {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/*"}}
    row = _row(_with_condition(condition))
    assert row.status == "PASS", row.detail
    assert evidence(row)["unmatchable"] == {"1": "ArnLike aws:PrincipalArn"}
    allows = one(
        results(_with_condition(condition), "trust_policy_allows_service_account"),
        service_account="checkout",
    )
    assert allows.status == "FAIL" and "is not in the request context" in allows.detail


# The demo bundle's rows of this check, one per outcome, asserted whole (status, outcome key,
# exact detail, evidence; clean text).
DEMO_OUTCOMES = [
    (
        {"namespace": "kube-system", "service_account": "aws-node"},
        "PASS",
        "pass",
        "The trust policy of role AmazonEKS_CNI_Role limits "
        "oidc.eks.us-west-2.amazonaws.com/id/5C6D1A7E0B9F4E2D8A3C1B7F9E0D2A4C:sub to named "
        "service accounts.",
        {"findings": []},
    ),
    (
        {"namespace": "shop", "service_account": "audit"},
        "FAIL",
        "overbroad",
        "The trust policy of role irsa-audit is broader than system:serviceaccount:shop:audit: "
        "statement 1 lets "
        "oidc.eks.us-west-2.amazonaws.com/id/5C6D1A7E0B9F4E2D8A3C1B7F9E0D2A4C:sub match "
        "system:serviceaccount:*:audit (StringLike), which also matches service accounts in other "
        "namespaces.",
        {
            "findings": [
                "statement 1 lets "
                "oidc.eks.us-west-2.amazonaws.com/id/5C6D1A7E0B9F4E2D8A3C1B7F9E0D2A4C:sub match "
                "system:serviceaccount:*:audit (StringLike), which also matches service accounts "
                "in other namespaces."
            ]
        },
    ),
    (
        {"namespace": "shop", "service_account": "inventory"},
        "SKIP",
        "_invalid_role_arn",
        "The role annotation 'arn:aws:iam:::111122223333:role/irsa-inventory' is not a valid IAM "
        "role ARN, so the role cannot be looked up (see service_account_role_annotation).",
        {},
    ),
    (
        {"namespace": "shop", "service_account": "mirror"},
        "SKIP",
        "_role_unavailable",
        "Role arn:aws-cn:iam::111122223333:role/irsa-mirror could not be read, so this could not "
        "be checked (see role_exists).",
        {},
    ),
    no_service_account("shop", "order"),
    no_role_annotation("shop", "reports"),
]


@pytest.mark.parametrize(
    ("where", "status", "key", "detail", "ev"), DEMO_OUTCOMES, ids=[c[2] for c in DEMO_OUTCOMES]
)
def test_each_demo_outcome_whole(demo, where, status, key, detail, ev):
    outcome(only(demo, "trust_policy_not_overbroad", **where), status, key, detail, ev)


def test_namespace_wide_and_unmatchable_outcomes_whole():
    sub_key = f"{ISSUER}:sub"
    finding = (
        f"statement 1 lets {sub_key} match system:serviceaccount:shop:* (StringLike), which "
        "matches every service account in namespace shop."
    )
    row = outcome(
        _row(_with_condition({"StringLike": {sub_key: "system:serviceaccount:shop:*"}})),
        "WARN",
        "namespace_wide",
        "The trust policy of role irsa-checkout admits every service account in a namespace: "
        + finding,
        {"findings": [finding]},
    )
    assert f'"{sub_key}": "system:serviceaccount:shop:checkout"' in row.remediation
    other = "oidc.eks.us-west-2.amazonaws.com/id/OTHER:sub"
    outcome(
        _row(_with_condition({"StringLike": {other: "system:serviceaccount:shop:checkout"}})),
        "PASS",
        "pass_unmatchable",
        "The trust policy of role irsa-checkout admits no more than named service accounts: "
        "statement(s) 1 match no token from this cluster, because they require condition keys "
        "that the AssumeRoleWithWebIdentity requests of such tokens do not carry "
        f"(StringLike {other}); see trust_policy_allows_service_account.",
        {"findings": [], "unmatchable": {"1": f"StringLike {other}"}},
    )


def test_several_findings_are_joined_into_one_detail():
    sub_key = f"{ISSUER}:sub"
    sub = "system:serviceaccount:shop:checkout"
    row = _row(
        _with_condition(
            {"StringEqualsIfExists": {sub_key: sub}, "ForAllValues:StringLike": {sub_key: sub}}
        )
    )
    outcome(
        row,
        "FAIL",
        "overbroad",
        f"The trust policy of role irsa-checkout is broader than {sub}: statement 1 uses "
        f"StringEqualsIfExists on {sub_key}, which passes when the key is absent; use "
        f"StringEquals. statement 1 uses ForAllValues:StringLike on {sub_key}, which is "
        "vacuously true when the key is absent; drop the ForAllValues: prefix.",
    )
