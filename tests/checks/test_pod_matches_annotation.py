"""pod_matches_annotation: the pod's injected role equals the current annotation (else
recreate it)."""

from __future__ import annotations

import pytest

from tests.checks.helpers import demo_docs, only, outcome, pod_doc, results


def test_pod_matches_annotation_pass_stale_and_not_injected(demo):
    assert only(demo, "pod_matches_annotation", pod="checkout-7d4b9c6f5-k2x9p").status == "PASS"
    row = only(demo, "pod_matches_annotation", pod="recommender-6d5c4b3a2-p0o9i")
    assert row.status == "FAIL"
    assert "irsa-recommender-v1" in row.detail
    assert "kubectl rollout restart deployment/recommender -n shop" in row.remediation
    row = only(demo, "pod_matches_annotation", pod="notifications-9f8e7d6c5-a1b2c")
    assert row.status == "FAIL"


def test_a_pod_without_the_role_names_both_causes(demo):
    """The spec alone cannot tell a pod created before the annotation from one the webhook
    missed at creation (failurePolicy Ignore, selectors, its service-account cache; see
    https://github.com/aws/amazon-eks-pod-identity-webhook#readme): the text names both."""
    row = only(demo, "pod_matches_annotation", pod="notifications-9f8e7d6c5-a1b2c")
    assert "either it was created before the annotation" in row.detail
    assert "or the webhook missed it" in row.detail and "webhook_configured" in row.detail
    assert "(created 20" in row.detail  # the creation time the reader compares with


def test_restart_command_follows_the_owner():
    docs = demo_docs()
    row = only(results(docs), "pod_matches_annotation", pod="recommender-6d5c4b3a2-p0o9i")
    assert "deployment/recommender" in row.remediation
    pod_doc(docs, "recommender-")["metadata"]["ownerReferences"] = []
    row = only(results(docs), "pod_matches_annotation", pod="recommender-6d5c4b3a2-p0o9i")
    assert "kubectl delete pod recommender-6d5c4b3a2-p0o9i -n shop" in row.remediation


# The demo bundle's rows of this check, one per outcome, asserted whole (status, outcome key,
# exact detail, evidence; clean text).
DEMO_OUTCOMES = [
    (
        {"pod": "aws-node-8xk2q"},
        "PASS",
        "pass",
        "Pod kube-system/aws-node-8xk2q runs with "
        "arn:aws:iam::111122223333:role/AmazonEKS_CNI_Role, the role annotated on aws-node.",
        {
            "annotation": "arn:aws:iam::111122223333:role/AmazonEKS_CNI_Role",
            "created": "2026-11-02T09:14:07Z",
            "pod_AWS_ROLE_ARN": ["arn:aws:iam::111122223333:role/AmazonEKS_CNI_Role"],
        },
    ),
    (
        {"pod": "fulfillment-3c2b1a0f9-d4f5g"},
        "SKIP",
        "pod_identity_injected",
        "Pod shop/fulfillment-3c2b1a0f9-d4f5g has no AWS_ROLE_ARN because EKS Pod Identity "
        "credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI) were injected instead, so its role "
        "comes from Pod Identity, not from the annotation "
        "arn:aws:iam::111122223333:role/irsa-fulfillment (see pod_identity_precedence).",
        {
            "annotation": "arn:aws:iam::111122223333:role/irsa-fulfillment",
            "created": "2026-11-02T09:14:07Z",
            "pod_AWS_ROLE_ARN": [],
        },
    ),
    (
        {"pod": "notifications-9f8e7d6c5-a1b2c"},
        "FAIL",
        "not_injected",
        "Pod shop/notifications-9f8e7d6c5-a1b2c (created 2026-11-02T09:14:07Z) has no "
        "AWS_ROLE_ARN although notifications is annotated with "
        "arn:aws:iam::111122223333:role/irsa-notifications: either it was created before the "
        "annotation was added, or the webhook missed it when it was created (not reachable with "
        "failurePolicy Ignore, a selector that excludes the pod, the annotation not yet in the "
        "webhook's cache); webhook_configured shows the webhook side.",
        {
            "annotation": "arn:aws:iam::111122223333:role/irsa-notifications",
            "created": "2026-11-02T09:14:07Z",
            "pod_AWS_ROLE_ARN": [],
        },
    ),
    (
        {"pod": "orders-api-7b6c5d4f3-h8j9k"},
        "SKIP",
        "_no_service_account",
        "Service account shop/order does not exist, so there is nothing to check here (see "
        "service_account_exists).",
        {"annotation": None, "created": "2026-11-02T09:14:07Z", "pod_AWS_ROLE_ARN": []},
    ),
    (
        {"pod": "recommender-6d5c4b3a2-p0o9i"},
        "FAIL",
        "stale",
        "Pod shop/recommender-6d5c4b3a2-p0o9i runs with "
        "arn:aws:iam::111122223333:role/irsa-recommender-v1, but recommender is now annotated "
        "with arn:aws:iam::111122223333:role/irsa-recommender.",
        {
            "annotation": "arn:aws:iam::111122223333:role/irsa-recommender",
            "created": "2026-11-02T09:14:07Z",
            "pod_AWS_ROLE_ARN": ["arn:aws:iam::111122223333:role/irsa-recommender-v1"],
        },
    ),
]


@pytest.mark.parametrize(
    ("where", "status", "key", "detail", "ev"), DEMO_OUTCOMES, ids=[c[2] for c in DEMO_OUTCOMES]
)
def test_each_demo_outcome_whole(demo, where, status, key, detail, ev):
    outcome(only(demo, "pod_matches_annotation", **where), status, key, detail, ev)
