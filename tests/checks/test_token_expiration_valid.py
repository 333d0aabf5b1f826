"""token_expiration_valid: `eks.amazonaws.com/token-expiration` is whole seconds in 600–86400 and in
effect."""

from __future__ import annotations

import pytest

from irsa_nb.checks.webhook import parse_go_int64
from tests.checks.helpers import (
    add_pod,
    add_sa,
    demo_docs,
    irsa_pod,
    no_role_annotation,
    no_service_account,
    one,
    only,
    outcome,
    results,
)


def _expiry(value, where="sa", volume=None, pods=(True,)):
    """``pods``: one pod per entry, mutated by the webhook (True) or not (False)."""
    docs = demo_docs()
    ann = {"eks.amazonaws.com/token-expiration": value}
    add_sa(docs, "shop", "billing", "irsa-billing", ann if where == "sa" else None)
    kw = {"token_expiration": volume} if volume else {}
    for i, mutated in enumerate(pods):
        pod = irsa_pod(
            "shop",
            f"billing-5d4c3b2a1-q1w2{i}",
            "billing",
            "irsa-billing" if mutated else None,
            annotations=ann if where == "pod" else None,
            **kw,
        )
        add_pod(docs, pod)
    return one(results(docs, "token_expiration_valid", namespace="shop", service_account="billing"))


def test_token_expiration_in_range_and_applied_passes():
    row = _expiry("3600", volume=3600)
    assert row.status == "PASS"


def test_a_valid_annotation_on_unmutated_pods_is_not_in_effect():
    """The webhook adds the aws-iam-token volume, whose expirationSeconds carries the
    annotation, only when it mutates the pod (getPodSpecPatch in
    https://github.com/aws/amazon-eks-pod-identity-webhook/blob/master/pkg/handler/handler.go);
    a pod without the volume has no IRSA token, so "the pods use it" would be false."""
    row = _expiry("3600", volume=3600, pods=(False,))
    assert row.status == "INFO" and "not in effect" in row.detail, row.detail
    assert "billing-5d4c3b2a1-q1w20" in row.detail and "use it" not in row.detail
    row = _expiry("3600", volume=3600, pods=(True, False))
    assert row.status == "INFO" and "billing-5d4c3b2a1-q1w21" in row.detail
    assert "billing-5d4c3b2a1-q1w20" not in row.detail


def test_a_valid_annotation_without_pods_does_not_claim_pods_use_it():
    row = _expiry("3600", pods=())
    assert row.status == "PASS" and "no pod" in row.detail and "pods use it" not in row.detail


def test_unparsable_token_expiration_fails_because_the_webhook_ignores_it():
    row = one(results(demo_docs(), "token_expiration_valid"), service_account="batch")
    assert row.status == "FAIL" and "'24h'" in row.detail
    assert "eks.amazonaws.com/token-expiration=3600" in row.remediation
    assert _expiry("1h", where="pod").status == "FAIL"


def test_short_and_long_values_warn():
    row = _expiry("300", volume=600)
    assert row.status == "WARN" and "raises it to 600" in row.detail
    assert _expiry("172800", volume=172800).status == "WARN"


def test_annotation_changed_after_pod_creation_warns():
    row = _expiry("3600", volume=86400)
    assert row.status == "WARN" and "expirationSeconds 86400, not 3600" in row.detail


def test_no_annotation_passes_with_the_default():
    row = one(results(demo_docs(), "token_expiration_valid"), service_account="checkout")
    assert row.status == "PASS" and "86400" in row.detail


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3600", 3600),
        ("+600", 600),
        ("-5", -5),
        ("1h", None),
        (" 3600", None),
        ("1_000", None),
        ("", None),
        ("9223372036854775807", 2**63 - 1),
        ("9223372036854775808", None),
        ("-9223372036854775808", -(2**63)),
        ("0" * 40 + "3600", 3600),  # Go accepts leading zeros
        ("9" * 5000, None),  # beyond Python's int digit limit: must not raise
        ("-" + "1" * 5000, None),
    ],
)
def test_go_parse_int(text, value):
    assert parse_go_int64(text) == value


def test_a_5000_digit_token_expiration_is_invalid_not_a_crash():
    row = _expiry("9" * 5000, where="pod")
    assert row.status == "FAIL" and "(5000 characters)" in row.detail and len(row.detail) < 500


# The demo bundle's rows of this check, one per outcome, asserted whole (status, outcome key,
# exact detail, evidence; clean text).
DEMO_OUTCOMES = [
    (
        {"namespace": "kube-system", "service_account": "aws-node"},
        "PASS",
        "not_set",
        "Neither kube-system/aws-node nor its pods set eks.amazonaws.com/token-expiration, so the "
        "webhook default (86400 s on EKS) applies.",
        {},
    ),
    (
        {"namespace": "shop", "service_account": "batch"},
        "FAIL",
        "invalid",
        "eks.amazonaws.com/token-expiration is not an integer number of seconds (service account "
        "shop/batch: '24h'); the webhook ignores it, so it has no effect.",
        {
            "annotations": {"service account shop/batch": "24h"},
            "projected_expiration_seconds": {"batch-0f9e8d7c6-x2c3v": 86400},
        },
    ),
    no_service_account("shop", "order"),
    no_role_annotation("shop", "reports"),
]


@pytest.mark.parametrize(
    ("where", "status", "key", "detail", "ev"), DEMO_OUTCOMES, ids=[c[2] for c in DEMO_OUTCOMES]
)
def test_each_demo_outcome_whole(demo, where, status, key, detail, ev):
    outcome(only(demo, "token_expiration_valid", **where), status, key, detail, ev)
