"""service_account_role_annotation: `eks.amazonaws.com/role-arn` is present and a valid role ARN."""

from __future__ import annotations

import pytest

from tests.checks.helpers import demo_docs, no_service_account, only, outcome, results, sa_doc


def test_role_annotation_missing_and_malformed_fail(demo):
    assert only(demo, "service_account_role_annotation", service_account="checkout").status == (
        "PASS"
    )
    row = only(demo, "service_account_role_annotation", service_account="inventory")
    assert row.status == "FAIL"
    assert "12-digit" in row.detail
    df = results(demo_docs(), namespace="shop", service_account="default")
    row = only(df, "service_account_role_annotation")
    assert row.status == "FAIL"
    assert "kubectl annotate serviceaccount default -n shop" in row.remediation
    assert "arn:aws:iam::111122223333:role/" in row.remediation


def test_role_annotation_naming_a_user_is_invalid():
    docs = demo_docs()
    sa_doc(docs, "shop", "checkout")["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] = (
        "arn:aws:iam::111122223333:user/checkout"
    )
    row = only(
        results(docs, namespace="shop", service_account="checkout"),
        "service_account_role_annotation",
    )
    assert row.status == "FAIL"
    assert "not an IAM role" in row.detail


# The demo bundle's rows of this check, one per outcome, asserted whole (status, outcome key,
# exact detail, evidence; clean text).
DEMO_OUTCOMES = [
    (
        {"namespace": "kube-system", "service_account": "aws-node"},
        "PASS",
        "pass",
        "Service account kube-system/aws-node is annotated with "
        "arn:aws:iam::111122223333:role/AmazonEKS_CNI_Role.",
        {"annotation": "arn:aws:iam::111122223333:role/AmazonEKS_CNI_Role"},
    ),
    (
        {"namespace": "shop", "service_account": "inventory"},
        "FAIL",
        "invalid",
        "The annotation "
        "eks.amazonaws.com/role-arn='arn:aws:iam:::111122223333:role/irsa-inventory' is not a "
        "valid IAM role ARN: invalid ARN 'arn:aws:iam:::111122223333:role/irsa-inventory': IAM "
        "ARNs need a 12-digit account ID in the 5th part; a valid ARN looks like "
        "arn:<partition>:<service>:<region>:<account>:<resource>, e.g. "
        "arn:aws:iam::111122223333:role/my-role.",
        {"annotation": "arn:aws:iam:::111122223333:role/irsa-inventory"},
    ),
    no_service_account("shop", "order"),
    (
        {"namespace": "shop", "service_account": "reports"},
        "FAIL",
        "missing",
        "Service account shop/reports has no eks.amazonaws.com/role-arn annotation.",
        {},
    ),
]


@pytest.mark.parametrize(
    ("where", "status", "key", "detail", "ev"), DEMO_OUTCOMES, ids=[c[2] for c in DEMO_OUTCOMES]
)
def test_each_demo_outcome_whole(demo, where, status, key, detail, ev):
    outcome(only(demo, "service_account_role_annotation", **where), status, key, detail, ev)
