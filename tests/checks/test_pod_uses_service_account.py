"""pod_uses_service_account: the pod's `serviceAccountName` is the annotated service account."""

from __future__ import annotations

import pytest

from tests.checks.helpers import demo_docs, one, only, outcome, results


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


# The demo bundle's rows of this check, one per outcome, asserted whole (status, outcome key,
# exact detail, evidence; clean text).
DEMO_OUTCOMES = [
    (
        {"pod": "aws-node-8xk2q"},
        "PASS",
        "pass",
        "Pod kube-system/aws-node-8xk2q uses service account aws-node.",
        {"serviceAccountName": "aws-node"},
    ),
    (
        {"pod": "orders-api-7b6c5d4f3-h8j9k"},
        "FAIL",
        "missing",
        "Pod shop/orders-api-7b6c5d4f3-h8j9k uses service account order, which does not exist in "
        "shop.",
        {"serviceAccountName": "order"},
    ),
    (
        {"pod": "reports-4b3a2f1e0-w5e6r"},
        "FAIL",
        "not_annotated",
        "Pod shop/reports-4b3a2f1e0-w5e6r uses service account reports, which has no role "
        "annotation (annotated service accounts in shop: analytics, audit, batch, cart, checkout, "
        "emailer, exporter, fulfillment, inventory, ledger, mirror, notifications, orders, "
        "payments, recommender, search).",
        {"serviceAccountName": "reports"},
    ),
]


@pytest.mark.parametrize(
    ("where", "status", "key", "detail", "ev"), DEMO_OUTCOMES, ids=[c[2] for c in DEMO_OUTCOMES]
)
def test_each_demo_outcome_whole(demo, where, status, key, detail, ev):
    outcome(only(demo, "pod_uses_service_account", **where), status, key, detail, ev)


def test_a_missing_service_account_in_an_unreadable_namespace_is_an_error_not_a_fail():
    from irsa_nb.bundle import CallFailed

    docs = demo_docs()
    docs["k8s/namespaces/shop/serviceaccounts.json"] = CallFailed(
        "Error from server (Forbidden): serviceaccounts is forbidden"
    )
    items = docs["k8s/serviceaccounts.json"]["items"]
    items[:] = [s for s in items if s["metadata"]["name"] != "checkout"]
    df = results(docs, "pod_uses_service_account", namespace="shop", pod="checkout-7d4b9c6f5-k2x9p")
    row = outcome(
        one(df),
        "ERROR",
        "_namespace_unreadable",
        "Service accounts in namespace shop could not be listed, so whether checkout exists is "
        "unknown: Error from server (Forbidden): serviceaccounts is forbidden",
        {"serviceAccountName": "checkout"},
    )
    assert row.remediation.endswith("kubectl auth can-i list serviceaccounts -n shop")
