"""service_account_role_annotation: `eks.amazonaws.com/role-arn` is present and a valid role ARN."""

from __future__ import annotations

from tests.checks.helpers import demo_docs, only, results, sa_doc


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
