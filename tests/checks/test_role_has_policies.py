"""role_has_policies: the role has attached or inline policies."""

from __future__ import annotations

import pytest

from irsa_nb.bundle import CallFailed, role_path
from tests.checks.helpers import (
    demo_docs,
    no_role_annotation,
    no_service_account,
    only,
    outcome,
    results,
)


def test_role_has_policies_lists_attached_and_inline(demo):
    row = only(demo, "role_has_policies", service_account="checkout")
    assert row.status == "PASS"
    assert "AmazonSQSFullAccess" in row.detail and "checkout-dynamodb" in row.detail
    row = only(demo, "role_has_policies", service_account="search")
    assert row.status == "FAIL"
    assert "attach-role-policy --role-name irsa-search" in row.remediation


def test_role_policy_lists_unreadable_is_error():
    docs = demo_docs()
    denied = CallFailed("An error occurred (AccessDenied) when calling the ListRolePolicies")
    docs[role_path("list-attached-role-policies", "irsa-search")] = denied
    docs[role_path("list-role-policies", "irsa-search")] = denied
    row = only(results(docs, namespace="shop", service_account="search"), "role_has_policies")
    assert row.status == "ERROR"


# The demo bundle's rows of this check, one per outcome, asserted whole (status, outcome key,
# exact detail, evidence; clean text).
DEMO_OUTCOMES = [
    (
        {"namespace": "kube-system", "service_account": "aws-node"},
        "PASS",
        "pass",
        "Role AmazonEKS_CNI_Role has AmazonEKS_CNI_Policy.",
        {"attached": ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"], "inline": []},
    ),
    (
        {"namespace": "shop", "service_account": "inventory"},
        "SKIP",
        "_invalid_role_arn",
        "The role annotation 'arn:aws:iam:::111122223333:role/irsa-inventory' is not a valid IAM "
        "role ARN, so the role cannot be looked up (see service_account_role_annotation).",
        {},
    ),
    (
        {"namespace": "shop", "service_account": "mirror"},
        "SKIP",
        "_role_unavailable",
        "Role arn:aws-cn:iam::111122223333:role/irsa-mirror could not be read, so this could not "
        "be checked (see role_exists).",
        {},
    ),
    no_service_account("shop", "order"),
    no_role_annotation("shop", "reports"),
    (
        {"namespace": "shop", "service_account": "search"},
        "FAIL",
        "none",
        "Role irsa-search has no attached or inline policies, so the pod gets no AWS permissions.",
        {"attached": [], "inline": []},
    ),
]


@pytest.mark.parametrize(
    ("where", "status", "key", "detail", "ev"), DEMO_OUTCOMES, ids=[c[2] for c in DEMO_OUTCOMES]
)
def test_each_demo_outcome_whole(demo, where, status, key, detail, ev):
    outcome(only(demo, "role_has_policies", **where), status, key, detail, ev)
