"""pod_matches_annotation: the pod's injected role equals the current annotation (else
recreate it)."""

from __future__ import annotations

from tests.checks.helpers import demo_docs, only, pod_doc, results


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
