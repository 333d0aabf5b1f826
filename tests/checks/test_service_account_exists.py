"""service_account_exists: the service account exists."""

from __future__ import annotations

import pytest

from tests.checks.helpers import demo_docs, only, outcome, results


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


# The demo bundle's rows of this check, one per outcome, asserted whole (status, outcome key,
# exact detail, evidence; clean text).
DEMO_OUTCOMES = [
    (
        {"namespace": "kube-system", "service_account": "aws-node"},
        "PASS",
        "pass",
        "Service account kube-system/aws-node exists.",
        {},
    ),
    (
        {"namespace": "shop", "service_account": "order"},
        "FAIL",
        "missing",
        "Service account shop/order does not exist (pods naming it: orders-api-7b6c5d4f3-h8j9k; "
        "annotated service accounts in shop: analytics, audit, batch, cart, checkout, emailer, "
        "exporter, fulfillment, inventory, ledger, mirror, notifications, orders, payments, "
        "recommender, search).",
        {},
    ),
]


@pytest.mark.parametrize(
    ("where", "status", "key", "detail", "ev"), DEMO_OUTCOMES, ids=[c[2] for c in DEMO_OUTCOMES]
)
def test_each_demo_outcome_whole(demo, where, status, key, detail, ev):
    outcome(only(demo, "service_account_exists", **where), status, key, detail, ev)
