"""service_account_exists: the service account exists."""

from __future__ import annotations

from tests.checks.helpers import demo_docs, only, results


def test_service_account_exists_pass_and_missing_fail(demo):
    assert only(demo, "service_account_exists", service_account="checkout").status == "PASS"
    row = only(demo, "service_account_exists", service_account="order")
    assert row.status == "FAIL"
    assert "orders-api-7b6c5d4f3-h8j9k" in row.detail
    assert "kubectl create serviceaccount order -n shop" in row.remediation


def test_requested_service_account_that_does_not_exist_fails():
    df = results(demo_docs(), namespace="shop", service_account="nope")
    assert only(df, "service_account_exists").status == "FAIL"
    assert only(df, "role_exists").status == "SKIP"
