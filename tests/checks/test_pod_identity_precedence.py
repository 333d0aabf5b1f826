"""pod_identity_precedence: no EKS Pod Identity association overrides the IRSA annotation (needs
`aws/eks/list-pod-identity-associations.json`)."""

from __future__ import annotations

import pytest

from irsa_nb.bundle import CallFailed
from tests.checks.helpers import (
    demo_docs,
    no_role_annotation,
    no_service_account,
    one,
    only,
    outcome,
    results,
)


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


# The demo bundle's rows of this check, one per outcome, asserted whole (status, outcome key,
# exact detail, evidence; clean text).
DEMO_OUTCOMES = [
    (
        {"namespace": "kube-system", "service_account": "aws-node"},
        "PASS",
        "pass",
        "No EKS Pod Identity association exists for kube-system/aws-node; IRSA "
        "(arn:aws:iam::111122223333:role/AmazonEKS_CNI_Role) applies.",
        {"associations": [], "pods_with_pod_identity_env": []},
    ),
    (
        {"namespace": "shop", "service_account": "fulfillment"},
        "FAIL",
        "overrides",
        "EKS Pod Identity association a-4fqbz1xkvmd0cwrpe for shop/fulfillment takes precedence "
        "over the IRSA annotation arn:aws:iam::111122223333:role/irsa-fulfillment (pods with "
        "container credentials: fulfillment-3c2b1a0f9-d4f5g).",
        {
            "associations": [
                {
                    "association_arn": "arn:aws:eks:us-west-2:111122223333:podidentityassociation/shop-prod/a-4fqbz1xkvmd0cwrpe",  # noqa: E501
                    "association_id": "a-4fqbz1xkvmd0cwrpe",
                    "namespace": "shop",
                    "service_account": "fulfillment",
                }
            ],
            "pods_with_pod_identity_env": ["fulfillment-3c2b1a0f9-d4f5g"],
        },
    ),
    no_service_account("shop", "order"),
    no_role_annotation("shop", "reports"),
]


@pytest.mark.parametrize(
    ("where", "status", "key", "detail", "ev"), DEMO_OUTCOMES, ids=[c[2] for c in DEMO_OUTCOMES]
)
def test_each_demo_outcome_whole(demo, where, status, key, detail, ev):
    outcome(only(demo, "pod_identity_precedence", **where), status, key, detail, ev)
