"""pod_identity_precedence: no EKS Pod Identity association overrides the IRSA annotation (needs
`aws/eks/list-pod-identity-associations.json`)."""

from __future__ import annotations

from irsa_nb.bundle import CallFailed
from tests.checks.helpers import demo_docs, one, results


def test_pod_identity_association_for_the_annotated_service_account_fails():
    df = results(demo_docs(), "pod_identity_precedence")
    row = one(df, service_account="fulfillment")
    assert row.status == "FAIL"
    assert "a-4fqbz1xkvmd0cwrpe" in row.detail and "irsa-fulfillment" in row.detail
    assert "aws eks delete-pod-identity-association --cluster-name shop-prod" in row.remediation
    assert one(df, service_account="checkout").status == "PASS"


def test_pods_with_container_credentials_but_no_association_warn():
    docs = demo_docs()
    docs["aws/eks/list-pod-identity-associations.json"] = {"associations": []}
    row = one(results(docs, "pod_identity_precedence"), service_account="fulfillment")
    assert row.status == "WARN" and "fulfillment-3c2b1a0f9-d4f5g" in row.detail


def test_missing_association_list_skips_naming_the_command():
    docs = demo_docs()
    del docs["aws/eks/list-pod-identity-associations.json"]
    row = one(results(docs, "pod_identity_precedence"), service_account="checkout")
    assert row.status == "SKIP"
    assert (
        "aws eks list-pod-identity-associations --cluster-name shop-prod --region us-west-2"
        in row.remediation
    )


def test_unreadable_or_denied_association_list_is_an_error_not_a_pass():
    docs = demo_docs()
    docs["aws/eks/list-pod-identity-associations.json"] = {"unexpected": True}
    assert (
        one(results(docs, "pod_identity_precedence"), service_account="checkout").status == "ERROR"
    )
    docs["aws/eks/list-pod-identity-associations.json"] = CallFailed(
        "An error occurred (AccessDeniedException) when calling the "
        "ListPodIdentityAssociations operation: User is not authorized"
    )
    row = one(results(docs, "pod_identity_precedence"), service_account="checkout")
    assert row.status == "ERROR" and "AccessDeniedException" in row.detail
