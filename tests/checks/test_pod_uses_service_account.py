"""pod_uses_service_account: the pod's `serviceAccountName` is the annotated service account."""

from __future__ import annotations

from tests.checks.helpers import demo_docs, only, results


def test_pod_uses_service_account_pass_and_missing_service_account_fail(demo):
    assert only(demo, "pod_uses_service_account", pod="checkout-7d4b9c6f5-k2x9p").status == "PASS"
    row = only(demo, "pod_uses_service_account", pod="orders-api-7b6c5d4f3-h8j9k")
    assert row.status == "FAIL"
    assert "does not exist" in row.detail


def test_pod_on_default_service_account_fails_when_targeted():
    df = results(demo_docs(), namespace="shop", pod="frontend-7f6e5d4c3-t7y8u")
    row = only(df, "pod_uses_service_account")
    assert row.status == "FAIL"
    assert "default" in row.detail and "checkout" in row.detail


def test_pod_using_another_service_account_than_requested_fails():
    df = results(
        demo_docs(), namespace="shop", service_account="checkout", pod="cart-5f6d8b7c9-q4w8e"
    )
    row = only(df, "pod_uses_service_account")
    assert row.status == "FAIL"
    assert "uses service account cart, not checkout" in row.detail


def test_namespace_scope_warns_for_pods_without_an_annotated_service_account():
    df = results(demo_docs(), namespace="shop")
    assert only(df, "pod_uses_service_account", pod="frontend-7f6e5d4c3-t7y8u").status == "WARN"
