"""role_exists: the annotated role exists (NoSuchEntity → FAIL)."""

from __future__ import annotations

from irsa_nb.bundle import CallFailed, role_path
from tests.checks.helpers import demo_docs, only, results, sa_doc


def test_role_exists_pass_and_nosuchentity_fail(demo):
    assert only(demo, "role_exists", service_account="checkout").status == "PASS"
    row = only(demo, "role_exists", service_account="payments")
    assert row.status == "FAIL"
    assert "irsa-payments" in row.detail and "aws iam create-role" in row.remediation


def test_role_access_denied_is_error_not_fail():
    docs = demo_docs()
    docs[role_path("get-role", "irsa-checkout")] = CallFailed(
        "An error occurred (AccessDenied) when calling the GetRole operation: denied"
    )
    df = results(docs, namespace="shop", service_account="checkout")
    assert only(df, "role_exists").status == "ERROR"
    assert only(df, "trust_policy_allows_service_account").status == "SKIP"


def test_role_not_collected_is_skip_with_get_role_command():
    docs = demo_docs()
    del docs[role_path("get-role", "irsa-checkout")]
    row = only(results(docs, namespace="shop", service_account="checkout"), "role_exists")
    assert row.status == "SKIP"
    assert "aws iam get-role --role-name irsa-checkout" in row.remediation


def test_role_from_another_account_is_reported_not_confused():
    docs = demo_docs()
    sa_doc(docs, "shop", "checkout")["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] = (
        "arn:aws:iam::444455556666:role/irsa-checkout"
    )
    row = only(results(docs, namespace="shop", service_account="checkout"), "role_exists")
    assert row.status == "ERROR"
    assert "444455556666" in row.detail
